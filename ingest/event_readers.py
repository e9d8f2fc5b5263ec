"""Readers of behaviour logs: generic CSV/JSONL, Amazon reviews (2018), RetailRocket.

Each reader turns a :class:`~ingest.source.LineSource` into :class:`~ingest.records.Event` records,
or :class:`~ingest.records.BadRow` for lines it cannot use. Every reader is called as
``reader(source, **options)``; the generic formats take ``columns`` (canonical field -> the file's
column) and CSV also ``delimiter`` (None = sniffed); Amazon and RetailRocket take none. An option a
format does not take raises ConfigError.

>>> with LineSource(Path("orders.csv")) as src:                                    # doctest: +SKIP
...     events = list(EVENT_READERS["csv"](src, columns={"user_id": "customer"}))
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.schema import MAX_KEY_BYTES, check_key
from kg.ingest.records import BadRow, Event
from kg.ingest.source import LineSource
from kg.ingest.tabular import check_columns, check_delimiter, csv_rows, csv_values, json_rows, key_text, reader_options
from kg.ingest.timeparse import TimeLayoutError, time_parser, to_epoch_ms, zone

__all__ = [
    "EVENT_READERS",
    "normalise_event_type",
    "EventReader",
    "EVENT_FIELDS",
    "amazon_rows",
    "amazon_rating",
    "parse_rating",
]

EventReader = Callable[..., Iterator[Event | BadRow]]

#: canonical fields of the generic event formats (keys of a ``columns`` mapping)
EVENT_FIELDS: tuple[str, ...] = ("user_id", "item_id", "event_type", "timestamp", "rating")

_SYNONYMS: dict[str, str] = {}
for canonical, words in {
    "view": "view views viewed pv page_view pageview detail_view detail click impression visit",
    "favorite": "favorite favourite favorited favourited fav collect collected wishlist wish_list add_to_wishlist like",
    "cart": "cart add_to_cart addtocart add-to-cart carted basket add_to_basket cart_add",
    "purchase": "purchase purchased buy bought order ordered transaction checkout sale",
    "rating": "rating rate rated review reviewed",
}.items():
    for word in words.split():
        _SYNONYMS[word] = canonical


_KNOWN_TYPES: dict[str, str] = {}  # raw text seen -> canonical type (a log repeats a handful of spellings)
_KNOWN_MAX = 1024


def normalise_event_type(value: Any) -> str:
    """Map an event type or a common synonym to view/favorite/cart/purchase/rating; ValueError otherwise."""
    if type(value) is str:
        known = _KNOWN_TYPES.get(value)
        if known is not None:
            return known
        canonical = _normalise_event_type(value)
        if len(_KNOWN_TYPES) < _KNOWN_MAX:
            _KNOWN_TYPES[value] = canonical
        return canonical
    return _normalise_event_type(value)


def _normalise_event_type(value: Any) -> str:
    key = str(value or "").strip().lower().replace(" ", "_")
    if key not in _SYNONYMS:
        code = " or map codes with --event-types 0=view,1=purchase,..." if key.isdigit() else ""
        raise ValueError(f"unknown event type {str(value)[:30]!r} (want view/favorite/cart/purchase/rating{code})")
    return _SYNONYMS[key]


def parse_event_types(value: Mapping[str, str] | str | None) -> dict[str, str]:
    """``--event-types`` (``0=view,1=purchase,2=favorite,3=cart``, or a mapping of the same) as {the log's
    value: canonical type}; each target may be a type or a synonym. ConfigError naming the option else."""
    if value is None or value == "" or value == {}:
        return {}
    hint = "e.g. --event-types 0=view,1=purchase,2=favorite,3=cart"
    if isinstance(value, str):
        pairs = []
        for part in value.split(","):
            raw, sep, target = part.partition("=")
            if not sep or not raw.strip() or not target.strip():
                raise ConfigError(f"--event-types: {part.strip()[:40]!r} is not value=type", hint=hint)
            pairs.append((raw, target))
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        raise ConfigError(f"--event-types: want value=type pairs, got {type(value).__name__}", hint=hint)
    mapping: dict[str, str] = {}
    for raw, target in pairs:
        if not isinstance(target, str):
            raise ConfigError(f"--event-types: the type of {str(raw)[:20]!r} must be text", hint=hint)
        try:
            mapping[str(raw).strip()] = _normalise_event_type(target)
        except ValueError as e:
            raise ConfigError(f"--event-types {str(raw).strip()[:20]}={target.strip()[:30]}: {e}", hint=hint) from None
    return mapping


def _kind_reader(event_types: Mapping[str, str] | str | None) -> Callable[[Any], str]:
    """:func:`normalise_event_type`, looking the value up in ``--event-types`` first."""
    mapping = parse_event_types(event_types)
    if not mapping:
        return normalise_event_type

    def kind_of(value: Any) -> str:
        mapped = mapping.get(value if type(value) is str else str(value if value is not None else ""))
        if mapped is None and isinstance(value, str):
            mapped = mapping.get(value.strip())
        return mapped if mapped is not None else normalise_event_type(value)

    return kind_of


def _time_reader(time_format: str | None, tz: str | None) -> Callable[[Any], int] | None:
    """The timestamp reader for ``--time-format`` / ``--tz`` (ConfigError for a bad one); None without them."""
    if time_format is None and tz is None:
        return None
    try:
        return time_parser(time_format, zone(tz))
    except ValueError as e:
        raise ConfigError(str(e)) from None


def parse_rating(value: Any, low: float = 0, high: float = 10) -> float | None:
    """A rating from ``low`` to ``high``; None when missing (ValueError for a bad or out-of-range one)."""
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (bool, dict, list)):
        raise ValueError(f"bad rating {str(value)[:20]!r} (want a number {low:g}-{high:g})")
    try:
        rating = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"bad rating {str(value)[:20]!r} (want a number {low:g}-{high:g})") from None
    if math.isnan(rating) or not low <= rating <= high:
        raise ValueError(f"rating {value[:20] if isinstance(value, str) else value!r} out of range {low:g}-{high:g}")
    return rating


def amazon_rating(value: Any) -> float | None:
    """An Amazon star rating: 1..5 (0 and 6 are not stars); None when missing."""
    return parse_rating(value, 1, 5)


def _ids(row: dict[str, Any], user_key: str, item_key: str) -> tuple[str, str] | str:
    """(user, item) as key text, or the reason the row is bad (ValueError for malformed ids)."""
    user, item = key_text(row.get(user_key), user_key), key_text(row.get(item_key), item_key)
    if not user:
        return f"missing {user_key}"
    if not item:
        return f"missing {item_key}"
    return user, item


def _bad_event(number: int, row: dict[str, Any], reason: str, mismatch: bool = False) -> BadRow:
    """A bad row; its raw text is serialised only here, for bad rows."""
    return BadRow(number, reason, json.dumps(row, ensure_ascii=False)[:2000], mismatch)


def _event_from_row(
    number: int,
    row: dict[str, Any],
    kind_of: Callable[[Any], str] = normalise_event_type,
    when_of: Callable[[Any], int] = to_epoch_ms,
) -> Event | BadRow:
    get = row.get
    try:
        user, item = key_text(get("user_id"), "user_id"), key_text(get("item_id"), "item_id")
        if not user or not item:
            return _bad_event(number, row, "missing user_id" if not user else "missing item_id", mismatch=True)
        kind = kind_of(get("event_type"))
        at = when_of(get("timestamp"))
        raw_rating = get("rating")
        rating = None if raw_rating is None or raw_rating == "" else parse_rating(raw_rating)
    except (ValueError, TypeError) as e:
        return _bad_event(number, row, str(e), mismatch=isinstance(e, TimeLayoutError))
    if kind == "rating" and rating is None:
        return _bad_event(number, row, "rating event without a rating")
    return Event(user, item, kind, at, rating)


def _events(
    entries: Iterator[tuple[int, dict[str, Any]] | BadRow],
    kind_of: Callable[[Any], str] = normalise_event_type,
    when_of: Callable[[Any], int] = to_epoch_ms,
) -> Iterator[Event | BadRow]:
    for entry in entries:
        yield entry if isinstance(entry, BadRow) else _event_from_row(entry[0], entry[1], kind_of, when_of)


_CSV_REQUIRED = ("user_id", "item_id", "event_type", "timestamp")
_SURELY_SHORT = MAX_KEY_BYTES // 4  # a UTF-8 character is at most 4 bytes
_SECONDS_BELOW, _MS_BELOW = 10**11, 10**14  # ingest.timeparse's bounds between s, ms and µs


def _csv_key(text: str, field: str) -> str:
    """:func:`kg.ingest.tabular.key_text` of a CSV field (always text)."""
    text = text.strip()
    if len(text) > _SURELY_SHORT and (reason := check_key(text, field)):
        raise ValueError(reason)
    return text


def _csv_time(text: str) -> int:
    """:func:`kg.ingest.timeparse.to_epoch_ms`, with plain epoch seconds and ms (the common case) read as ints."""
    if text.isdigit() and text.isascii():
        number = int(text)
        if number < _SECONDS_BELOW:
            return number * 1000
        if number < _MS_BELOW:
            return number
    return to_epoch_ms(text)


def _required_column(index: int | None) -> int:
    """The position of a required column: csv_values raised for a missing one (only the rating may be absent)."""
    assert index is not None
    return index


def _csv_events(
    source: LineSource,
    delimiter: str | None,
    mapping: dict[str, str],
    kind_of: Callable[[Any], str] = normalise_event_type,
    when_of: Callable[[str], int] = _csv_time,
) -> Iterator[Event | BadRow]:
    """The rows of an events CSV as events: :func:`_event_from_row` on positional values, with no dict
    per row (the same checks, reasons and results; bad rows get their dict for the quarantine)."""
    header: list[str] = []
    at: dict[str, int | None] = {}
    for entry in csv_values(
        source, _CSV_REQUIRED, delimiter=delimiter, columns=mapping, kind="events", header_out=header
    ):
        if isinstance(entry, BadRow):
            yield entry
            continue
        if not at:  # the last column of a name wins, as in dict(zip(header, values))
            at = {name: max((i for i, h in enumerate(header) if h == name), default=None) for name in EVENT_FIELDS}
            iu, ii, ie, it = (_required_column(at[name]) for name in _CSV_REQUIRED)
            ir = at["rating"]
        number, values = entry
        try:
            user, item = _csv_key(values[iu], "user_id"), _csv_key(values[ii], "item_id")
            if not user or not item:
                yield _bad_event(
                    number,
                    dict(zip(header, values, strict=True)),
                    "missing user_id" if not user else "missing item_id",
                    mismatch=True,
                )
                continue
            kind = kind_of(values[ie])
            when = when_of(values[it])
            raw_rating = values[ir] if ir is not None else ""
            rating = parse_rating(raw_rating) if raw_rating else None
        except (ValueError, TypeError) as e:
            yield _bad_event(
                number, dict(zip(header, values, strict=True)), str(e), mismatch=isinstance(e, TimeLayoutError)
            )
            continue
        if rating is None and kind == "rating":
            yield _bad_event(number, dict(zip(header, values, strict=True)), "rating event without a rating")
            continue
        yield Event(user, item, kind, when, rating)


@reader_options("events", "csv")
def read_events_csv(
    source: LineSource,
    *,
    delimiter: str | None = None,
    columns: Mapping[str, str] | None = None,
    event_types: Mapping[str, str] | str | None = None,
    time_format: str | None = None,
    tz: str | None = None,
) -> Iterator[Event | BadRow]:
    """CSV with columns user_id, item_id, event_type, timestamp[, rating]; ``event_types`` maps the log's
    values (codes like ``0``) to types, ``time_format`` is a strptime layout, ``tz`` the zone of naive times."""
    mapping = check_columns(columns, EVENT_FIELDS, "events csv")
    check_delimiter(delimiter)
    when_of = _time_reader(time_format, tz)
    return _csv_events(source, delimiter, mapping, _kind_reader(event_types), when_of or _csv_time)


@reader_options("events", "jsonl")
def read_events_jsonl(
    source: LineSource,
    *,
    columns: Mapping[str, str] | None = None,
    event_types: Mapping[str, str] | str | None = None,
    time_format: str | None = None,
    tz: str | None = None,
) -> Iterator[Event | BadRow]:
    """JSON lines with keys user_id, item_id, event_type, timestamp[, rating]; options as for CSV."""
    mapping = check_columns(columns, EVENT_FIELDS, "events jsonl")
    return _events(
        json_rows(source, columns=mapping), _kind_reader(event_types), _time_reader(time_format, tz) or to_epoch_ms
    )


AMAZON_KEY_FIELDS = ("reviewerID", "asin", "overall", "unixReviewTime")


def _short(value: Any) -> Any:
    """A key field for the quarantine: long or nested values cut to 200 characters of JSON."""
    if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 200):
        return json.dumps(value, ensure_ascii=False)[:200]
    return value


def amazon_rows(source: LineSource) -> Iterator[BadRow | tuple[int, dict, str]]:
    """Amazon review lines as ``(line, row, raw)``, bad JSON as BadRow; ``raw`` (for the quarantine)
    holds the key fields only, never the review text."""
    for entry in json_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        yield number, row, json.dumps({k: _short(row.get(k)) for k in AMAZON_KEY_FIELDS}, ensure_ascii=False)


@reader_options("events", "amazon")
def read_amazon_reviews(source: LineSource) -> Iterator[Event | BadRow]:
    """Amazon Review Data (2018) lines: each review is a RATED and a PURCHASED event (text ignored)."""
    for entry in amazon_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row, raw = entry
        try:
            ids = _ids(row, "reviewerID", "asin")
            if isinstance(ids, str):
                yield BadRow(number, ids, raw, mismatch=True)
                continue
            at = to_epoch_ms(row.get("unixReviewTime"))
            rating = amazon_rating(row.get("overall"))
        except (ValueError, TypeError) as e:
            yield BadRow(number, str(e), raw)
            continue
        if rating is None:
            yield BadRow(number, "missing overall (rating)", raw)
            continue
        user, item = ids
        yield Event(user=user, item=item, type="rating", at=at, rating=rating)
        yield Event(user=user, item=item, type="purchase", at=at)


_RETAILROCKET = {"view": "view", "addtocart": "cart", "transaction": "purchase"}


@reader_options("events", "retailrocket")
def read_retailrocket(source: LineSource) -> Iterator[Event | BadRow]:
    """RetailRocket events.csv: timestamp,visitorid,event,itemid,transactionid."""
    for entry in csv_rows(
        source, ("timestamp", "visitorid", "event", "itemid"), delimiter=",", kind="events", fmt="retailrocket"
    ):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        raw = json.dumps(row, ensure_ascii=False)[:2000]
        try:
            ids = _ids(row, "visitorid", "itemid")
            if isinstance(ids, str):
                yield BadRow(number, ids, raw, mismatch=True)
                continue
            kind = _RETAILROCKET.get(str(row.get("event", "")).strip().lower())
            if kind is None:
                yield BadRow(
                    number, f"unknown event {str(row.get('event'))[:30]!r} (want view/addtocart/transaction)", raw
                )
                continue
            at = to_epoch_ms(row.get("timestamp"))
        except ValueError as e:
            yield BadRow(number, str(e), raw)
            continue
        yield Event(user=ids[0], item=ids[1], type=kind, at=at)


EVENT_READERS: dict[str, EventReader] = {
    "csv": read_events_csv,
    "jsonl": read_events_jsonl,
    "amazon": read_amazon_reviews,
    "retailrocket": read_retailrocket,
}
