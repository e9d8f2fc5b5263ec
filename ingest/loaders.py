"""Loaders: lists of records -> batched, idempotent ``UNWIND ... MERGE`` writes (events via the ledger)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from kg.foundation.errors import StoreError
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.cypher import CATEGORIES_MERGE, PRODUCTS_BRAND, PRODUCTS_CATEGORY, PRODUCTS_LINKS, PRODUCTS_MERGE
from kg.ingest.events_view import ViewBatch, add_view, can_create_fresh, write_view
from kg.ingest.records import Event, ProductRecord
from kg.ledger import EventLedger
from kg.store import GraphStore

__all__ = ["Loader", "EventLoader", "ProductLoader", "ledger_rows"]

logger = logging.getLogger(__name__)

_PATH_SEP = " > "


class Loader(Protocol):
    """Writes records of one kind; ``finish`` runs once after the last batch."""

    def load(self, store: GraphStore, records: Sequence[Any]) -> None: ...

    def finish(self, store: GraphStore) -> None: ...


def ledger_rows(
    events: Sequence[Event], pseudonymise: Callable[[str], str]
) -> list[tuple[str, str, str, int, float | None]]:
    """Events as ledger rows ``(pseudonym, item, type, at_ms, rating)``, in input order."""
    return [(pseudonymise(e.user), e.item, e.type, e.at, e.rating) for e in events]


class EventLoader:
    """Events -> the event ledger -> (:User)-[:VIEWED|CARTED|PURCHASED|RATED]->(:Product) edges.

    Each batch is stored in the ledger first (one transaction: new events only, pair aggregates
    updated incrementally); then every pair the batch touched is written to the graph with its
    absolute aggregates, one row per pair. A batch's cost depends on its own size, never on how
    many events a pair already has. The ledger hands the touched pairs over as row text
    (:func:`~kg.ingest.events_view.add_view`), so no Python object is built per pair on the way to the graph.

    Pipelined in three stages that run at once: the caller reads and pseudonymises records into
    ledger batches of ``ledger_batch`` events; a ledger worker runs each batch's transaction (SQLite
    works without the GIL); a graph worker writes each committed batch's edges (waiting on the
    server, also without the GIL). Both workers keep the batches' order; the caller waits only when
    more than :attr:`IN_FLIGHT` batches are on their way, and :meth:`finish` waits for all. A crash in
    between leaves committed ledger batches without their edges (and buffered rows nowhere);
    re-running the file writes them (the ledger reports every pair a batch touches, new events or not).
    """

    _CACHE = 200_000  # pseudonyms kept between batches
    #: events per ledger transaction: a commit writes every index page the batch touched, and pair
    #: keys are random, so on a large ledger bigger batches share pages (measured on 10^6 events:
    #: 5,000 per commit 66 s of ledger time, 50,000 about 21 s, 100,000 about 16 s)
    LEDGER_BATCH = 100_000
    #: the first batch is smaller, so the ledger and the graph start working early
    FIRST_LEDGER_BATCH = 20_000
    #: ledger batches handed over and not yet in the graph before the reader waits
    IN_FLIGHT = 2

    def __init__(self, pseudonymiser: Pseudonymiser, ledger: EventLedger, *, ledger_batch: int | None = None) -> None:
        self.pseudonymiser = pseudonymiser
        self.ledger = ledger
        self.ledger_batch = ledger_batch or self.LEDGER_BATCH
        self._batch_goal = min(self.ledger_batch, self.FIRST_LEDGER_BATCH)  # rows that make the next batch
        self._pseudonyms: dict[str, str] = {}
        self._buffer: list[tuple[str, str, str, int, float | None]] = []  # rows not yet handed to the ledger
        self._ledger_worker: ThreadPoolExecutor | None = None
        self._graph_worker: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[int]] = deque()  # graph writes of handed-over batches, oldest first
        self._failed = False  # a ledger batch failed: later ones are not stored
        self._create_fresh = False  # graph edges match the ledger's pairs: new pairs' edges are created

    @classmethod
    def from_settings(cls, settings: Settings) -> EventLoader:
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
        self._buffer.extend(
            [(known.get(e.user) or self._pseudonym(e.user), e.item, e.type, e.at, e.rating) for e in records]
        )
        if len(self._buffer) >= self._batch_goal:
            rows, self._buffer = self._buffer, []
            self._submit(store, rows)

    def _submit(self, store: GraphStore, rows: list[tuple[str, str, str, int, float | None]]) -> None:
        """Hand ``rows`` to the ledger's worker and their edges to the graph's worker; wait only when
        more than :attr:`IN_FLIGHT` batches are on their way (memory stays bounded)."""
        if self._ledger_worker is None:
            # before any worker touches the store; a file within one batch merges (checking costs more)
            self._create_fresh = len(rows) >= self._batch_goal and can_create_fresh(store, self.ledger)
            self._batch_goal = self.ledger_batch
            self._ledger_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-ledger")
            self._graph_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-view")
        assert self._graph_worker is not None
        # one worker each: ledger batches commit in order, and their edges are written in that order
        view = self._ledger_worker.submit(self._store_batch, rows)
        self._in_flight.append(self._graph_worker.submit(self._write_edges, store, view, self._create_fresh))
        while self._in_flight and (len(self._in_flight) > self.IN_FLIGHT or self._in_flight[0].done()):
            self._in_flight.popleft().result()  # raises a failed batch's error as soon as it is seen

    def _store_batch(self, rows: list[tuple[str, str, str, int, float | None]]) -> ViewBatch:
        """One ledger transaction (ledger worker); none runs after one failed, so nothing lands out of order."""
        if self._failed:
            raise StoreError(
                "an earlier ledger batch failed; this one was not stored",
                hint="fix the first error and re-run the ingest (it never duplicates)",
            )
        try:
            return add_view(self.ledger, rows)
        except BaseException:
            self._failed = True
            raise

    @staticmethod
    def _write_edges(store: GraphStore, view: Future[ViewBatch], create_fresh: bool) -> int:
        """The edges of one ledger batch, once its transaction has committed (graph worker)."""
        return write_view(store, view.result(), batch_size=store.batch_size, create_fresh=create_fresh)

    def finish(self, store: GraphStore) -> None:
        """Store the last rows, send the last edges; then fold the ledger's log into its file. The last
        rows go in first-batch sizes, so the graph writes one while the ledger stores the next."""
        rest, self._buffer = self._buffer, []
        step = min(self.ledger_batch, self.FIRST_LEDGER_BATCH)
        for start in range(0, len(rest), step):
            self._submit(store, rest[start : start + step])
        while self._in_flight:
            self._in_flight.popleft().result()
        store.flush()
        self.ledger.checkpoint()

    def close(self) -> None:
        """Wait for the batches still on their way (a failing run's edges may not all be sent: re-running
        the file writes them), then close the ledger."""
        self._buffer = []
        while self._in_flight:
            try:
                self._in_flight.popleft().result()
            except Exception as e:  # the run is failing already; its own error is the one raised
                logger.debug("ledger or graph batch failed while closing: %s", e)
        for worker in (self._ledger_worker, self._graph_worker):
            if worker is not None:
                worker.shutdown(wait=True)
        self._ledger_worker = self._graph_worker = None
        self.ledger.close()

    def __enter__(self) -> EventLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProductLoader:
    """Products, brands, the category tree and also-bought/viewed links."""

    def load(self, store: GraphStore, records: Sequence[ProductRecord]) -> None:
        products = [
            {"id": r.id, "props": {k: v for k, v in (("title", r.title), ("price", r.price)) if v is not None}}
            for r in records
        ]
        store.write(PRODUCTS_MERGE, products, batch_size=len(products) or 1)
        brands = [{"id": r.id, "brand": r.brand} for r in records if r.brand]
        if brands:
            store.write(PRODUCTS_BRAND, brands, batch_size=len(brands))
        categories: dict[str, dict[str, Any]] = {}
        leaves = []
        for record in records:
            for depth in range(len(record.category)):
                path = _PATH_SEP.join(record.category[: depth + 1])
                parent = _PATH_SEP.join(record.category[:depth]) if depth else None
                categories.setdefault(
                    path, {"path": path, "name": record.category[depth], "depth": depth, "parent": parent}
                )
            if record.category:
                leaves.append({"id": record.id, "path": _PATH_SEP.join(record.category)})
        if categories:
            ordered = sorted(categories.values(), key=lambda c: c["depth"])
            store.write(CATEGORIES_MERGE, ordered, batch_size=len(ordered))
        if leaves:
            store.write(PRODUCTS_CATEGORY, leaves, batch_size=len(leaves))
        for rel, attr in (("ALSO_BOUGHT", "also_bought"), ("ALSO_VIEWED", "also_viewed")):
            links = [{"id": r.id, "targets": getattr(r, attr)} for r in records if getattr(r, attr)]
            if links:
                store.write(PRODUCTS_LINKS, links, batch_size=1000, identifiers={"rel": rel})

    def finish(self, store: GraphStore) -> None:
        """Nothing to do."""
