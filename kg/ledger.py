"""The event ledger: every behaviour event once, append-only, beside the graph.

An event's identity is (pseudonymised user, item, type, time ms); a rating event also keeps its
rating. The ledger is a SQLite file in WAL mode at ``KG_HOME/ledger/<graph>.sqlite3`` (directory
mode 700, file mode 600): no extra dependency, one writer at a time while readers never wait,
indexed per-pair and per-time lookups, and ``DELETE`` + ``VACUUM`` to forget a person.

Beside the events it keeps one aggregate row per (user, item, type) pair — count, first_at,
last_at, the latest rating and its time — updated in the same transaction as the insert of a
batch's *new* events only, so the cost of an event never depends on its pair's history. The
graph's behaviour edges are a materialised view of these aggregates.

>>> ledger = EventLedger(Path("/tmp/kg-doc/ledger.sqlite3"))  # doctest: +SKIP
>>> ledger.add([("u1", "p1", "view", 1000, None)])[0].count   # doctest: +SKIP
1
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from kg.errors import ConfigError, StoreError
from kg.settings import Settings

__all__ = ["EventLedger", "LedgerEvent", "PairAggregate", "SCHEMA_VERSION"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 120_000
_MIN_SQLITE = (3, 33, 0)  # UPDATE ... FROM
_CHUNK = 900  # rows per IN (...) lookup: well under SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pairs (
    id        INTEGER PRIMARY KEY,
    user      TEXT NOT NULL,
    item      TEXT NOT NULL,
    type      TEXT NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    first_at  INTEGER,
    last_at   INTEGER,
    rating    REAL,
    rating_at INTEGER,
    batch     INTEGER,
    UNIQUE (user, item, type)
);
CREATE INDEX IF NOT EXISTS pairs_batch ON pairs (batch);
CREATE TABLE IF NOT EXISTS events (
    pair   INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    rating REAL,
    PRIMARY KEY (pair, at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS batches (
    id         INTEGER PRIMARY KEY,
    written_at INTEGER NOT NULL,
    new_events INTEGER NOT NULL
);
"""

_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS batch_in (
    seq    INTEGER PRIMARY KEY,
    user   TEXT NOT NULL CHECK (typeof(user) = 'text' AND user <> ''),
    item   TEXT NOT NULL CHECK (typeof(item) = 'text' AND item <> ''),
    type   TEXT NOT NULL CHECK (typeof(type) = 'text'),
    at     INTEGER NOT NULL CHECK (typeof(at) = 'integer'),
    rating REAL CHECK (rating IS NULL OR typeof(rating) = 'real'),
    pair   INTEGER);
CREATE TEMP TABLE IF NOT EXISTS batch_new (
    pair INTEGER, at INTEGER, rating REAL, PRIMARY KEY (pair, at)) WITHOUT ROWID;
"""

_CLEAR_TEMP = ("DELETE FROM temp.batch_in", "DELETE FROM temp.batch_new")

_BATCH_IN = "INSERT INTO temp.batch_in (user, item, type, at, rating) VALUES (?, ?, ?, ?, ?)"

# in key order: the unique index is walked once, not probed at random (pseudonyms are random text)
_NEW_PAIRS = ("INSERT OR IGNORE INTO pairs (user, item, type) "
              "SELECT user, item, type FROM temp.batch_in ORDER BY user, item, type")

# each batch row's pair id, looked up once; every later statement joins on the integer
_RESOLVE = """
UPDATE temp.batch_in SET pair = p.id
FROM pairs AS p WHERE p.user = batch_in.user AND p.item = batch_in.item AND p.type = batch_in.type
"""

_NEW_EVENTS = """
INSERT OR IGNORE INTO temp.batch_new (pair, at, rating)
SELECT b.pair, b.at, b.rating
FROM temp.batch_in AS b
WHERE NOT EXISTS (SELECT 1 FROM events AS e WHERE e.pair = b.pair AND e.at = b.at)
ORDER BY b.seq
"""

_AGGREGATE = """
UPDATE pairs SET
    count = pairs.count + a.n,
    first_at = CASE WHEN pairs.first_at IS NULL OR a.lo < pairs.first_at THEN a.lo ELSE pairs.first_at END,
    last_at = CASE WHEN pairs.last_at IS NULL OR a.hi > pairs.last_at THEN a.hi ELSE pairs.last_at END,
    batch = :batch
FROM (SELECT pair, count(*) AS n, min(at) AS lo, max(at) AS hi FROM temp.batch_new GROUP BY pair) AS a
WHERE pairs.id = a.pair
"""

# SQLite: a bare column next to max() comes from the row holding the max
_RATING = """
UPDATE pairs SET rating = r.rating, rating_at = r.at
FROM (SELECT pair, max(at) AS at, rating FROM temp.batch_new WHERE rating IS NOT NULL GROUP BY pair) AS r
WHERE pairs.id = r.pair AND (pairs.rating_at IS NULL OR r.at > pairs.rating_at)
"""

_PAIR_COLUMNS = ("p.user, p.item, p.type, p.count, p.first_at, p.last_at, p.rating, p.rating_at, "
                 "date(p.first_at / 1000.0, 'unixepoch'), date(p.last_at / 1000.0, 'unixepoch')")

# The touched pairs come out as ONE JSON text: a single sqlite3_step, run without the GIL (row by
# row, the ledger's thread would take the GIL back for every row while the caller parses the next
# batch). The rating travels as exact text: SQLite's JSON writes reals with 15 significant digits.
_TOUCHED = """
SELECT json_group_array(json_array(p.user, p.item, p.type, p.count, p.first_at, p.last_at,
                                   CASE WHEN p.rating IS NULL THEN NULL ELSE printf('%!.17g', p.rating) END,
                                   p.rating_at, date(p.first_at / 1000.0, 'unixepoch'),
                                   date(p.last_at / 1000.0, 'unixepoch')))
FROM (SELECT * FROM pairs WHERE id IN (SELECT pair FROM temp.batch_in) AND count > 0 ORDER BY id) AS p
"""


class LedgerEvent(NamedTuple):
    """One stored event (a named tuple: built straight from SQLite rows, millions per rebuild)."""

    user: str  # pseudonym
    item: str
    type: str  # view, cart, purchase, rating
    at: int  # epoch ms
    rating: float | None = None


class PairAggregate(NamedTuple):
    """The aggregate of one (user, item, type) pair; dates are UTC ``YYYY-MM-DD`` (a named tuple:
    one per touched pair per batch, so it must be cheap to build)."""

    user: str
    item: str
    type: str
    count: int
    first_at: int
    last_at: int
    rating: float | None
    rating_at: int | None
    first_date: str
    last_date: str


_pair = PairAggregate._make
_event = LedgerEvent._make


def _chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _touched(text: str) -> list[PairAggregate]:
    """The JSON of :data:`_TOUCHED` as aggregates (the rating back from its exact text)."""
    rows = json.loads(text)
    for row in rows:
        if row[6] is not None:
            row[6] = float(row[6])
    return list(map(_pair, rows))


def _create_private(path: Path) -> None:
    """The ledger's folder (700) and an empty file (600), when they do not exist yet."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _types_clause(types: Sequence[str] | None, column: str = "p.type") -> tuple[str, list[str]]:
    if not types:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(types))})", list(types)


class EventLedger:
    """Append-only store of behaviour events plus per-pair aggregates (SQLite, WAL).

    Use it from one thread at a time (any thread: the ingest loader hands :meth:`add` to a worker)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.last_new_events = 0  # events the last :meth:`add` stored (the rest were known)
        self._conn = self._connect()

    @classmethod
    def from_settings(cls, settings: Settings, *, readonly: bool = False) -> "EventLedger":
        """The ledger of the configured graph (``settings.ledger_path``)."""
        return cls(settings.ledger_path, readonly=readonly)

    open = from_settings  # ``EventLedger.open(settings)``: the same

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise ConfigError(f"SQLite {sqlite3.sqlite_version} is too old for the event ledger (needs 3.33+)",
                              hint="use a Python built with a newer SQLite")
        try:
            if self.readonly:
                if not self.path.is_file():
                    raise StoreError(f"no event ledger at {self.path}", hint="ingest events first")
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                _create_private(self.path)
                # check_same_thread off: the ingest loader runs add() in its worker thread, one call
                # at a time (it waits for each before any other use of the ledger)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if not self.readonly:
                self._prepare(conn)
            self._check_version(conn)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the event ledger {self.path}: {e}",
                             hint="check the file's permissions; restore it from a backup if it is damaged") from e
        return conn

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit is in the log (in the OS's hands) before add() returns, so it
        # survives kill -9 of the process; only a power loss or OS crash can lose the last commits,
        # never corrupt the file — and re-running the file adds them again (identity = the event).
        # FULL would also fsync every commit: a fifth of the ledger's time for that margin.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")  # forgotten people's bytes are overwritten, not left behind
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages: the pair and event indexes stay hot
        conn.execute("PRAGMA wal_autocheckpoint = 16384")  # checkpoint every ~64 MiB of log, not every batch
        conn.execute("PRAGMA journal_size_limit = 67108864")
        try:
            conn.execute("SELECT json_array(1)")
        except sqlite3.OperationalError:
            raise ConfigError(f"SQLite {sqlite3.sqlite_version} lacks JSON functions, which the event ledger uses",
                              hint="use a Python built with SQLite 3.38+ (or with JSON1)") from None
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.executescript(_TEMP)

    def _check_version(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise ConfigError(f"event ledger {self.path} has schema version {version}, this kg reads {SCHEMA_VERSION}",
                              hint="upgrade kg, or rebuild the ledger from the source files")

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        self._conn.close()

    def __enter__(self) -> "EventLedger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"the event ledger {self.path} was opened read-only")

    # -- writes ----------------------------------------------------------------------------
    def add(self, events: Iterable[tuple[str, str, str, int, float | None]]) -> list[PairAggregate]:
        """Store events ``(user, item, type, at_ms, rating)``; returns the aggregates of every pair
        the batch touched (new events or not). One transaction: events already stored (or repeated
        in the batch: the first wins) are ignored, and only the new ones update their pair's aggregate."""
        self._writable()
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.executemany(_BATCH_IN, events)
                conn.execute(_NEW_PAIRS)
                conn.execute(_RESOLVE)
                conn.execute(_NEW_EVENTS)
                new = conn.execute("INSERT INTO events (pair, at, rating) "
                                   "SELECT pair, at, rating FROM temp.batch_new").rowcount
                batch = conn.execute("INSERT INTO batches (written_at, new_events) VALUES (?, ?)",
                                     (int(time.time() * 1000), new)).lastrowid
                conn.execute(_AGGREGATE, {"batch": batch})
                conn.execute(_RATING)
                touched = _touched(conn.execute(_TOUCHED).fetchone()[0])
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.last_new_events = new
        except sqlite3.Error as e:
            raise StoreError(f"event ledger write failed: {e}", hint=f"is {self.path} writable and its disk not full?") from e
        return touched

    def delete_user(self, user: str, *, vacuum: bool = True) -> list[PairAggregate]:
        """Forget one person (pseudonym): delete their events and pairs; returns the deleted pairs so
        the caller can remove the matching graph edges. ``vacuum`` rewrites the file so nothing remains."""
        self._writable()
        conn = self._conn
        gone = list(self.pairs(users=[user]))
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM events WHERE pair IN (SELECT id FROM pairs WHERE user = ?)", (user,))
            conn.execute("DELETE FROM pairs WHERE user = ?", (user,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if vacuum and gone:
            self.vacuum()
        return gone

    def clear(self) -> None:
        """Delete every event and pair (``kg demo --fresh`` after clearing the graph), then vacuum."""
        self._writable()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("events", "pairs", "batches"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.vacuum()

    def checkpoint(self) -> None:
        """Move the write-ahead log into the file and truncate it (end of an ingest; before a file copy)."""
        self._writable()
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def vacuum(self) -> None:
        """Rewrite the file without free pages and truncate the write-ahead log."""
        self._writable()
        self._conn.execute("VACUUM")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def backup(self, target: Path) -> Path:
        """A consistent copy of the ledger while it is in use (SQLite's online backup), mode 600."""
        target = Path(target)
        _create_private(target)
        with sqlite3.connect(target) as dest:
            self._conn.backup(dest)
        dest.close()
        return target

    # -- reads -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """``{"events", "pairs", "users", "batches"}``."""
        one = lambda sql: int(self._conn.execute(sql).fetchone()[0] or 0)  # noqa: E731
        return {"events": one("SELECT count(*) FROM events"), "pairs": one("SELECT count(*) FROM pairs WHERE count > 0"),
                "users": one("SELECT count(DISTINCT user) FROM pairs WHERE count > 0"),
                "batches": one("SELECT max(id) FROM batches")}

    def pair(self, user: str, item: str, type: str) -> PairAggregate | None:
        """The aggregate of one pair, or None."""
        row = self._conn.execute(f"SELECT {_PAIR_COLUMNS} FROM pairs AS p WHERE p.user = ? AND p.item = ? "
                                 "AND p.type = ? AND p.count > 0", (user, item, type)).fetchone()
        return _pair(row) if row else None

    def pairs(self, *, types: Sequence[str] | None = None, users: Iterable[str] | None = None) -> Iterator[PairAggregate]:
        """Every pair's aggregate (streamed), optionally only some types or users."""
        where, params = _types_clause(types)
        if users is None:
            sql = f"SELECT {_PAIR_COLUMNS} FROM pairs AS p WHERE p.count > 0{where} ORDER BY p.id"
            for row in self._conn.execute(sql, params):
                yield _pair(row)
            return
        for chunk in _chunks(users):
            sql = (f"SELECT {_PAIR_COLUMNS} FROM pairs AS p WHERE p.user IN ({','.join('?' * len(chunk))}) "
                   f"AND p.count > 0{where} ORDER BY p.user, p.item, p.type")
            for row in self._conn.execute(sql, [*chunk, *params]).fetchall():
                yield _pair(row)

    def known_pairs(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Those of ``keys`` (user, item, type) that the ledger holds."""
        found: set[tuple[str, str, str]] = set()
        for chunk in _chunks(keys, 300):
            values = ",".join("(?, ?, ?)" for _ in chunk)
            sql = (f"SELECT user, item, type FROM pairs WHERE count > 0 AND (user, item, type) IN "
                   f"(VALUES {values})")
            found.update(self._conn.execute(sql, [v for key in chunk for v in key]).fetchall())
        return found

    def events_of_users(self, users: Iterable[str], *, types: Sequence[str] | None = None) -> Iterator[LedgerEvent]:
        """Every event of the given users (pseudonyms), per user in time order."""
        where, params = _types_clause(types)
        for chunk in _chunks(users):
            sql = ("SELECT p.user, p.item, p.type, e.at, e.rating FROM pairs AS p JOIN events AS e ON e.pair = p.id "
                   f"WHERE p.user IN ({','.join('?' * len(chunk))}){where} ORDER BY p.user, e.at, p.item, p.type")
            for row in self._conn.execute(sql, [*chunk, *params]).fetchall():
                yield _event(row)

    def events_between(self, start_ms: int | None = None, end_ms: int | None = None, *,
                       types: Sequence[str] | None = None) -> Iterator[LedgerEvent]:
        """Events with ``start_ms <= at < end_ms`` (either bound optional), in time order (streamed)."""
        where, params = _types_clause(types)
        sql = ("SELECT p.user, p.item, p.type, e.at, e.rating FROM events AS e JOIN pairs AS p ON p.id = e.pair "
               f"WHERE e.at >= ? AND e.at < ?{where} ORDER BY e.at, p.user, p.item, p.type")
        lo = -(2**63) if start_ms is None else int(start_ms)
        hi = 2**63 - 1 if end_ms is None else int(end_ms)
        for row in self._conn.execute(sql, [lo, hi, *params]):
            yield _event(row)

    def last_batch(self) -> int:
        """Sequence number of the newest batch (0 when none): a bookmark for :meth:`users_touched_since`."""
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM batches").fetchone()[0])

    def users_touched_since(self, batch: int) -> set[str]:
        """Users (pseudonyms) whose pairs got new events in batches after ``batch``."""
        rows = self._conn.execute("SELECT DISTINCT user FROM pairs WHERE batch > ?", (int(batch),))
        return {row[0] for row in rows}

    def disk_bytes(self) -> int:
        """Size of the ledger on disk: the file plus its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())
