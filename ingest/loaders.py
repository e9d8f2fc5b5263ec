"""Loaders: lists of records -> batched, idempotent ``UNWIND ... MERGE`` writes (events via the ledger)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from ingest.events_view import write_view
from ingest.records import Event, ProductRecord
from kg.ledger import EventLedger
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import GraphStore

__all__ = ["Loader", "EventLoader", "ProductLoader", "ledger_rows"]

logger = logging.getLogger(__name__)

_PATH_SEP = " > "


class Loader(Protocol):
    """Writes records of one kind; ``finish`` runs once after the last batch."""

    def load(self, store: GraphStore, records: Sequence[Any]) -> None: ...

    def finish(self, store: GraphStore) -> None: ...


def ledger_rows(events: Sequence[Event], pseudonymise: Callable[[str], str]) -> list[tuple[str, str, str, int, float | None]]:
    """Events as ledger rows ``(pseudonym, item, type, at_ms, rating)``, in input order."""
    return [(pseudonymise(e.user), e.item, e.type, e.at, e.rating) for e in events]


class EventLoader:
    """Events -> the event ledger -> (:User)-[:VIEWED|CARTED|PURCHASED|RATED]->(:Product) edges.

    Each batch is stored in the ledger first (one transaction: new events only, pair aggregates
    updated incrementally); then every pair the batch touched is written to the graph with its
    absolute aggregates, one row per pair. A batch's cost depends on its own size, never on how
    many events a pair already has. The ledger hands the touched pairs over as row text
    (:meth:`EventLedger.add_view`), so no Python object is built per pair on the way to the graph.

    Pipelined: records are buffered into ledger batches of ``ledger_batch`` events; a batch's ledger
    transaction runs in a worker thread (SQLite works without the GIL) while the caller reads the
    next one and encodes the previous batch's edges, so the edges of ledger batch N are sent when
    batch N+1 is handed over, and the last ones by :meth:`finish`. A crash in between leaves
    committed ledger batches without their edges (and buffered rows nowhere); re-running the file
    writes them (the ledger reports every pair a batch touches, new events or not).
    """

    _CACHE = 200_000  # pseudonyms kept between batches
    #: events per ledger transaction: a commit writes every index page the batch touched, and pair
    #: keys are random, so on a large ledger a commit costs about the same for 5,000 events as for
    #: 50,000 (measured: 10^6 events, 5,000 per commit 66 s of ledger time, 50,000 per commit 44 s)
    LEDGER_BATCH = 50_000

    def __init__(self, pseudonymiser: Pseudonymiser, ledger: EventLedger, *, ledger_batch: int | None = None) -> None:
        self.pseudonymiser = pseudonymiser
        self.ledger = ledger
        self.ledger_batch = ledger_batch or self.LEDGER_BATCH
        self._pseudonyms: dict[str, str] = {}
        self._buffer: list[tuple[str, str, str, int, float | None]] = []  # rows not yet handed to the ledger
        self._worker: ThreadPoolExecutor | None = None
        self._pending: Future[dict[str, str]] | None = None  # the ledger batch whose edges are not sent

    @classmethod
    def from_settings(cls, settings: Settings) -> "EventLoader":
        """A loader with the configured pseudonym key and the graph's ledger (``settings.ledger_path``)."""
        return cls(Pseudonymiser.from_settings(settings), EventLedger.from_settings(settings))

    def _pseudonym(self, user: str) -> str:
        found = self._pseudonyms.get(user)
        if found is None:
            if len(self._pseudonyms) >= self._CACHE:
                self._pseudonyms.clear()
            found = self._pseudonyms[user] = self.pseudonymiser.user_id(user)
        return found

    def load(self, store: GraphStore, records: Sequence[Event]) -> None:
        known = self._pseudonyms
        self._buffer.extend([(known.get(e.user) or self._pseudonym(e.user), e.item, e.type, e.at, e.rating)
                             for e in records])
        if len(self._buffer) >= self.ledger_batch:
            self._submit(store)

    def _submit(self, store: GraphStore) -> None:
        """Hand the buffered rows to the ledger's worker; send the edges of the batch before it."""
        rows, self._buffer = self._buffer, []
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-ledger")
        previous, self._pending = self._pending, None
        current = self._worker.submit(self.ledger.add_view, rows)  # one worker: batches commit in order
        try:
            if previous is not None:
                write_view(store, previous.result(), batch_size=store.batch_size)
        finally:
            self._pending = current

    def finish(self, store: GraphStore) -> None:
        """Store the last rows, send the last edges; then fold the ledger's log into its file."""
        if self._buffer:
            self._submit(store)
        previous, self._pending = self._pending, None
        if previous is not None:
            write_view(store, previous.result(), batch_size=store.batch_size)
        self.ledger.checkpoint()

    def close(self) -> None:
        """Wait for a ledger batch still running (its edges are not sent: the run did not finish), then
        close the ledger."""
        self._buffer = []
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                pending.result()
            except Exception as e:  # the run is failing already; its own error is the one raised
                logger.debug("ledger batch failed while closing: %s", e)
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        self.ledger.close()

    def __enter__(self) -> "EventLoader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
