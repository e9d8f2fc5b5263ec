"""Build a :class:`~profiles.data.ShopData` from a kg installation: events from the event ledger (every
event with its time), catalogue and review aspects from the graph.

The ledger is read, never written; the graph is read with the queries of :mod:`kg.profiles.cypher`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from kg.foundation.settings import Settings
from kg.ledger import EventLedger
from kg.profiles.cypher import (
    ALSO_BOUGHT,
    ASPECTS_OF_PRODUCTS,
    CATALOGUE,
    CATALOGUE_OF,
    CATEGORY_PARENTS,
    MENTIONS_OF_USERS,
    PARENTS_OF,
    PRODUCT_ASPECTS,
    USER_MENTIONS,
)
from kg.profiles.data import EVENT_TYPES, AspectSignals, Catalogue, Interactions, ShopData
from kg.store import GraphStore, batched

__all__ = ["GraphCatalogue", "load_shop", "load_interactions", "load_catalogue", "load_aspects"]

logger = logging.getLogger(__name__)


def load_interactions(settings: Settings, *, products: Iterable[str] = ()) -> Interactions:
    """Every event in the ledger, in time order. ``products`` are added to the item list (no events)."""
    path = settings.ledger_path
    if not path.exists():
        return Interactions.from_rows([], items=list(products))
    with EventLedger(path, readonly=True) as ledger:
        rows = [(e.user, e.item, e.type, e.at, e.rating) for e in ledger.events_between() if e.type in EVENT_TYPES]
    return Interactions.from_rows(rows, items=sorted(set(products)))


def _add_products(catalogue: Catalogue, rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        pid = row["id"]
        if row.get("brand"):
            catalogue.brand_of[pid] = row["brand"]
        if row.get("category"):
            catalogue.category_of[pid] = row["category"]
        if row.get("title"):
            catalogue.title_of[pid] = row["title"]


def _add_aspects(product_aspects: dict[str, dict[str, tuple[int, float]]], rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        product_aspects.setdefault(row["product"], {})[row["aspect"]] = (
            int(row.get("mentions") or 0),
            float(row.get("score") or 0.0),
        )


class GraphCatalogue(Catalogue):
    """The catalogue read from the graph product by product, when :meth:`require` names them (``kg update``:
    the products of the touched users' events and of their candidates, not the whole shop). Fills
    ``product_aspects`` (review aggregates) for the same products; ALSO_BOUGHT links are not read."""

    def __init__(
        self, store: GraphStore, product_aspects: dict[str, dict[str, tuple[int, float]]], *, batch: int = 2000
    ) -> None:
        super().__init__()
        self.store, self.product_aspects, self.batch = store, product_aspects, batch
        self.loaded: set[str] = set()
        self._categories: set[str] = set()

    def require(self, products: Sequence[str]) -> None:
        missing = [p for p in dict.fromkeys(products) if p not in self.loaded]
        self.loaded.update(missing)
        for chunk in batched(missing, self.batch):
            _add_products(self, self.store.query(CATALOGUE_OF, ids=chunk))
            _add_aspects(self.product_aspects, self.store.query(ASPECTS_OF_PRODUCTS, ids=chunk))
        todo = sorted({self.category_of[p] for p in missing if p in self.category_of} - self._categories)
        while todo:  # up the tree, one level per query
            self._categories.update(todo)
            parents = {row["path"]: row["parent"] for row in self.store.query(PARENTS_OF, paths=todo)}
            self.parent_of.update(parents)
            todo = sorted(set(parents.values()) - self._categories)


def load_catalogue(store: GraphStore) -> Catalogue:
    """Brand, leaf category and title of every product; the category tree; ALSO_BOUGHT links."""
    catalogue = Catalogue()
    _add_products(catalogue, store.query(CATALOGUE))
    catalogue.parent_of = {row["path"]: row["parent"] for row in store.query(CATEGORY_PARENTS)}
    catalogue.also_bought = [(row["source"], row["target"]) for row in store.query(ALSO_BOUGHT)]
    return catalogue


def _user_mention_rows(store: GraphStore, users: list[str] | None) -> Iterator[dict[str, Any]]:
    if users is None:
        yield from store.query(USER_MENTIONS)
        return
    for start in range(0, len(users), 2000):
        yield from store.query(MENTIONS_OF_USERS, users=users[start : start + 2000])


def load_aspects(store: GraphStore, *, users: list[str] | None = None, products: bool = True) -> AspectSignals:
    """Each user's aspect mentions (with the review's time; only ``users``' when given) and each product's
    aspect aggregates (unless not ``products``)."""
    signals = AspectSignals()
    for row in _user_mention_rows(store, users):
        if row.get("sentiment") is None:
            continue
        at = row.get("at")
        signals.user_mentions.append(
            (row["user"], row["aspect"], float(row["sentiment"]), None if at is None else int(at))
        )
    if products:
        _add_aspects(signals.product_aspects, store.query(PRODUCT_ASPECTS))
    return signals


def load_shop(store: GraphStore, settings: Settings, *, unseen_products: bool = False) -> ShopData:
    """The whole shop as the profile code reads it. Items are the products with events, plus every
    catalogued product when ``unseen_products`` (they can then be ranked by catalogue signals)."""
    started = time.perf_counter()
    catalogue = load_catalogue(store)
    interactions = load_interactions(settings, products=catalogue.category_of.keys() if unseen_products else ())
    aspects = load_aspects(store)
    logger.info(
        "loaded %d events, %d users, %d items, %d aspect mentions in %.1f s",
        interactions.n_events,
        interactions.n_users,
        interactions.n_items,
        len(aspects.user_mentions),
        time.perf_counter() - started,
    )
    return ShopData(interactions=interactions, catalogue=catalogue, aspects=aspects)
