"""Readers of behaviour logs: generic CSV/JSONL, Amazon reviews (2018), RetailRocket.

Each reader turns a :class:`~ingest.source.LineSource` into :class:`~ingest.records.Event` records,
or :class:`~ingest.records.BadRow` for lines it cannot use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ingest.records import BadRow, Event
from ingest.source import LineSource
from ingest.tabular import clean_text, csv_rows, json_rows
from ingest.timeparse import to_epoch_ms

__all__ = ["EVENT_READERS", "normalise_event_type", "EventReader"]

EventReader = Callable[[LineSource], Iterator[Event | BadRow]]

_SYNONYMS: dict[str, str] = {}
for canonical, words in {
    "view": "view views viewed page_view pageview detail_view detail click impression visit",
    "cart": "cart add_to_cart addtocart add-to-cart carted basket add_to_basket cart_add",
    "purchase": "purchase purchased buy bought order ordered transaction checkout sale",
    "rating": "rating rate rated review reviewed",
}.items():
    for word in words.split():
        _SYNONYMS[word] = canonical


def normalise_event_type(value: Any) -> str:
    """Map an event type or a common synonym to view/cart/purchase/rating; ValueError otherwise."""
    key = str(value or "").strip().lower().replace(" ", "_")
    if key not in _SYNONYMS:
        raise ValueError(f"unknown event type {str(value)[:30]!r} (want view/cart/purchase/rating)")
    return _SYNONYMS[key]


def _rating(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    rating = float(value)
    if not 0 <= rating <= 10:
        raise ValueError(f"rating {value!r} out of range")
    return rating


def _event_from_row(number: int, row: dict[str, Any]) -> Event | BadRow:
    def bad(reason: str) -> BadRow:  # the raw row is serialised only for bad rows
        return BadRow(number, reason, json.dumps(row, ensure_ascii=False))

    user, item = clean_text(row.get("user_id")), clean_text(row.get("item_id"))
    if not user:
        return bad("missing user_id")
    if not item:
        return bad("missing item_id")
    try:
        kind = normalise_event_type(row.get("event_type"))
        at = to_epoch_ms(row.get("timestamp"))
        rating = _rating(row.get("rating"))
    except (ValueError, TypeError) as e:
        return bad(str(e))
    if kind == "rating" and rating is None:
        return bad("rating event without a rating")
    return Event(user=user, item=item, type=kind, at=at, rating=rating)


def read_events_csv(source: LineSource) -> Iterator[Event | BadRow]:
    """CSV with columns user_id, item_id, event_type, timestamp[, rating]."""
    for entry in csv_rows(source, ("user_id", "item_id", "event_type", "timestamp")):
        if isinstance(entry, BadRow):
            yield entry
        else:
            number, row = entry
            yield _event_from_row(number, row)


def read_events_jsonl(source: LineSource) -> Iterator[Event | BadRow]:
    """JSON lines with keys user_id, item_id, event_type, timestamp[, rating]."""
    for entry in json_rows(source):
        if isinstance(entry, BadRow):
            yield entry
        else:
            number, row = entry
            yield _event_from_row(number, row)


AMAZON_KEY_FIELDS = ("reviewerID", "asin", "overall", "unixReviewTime")


def amazon_rows(source: LineSource) -> Iterator[BadRow | tuple[int, dict, str]]:
    """Amazon review lines as ``(line, row, raw)``, bad JSON as BadRow; ``raw`` (for the quarantine)
    holds the key fields only, never the review text."""
    for entry in json_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        yield number, row, json.dumps({k: row.get(k) for k in AMAZON_KEY_FIELDS})


def read_amazon_reviews(source: LineSource) -> Iterator[Event | BadRow]:
    """Amazon Review Data (2018) lines: each review is a RATED and a PURCHASED event (text ignored)."""
    for entry in amazon_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row, raw = entry
        user, item = clean_text(row.get("reviewerID")), clean_text(row.get("asin"))
        if not user or not item:
            yield BadRow(number, "missing reviewerID" if not user else "missing asin", raw)
            continue
        try:
            at = to_epoch_ms(row.get("unixReviewTime"))
            rating = _rating(row.get("overall"))
        except (ValueError, TypeError) as e:
            yield BadRow(number, str(e), raw)
            continue
        if rating is None:
            yield BadRow(number, "missing overall (rating)", raw)
            continue
        yield Event(user=user, item=item, type="rating", at=at, rating=rating)
        yield Event(user=user, item=item, type="purchase", at=at)


_RETAILROCKET = {"view": "view", "addtocart": "cart", "transaction": "purchase"}


def read_retailrocket(source: LineSource) -> Iterator[Event | BadRow]:
    """RetailRocket events.csv: timestamp,visitorid,event,itemid,transactionid."""
    for entry in csv_rows(source, ("timestamp", "visitorid", "event", "itemid")):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        raw = json.dumps(row)
        kind = _RETAILROCKET.get(str(row.get("event", "")).strip().lower())
        if kind is None:
            yield BadRow(number, f"unknown event {row.get('event')!r} (want view/addtocart/transaction)", raw)
            continue
        user, item = clean_text(row.get("visitorid")), clean_text(row.get("itemid"))
        if not user or not item:
            yield BadRow(number, "missing visitorid" if not user else "missing itemid", raw)
            continue
        try:
            at = to_epoch_ms(row.get("timestamp"))
        except ValueError as e:
            yield BadRow(number, str(e), raw)
            continue
        yield Event(user=user, item=item, type=kind, at=at)


EVENT_READERS: dict[str, EventReader] = {
    "csv": read_events_csv,
    "jsonl": read_events_jsonl,
    "amazon": read_amazon_reviews,
    "retailrocket": read_retailrocket,
}
