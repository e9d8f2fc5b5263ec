"""Loaders: lists of records -> batched, idempotent ``UNWIND ... MERGE`` writes."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from ingest.records import EVENT_TYPES, Event, ProductRecord
from kg.privacy import Pseudonymiser
from kg.store import GraphStore

__all__ = ["Loader", "EventLoader", "ProductLoader", "event_rows"]

logger = logging.getLogger(__name__)

_PATH_SEP = " > "


class Loader(Protocol):
    """Writes records of one kind; ``finish`` runs once after the last batch."""

    def load(self, store: GraphStore, records: Sequence[Any]) -> None: ...

    def finish(self, store: GraphStore) -> None: ...


def event_rows(events: Sequence[Event], pseudonymise: Pseudonymiser) -> dict[str, list[dict[str, Any]]]:
    """Group events per relationship type and (user, item): distinct times, latest rating."""
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in events:
        key = (EVENT_TYPES[event.type], event.user, event.item)
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {"times": set(), "rating": None, "rating_at": None}
        entry["times"].add(event.at)
        if event.rating is not None and (entry["rating_at"] is None or event.at >= entry["rating_at"]):
            entry["rating"], entry["rating_at"] = event.rating, event.at
    per_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    users: dict[str, str] = {}
    for (rel, user, item), entry in grouped.items():
        if user not in users:
            users[user] = pseudonymise.user_id(user)
        per_type[rel].append({"user": users[user], "item": item, "times": sorted(entry["times"]),
                              "rating": entry["rating"], "rating_at": entry["rating_at"]})
    return per_type


class EventLoader:
    """Aggregates events into (:User)-[:VIEWED|CARTED|PURCHASED|RATED]->(:Product) edges."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        self.pseudonymiser = pseudonymiser

    def load(self, store: GraphStore, records: Sequence[Event]) -> None:
        for rel, rows in sorted(event_rows(records, self.pseudonymiser).items()):
            store.write("events_merge", rows, batch_size=len(rows) or 1, identifiers={"rel": rel})

    def finish(self, store: GraphStore) -> None:
        """Nothing to do: events are complete after each batch."""


class ProductLoader:
    """Products, brands, the category tree and also-bought/viewed links."""

    def load(self, store: GraphStore, records: Sequence[ProductRecord]) -> None:
        products = [{"id": r.id, "props": {k: v for k, v in (("title", r.title), ("price", r.price))
                                           if v is not None}} for r in records]
        store.write("products_merge", products, batch_size=len(products) or 1)
        brands = [{"id": r.id, "brand": r.brand} for r in records if r.brand]
        if brands:
            store.write("products_brand", brands, batch_size=len(brands))
        categories: dict[str, dict[str, Any]] = {}
        leaves = []
        for record in records:
            for depth in range(len(record.category)):
                path = _PATH_SEP.join(record.category[: depth + 1])
                parent = _PATH_SEP.join(record.category[:depth]) if depth else None
                categories.setdefault(path, {"path": path, "name": record.category[depth], "depth": depth,
                                             "parent": parent})
            if record.category:
                leaves.append({"id": record.id, "path": _PATH_SEP.join(record.category)})
        if categories:
            ordered = sorted(categories.values(), key=lambda c: c["depth"])
            store.write("categories_merge", ordered, batch_size=len(ordered))
        if leaves:
            store.write("products_category", leaves, batch_size=len(leaves))
        for rel, attr in (("ALSO_BOUGHT", "also_bought"), ("ALSO_VIEWED", "also_viewed")):
            links = [{"id": r.id, "targets": getattr(r, attr)} for r in records if getattr(r, attr)]
            if links:
                store.write("products_links", links, batch_size=1000, identifiers={"rel": rel})

    def finish(self, store: GraphStore) -> None:
        """Nothing to do."""
