"""Readers of review files: Amazon Review Data (2018) JSON lines, generic CSV and JSON lines.

Generic columns: ``review_id`` (optional), ``user_id``, ``item_id``, ``rating`` (optional, 0-10),
``text``, ``timestamp`` (ISO-8601 or epoch s/ms). Lines that cannot be used become
:class:`~ingest.records.BadRow` (quarantined by the runner). Empty text is *not* bad: the review
node is still written, it just has no aspects. Non-UTF-8 bytes are replaced by the line source.
Amazon ratings are stars (1-5); ids and ``review_id`` are keys, so a JSON object/array given as one,
or one over :data:`kg.foundation.schema.MAX_KEY_BYTES`, quarantines the row. Readers are called as
``reader(source, **options)``: csv takes ``delimiter`` and ``columns``, jsonl ``columns``, amazon none.

Example:
    >>> from kg.ingest.source import LineSource
    >>> with LineSource(Path("reviews.csv")) as src:          # doctest: +SKIP
    ...     records = list(REVIEW_READERS["csv"](src))
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from kg.ingest.event_readers import amazon_rows, parse_rating
from kg.ingest.records import BadRow
from kg.ingest.source import LineSource
from kg.ingest.tabular import check_columns, checked_csv_rows, json_rows, key_text, reader_options
from kg.ingest.timeparse import to_epoch_ms

__all__ = ["REVIEW_READERS", "ReviewRecord", "ReviewReader", "REVIEW_FIELDS"]

#: canonical fields of the generic review formats (keys of a ``columns`` mapping)
REVIEW_FIELDS: tuple[str, ...] = ("review_id", "user_id", "item_id", "rating", "text", "timestamp")


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One review as read; ``user`` is the raw id (the loader pseudonymises it)."""

    user: str
    item: str
    at: int  # epoch milliseconds
    text: str
    rating: float | None = None
    review_id: str | None = None


ReviewReader = Callable[..., Iterator[ReviewRecord | BadRow]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"text is a {type(value).__name__}, not a string")
    return value


def _record(
    number: int,
    row: dict[str, Any],
    raw: str,
    *,
    user_key: str,
    item_key: str,
    text_key: str,
    time_key: str,
    rating_key: str,
    id_key: str | None,
    stars: tuple[float, float] = (0, 10),
) -> ReviewRecord | BadRow:
    try:
        user, item = key_text(row.get(user_key), user_key), key_text(row.get(item_key), item_key)
        if not user:
            return BadRow(number, f"missing {user_key}", raw, mismatch=True)
        if not item:
            return BadRow(number, f"missing {item_key}", raw, mismatch=True)
        at = to_epoch_ms(row.get(time_key))
        rating = parse_rating(row.get(rating_key), *stars)
        text = _text(row.get(text_key))
        review_id = key_text(row.get(id_key), id_key) if id_key else None
    except (ValueError, TypeError) as e:
        return BadRow(number, str(e), raw)
    return ReviewRecord(user=user, item=item, at=at, text=text, rating=rating, review_id=review_id)


class _Keys(TypedDict):
    """The field names :func:`_record` reads a layout's rows by."""

    user_key: str
    item_key: str
    text_key: str
    time_key: str
    rating_key: str
    id_key: str | None


_GENERIC: _Keys = {
    "user_key": "user_id",
    "item_key": "item_id",
    "text_key": "text",
    "time_key": "timestamp",
    "rating_key": "rating",
    "id_key": "review_id",
}


def _generic_records(entries: Iterator[Any]) -> Iterator[ReviewRecord | BadRow]:
    """Rows of the generic csv/jsonl layout as records; bad rows pass through."""
    for entry in entries:
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        yield _record(number, row, json.dumps(row, ensure_ascii=False)[:2000], **_GENERIC)


@reader_options("reviews", "csv")
def read_reviews_csv(
    source: LineSource, *, delimiter: str | None = None, columns: Mapping[str, str] | None = None
) -> Iterator[ReviewRecord | BadRow]:
    """CSV with a header holding user_id, item_id, text, timestamp[, rating][, review_id]."""
    required = ("user_id", "item_id", "text", "timestamp")
    return _generic_records(
        checked_csv_rows(source, required, REVIEW_FIELDS, kind="reviews", delimiter=delimiter, columns=columns)
    )


@reader_options("reviews", "jsonl")
def read_reviews_jsonl(
    source: LineSource, *, columns: Mapping[str, str] | None = None
) -> Iterator[ReviewRecord | BadRow]:
    """JSON lines with keys user_id, item_id, text, timestamp[, rating][, review_id]."""
    mapping = check_columns(columns, REVIEW_FIELDS, "reviews jsonl")
    return _generic_records(json_rows(source, columns=mapping))


@reader_options("reviews", "amazon")
def read_reviews_amazon(source: LineSource) -> Iterator[ReviewRecord | BadRow]:
    """Amazon Review Data (2018): reviewerID, asin, overall, reviewText, unixReviewTime.

    Only ``reviewText`` is analysed: the ``summary`` headline is often generated from the rating
    ("Five Stars") and would leak the label into the sentiment.
    """
    for entry in amazon_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row, raw = entry
        rec = _record(
            number,
            row,
            raw,
            user_key="reviewerID",
            item_key="asin",
            text_key="reviewText",
            time_key="unixReviewTime",
            rating_key="overall",
            id_key=None,
            stars=(1, 5),
        )
        if isinstance(rec, ReviewRecord) and rec.rating is None:
            rec = BadRow(number, "missing overall (rating)", raw)
        yield rec


REVIEW_READERS: dict[str, ReviewReader] = {
    "amazon": read_reviews_amazon,
    "csv": read_reviews_csv,
    "jsonl": read_reviews_jsonl,
}
