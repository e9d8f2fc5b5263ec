"""The event ledger: every behaviour event once, append-only, beside the graph.

An event's identity is (pseudonymised user, item, type, time ms); a rating event also keeps its
rating. The ledger is a SQLite file in WAL mode at ``KG_HOME/ledger/<graph>.sqlite3`` (directory
mode 700, file mode 600): no extra dependency, one writer at a time while readers never wait,
indexed per-pair and per-time lookups, and ``DELETE`` + ``VACUUM`` to forget a person.

Beside the events it keeps one aggregate row per (user, item, type) pair — count, first_at,
last_at, the latest rating and its time — updated in the same transaction as the insert of a
batch's *new* events only, so the cost of an event never depends on its pair's history. The
graph's behaviour edges are a materialised view of these aggregates (shaped by ``kg.ingest.events_view``).

:class:`EventLedger` is a thin facade, composed of one module per job, each working on the one
connection it owns: :mod:`~kg.ledger.schema` (tables, version, migration) and
:mod:`~kg.ledger.connection` (opening, lock retries, maintenance); :mod:`~kg.ledger.writes` (a
:class:`~kg.ledger.writes.BatchWriter`, the only part with state: its cached name ids);
:mod:`~kg.ledger.reads` and :mod:`~kg.ledger.forgetting` (functions of a connection). Composition
rather than mixins: every job can be read, and tested, on a bare ``sqlite3`` connection, and no
method depends on attributes another class happens to set. The records it returns are in
:mod:`~kg.ledger.records`.

>>> ledger = EventLedger(Path("/tmp/kg-doc/ledger.sqlite3"))  # doctest: +SKIP
>>> ledger.add([("u1", "p1", "view", 1000, None)])[0].count   # doctest: +SKIP
1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Self

from kg.foundation.errors import StoreError
from kg.foundation.settings import Settings
from kg.ledger import connection, forgetting, reads
from kg.ledger.records import LedgerEvent, PairAggregate, TouchedJson
from kg.ledger.schema import SCHEMA_VERSION
from kg.ledger.writes import BatchWriter, EventRow

__all__ = ["SCHEMA_VERSION", "EventLedger", "EventRow", "LedgerEvent", "PairAggregate", "TouchedJson"]


class EventLedger:
    """Append-only store of behaviour events plus per-pair aggregates (SQLite, WAL).

    Use it from one thread at a time (any thread: the ingest loader hands :meth:`add` to a worker)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._conn = connection.connect(self.path, readonly=readonly)
        self._writer = BatchWriter(self._conn, self.path)

    @classmethod
    def from_settings(cls, settings: Settings, *, readonly: bool = False) -> EventLedger:
        """The ledger of the configured graph (``settings.ledger_path``)."""
        return cls(settings.ledger_path, readonly=readonly)

    open = from_settings  # ``EventLedger.open(settings)``: the same

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"the event ledger {self.path} was opened read-only")

    # -- writes (kg.ledger.writes) ---------------------------------------------------------
    @property
    def last_new_events(self) -> int:
        """Events the last :meth:`add` or :meth:`add_json` stored (the rest were known)."""
        return self._writer.last_new_events

    def add(self, events: Iterable[EventRow]) -> list[PairAggregate]:
        """Store events ``(user, item, type, at_ms, rating)``; returns the aggregates of every pair
        the batch touched (new events or not). One transaction: events already stored (or repeated
        in the batch: the first wins) are ignored, and only the new ones update their pair's aggregate."""
        self._writable()
        return self._writer.add(events)

    def add_json(self, events: Iterable[EventRow], fields: Sequence[str], separator: str) -> TouchedJson:
        """:meth:`add`, with the touched pairs returned as ``{type: text}``, split by whether the ledger held
        the pair before this batch: each text holds one JSON array of ``fields`` (:class:`PairAggregate`
        field names) per pair, joined by ``separator`` (one control character). SQLite builds the texts in
        one step: the ingest path, where per-pair Python objects would cost more than the ledger."""
        self._writable()
        return self._writer.add_json(events, fields, separator)

    # -- forgetting (kg.ledger.forgetting) -------------------------------------------------
    def delete_user(self, user: str, *, vacuum: bool = True) -> list[PairAggregate]:
        """Forget one person (pseudonym): delete their events, pairs and name; returns the deleted pairs
        so the caller can remove the matching graph edges. ``vacuum`` rewrites the file so nothing remains."""
        self._writable()
        gone = list(self.pairs(users=[user]))
        if forgetting.delete_user(self._conn, user):
            self._writer.forget_ids()
        if vacuum and gone:
            self.vacuum()
        return gone

    def clear(self) -> None:
        """Delete every event, pair and name (``kg demo --fresh`` after clearing the graph), then vacuum."""
        self._writable()
        forgetting.clear(self._conn)
        self._writer.forget_ids()
        self.vacuum()

    # -- the file (kg.ledger.connection) ---------------------------------------------------
    def checkpoint(self) -> None:
        """Move the write-ahead log into the file and truncate it (end of an ingest; before a file copy)."""
        self._writable()
        connection.checkpoint(self._conn)

    def vacuum(self) -> None:
        """Rewrite the file without free pages and truncate the write-ahead log."""
        self._writable()
        connection.vacuum(self._conn)

    def backup(self, target: Path) -> Path:
        """A consistent copy of the ledger while it is in use (SQLite's online backup), mode 600."""
        return connection.backup(self._conn, target)

    def disk_bytes(self) -> int:
        """Size of the ledger on disk: the file plus its write-ahead log."""
        return connection.disk_bytes(self.path)

    # -- reads (kg.ledger.reads) -----------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """``{"events", "pairs", "users", "batches"}``."""
        return reads.counts(self._conn)

    def pair_counts(self) -> dict[str, int]:
        """Pairs (with events) per event type: what the graph view should hold, one edge each."""
        return reads.pair_counts(self._conn)

    def pair(self, user: str, item: str, type: str) -> PairAggregate | None:
        """The aggregate of one pair, or None."""
        return reads.pair(self._conn, user, item, type)

    def pairs(
        self, *, types: Sequence[str] | None = None, users: Iterable[str] | None = None
    ) -> Iterator[PairAggregate]:
        """Every pair's aggregate (streamed), optionally only some types or users."""
        return reads.pairs(self._conn, types=types, users=users)

    def known_pairs(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Those of ``keys`` (user, item, type) that the ledger holds."""
        return reads.known_pairs(self._conn, keys)

    def events_of_users(self, users: Iterable[str], *, types: Sequence[str] | None = None) -> Iterator[LedgerEvent]:
        """Every event of the given users (pseudonyms), per user in time order."""
        return reads.events_of_users(self._conn, users, types=types)

    def events_between(
        self, start_ms: int | None = None, end_ms: int | None = None, *, types: Sequence[str] | None = None
    ) -> Iterator[LedgerEvent]:
        """Events with ``start_ms <= at < end_ms`` (either bound optional), in time order (streamed)."""
        return reads.events_between(self._conn, start_ms, end_ms, types=types)

    def last_batch(self) -> int:
        """Sequence number of the newest batch (0 when none): a bookmark for :meth:`users_touched_since`."""
        return reads.last_batch(self._conn)

    def users_touched_since(self, batch: int) -> set[str]:
        """Users (pseudonyms) whose pairs got new events in batches after ``batch``."""
        return reads.users_touched_since(self._conn, batch)

    def items_touched_since(self, batch: int) -> set[str]:
        """Items whose pairs got new events in batches after ``batch``."""
        return reads.items_touched_since(self._conn, batch)

    def events_touched_since(self, batch: int) -> Iterator[LedgerEvent]:
        """Every event of the pairs that got new events in batches after ``batch`` (their older events too)."""
        return reads.events_touched_since(self._conn, batch)

    def batch_written_at(self, batch: int) -> int | None:
        """When batch ``batch`` was written (epoch ms), or None when the ledger holds no such batch."""
        return reads.batch_written_at(self._conn, batch)
