"""The event ledger: every behaviour event once, append-only, beside the graph.

An event's identity is (pseudonymised user, item, type, time ms); a rating event also keeps its
rating. The ledger is a SQLite file in WAL mode at ``KG_HOME/ledger/<graph>.sqlite3`` (directory
mode 700, file mode 600): no extra dependency, one writer at a time while readers never wait,
indexed per-pair and per-time lookups, and ``DELETE`` + ``VACUUM`` to forget a person.

Beside the events it keeps one aggregate row per (user, item, type) pair — count, first_at,
last_at, the latest rating and its time — updated in the same transaction as the insert of a
batch's *new* events only, so the cost of an event never depends on its pair's history. The
graph's behaviour edges are a materialised view of these aggregates.

Schema 2 stores names once: ``users``, ``items`` and ``kinds`` map each pseudonym, item id and
event type to a small integer, and pairs and events are keyed by those integers (a quarter of
the bytes per event of schema 1, which repeated the 32-character pseudonym in every pair key).
A schema-1 file is upgraded in place, once, in one transaction, when it is first opened.

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

from kg.foundation.errors import ConfigError, StoreError
from kg.foundation.settings import Settings

__all__ = ["EventLedger", "LedgerEvent", "PairAggregate", "SCHEMA_VERSION", "VIEW_FIELDS", "VIEW_SEPARATOR",
           "ViewBatch"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_BUSY_TIMEOUT_MS = 120_000
_MIN_SQLITE = (3, 38, 0)  # the ->> JSON operator, UPDATE ... FROM, upsert
_CHUNK = 900  # rows per IN (...) lookup: well under SQLite's variable limit
_NAME_CACHE = 500_000  # names per dictionary kept in memory between batches
_DICTIONARIES = ("users", "items", "kinds")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', 0);
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, batch INTEGER);
CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS pairs (
    user      INTEGER NOT NULL,
    item      INTEGER NOT NULL,
    type      INTEGER NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    first_at  INTEGER,
    last_at   INTEGER,
    rating    REAL,
    rating_at INTEGER,
    batch     INTEGER,
    created_batch INTEGER,  -- the batch that gave the pair its first event (NULL: before 0.4)
    PRIMARY KEY (user, item, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    user   INTEGER NOT NULL,
    item   INTEGER NOT NULL,
    type   INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    rating REAL,
    PRIMARY KEY (user, item, type, at)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    id         INTEGER PRIMARY KEY,
    written_at INTEGER NOT NULL,
    new_events INTEGER NOT NULL
);
"""

# Schema 1 -> 2, inside one transaction (a crash leaves schema 1 untouched). Dictionary ids follow
# the order of first appearance, so pairs() keeps listing pairs in the order they were created.
_MIGRATE_1_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 0);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, batch INTEGER);
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
INSERT INTO users (name, batch) SELECT user, max(batch) FROM pairs GROUP BY user ORDER BY min(id);
INSERT INTO items (name) SELECT item FROM pairs GROUP BY item ORDER BY min(id);
INSERT INTO kinds (name) SELECT type FROM pairs GROUP BY type ORDER BY min(id);
CREATE TABLE pairs_v2 (
    user INTEGER NOT NULL, item INTEGER NOT NULL, type INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
    first_at INTEGER, last_at INTEGER, rating REAL, rating_at INTEGER, batch INTEGER,
    PRIMARY KEY (user, item, type)
) WITHOUT ROWID;
CREATE TEMP TABLE pair_ids (old INTEGER PRIMARY KEY, user INTEGER, item INTEGER, type INTEGER);
INSERT INTO temp.pair_ids (old, user, item, type)
    SELECT p.id, u.id, i.id, k.id FROM pairs AS p
    JOIN users AS u ON u.name = p.user JOIN items AS i ON i.name = p.item JOIN kinds AS k ON k.name = p.type;
INSERT INTO pairs_v2 (user, item, type, count, first_at, last_at, rating, rating_at, batch)
    SELECT n.user, n.item, n.type, p.count, p.first_at, p.last_at, p.rating, p.rating_at, p.batch
    FROM pairs AS p JOIN temp.pair_ids AS n ON n.old = p.id ORDER BY n.user, n.item, n.type;
CREATE TABLE events_v2 (
    user INTEGER NOT NULL, item INTEGER NOT NULL, type INTEGER NOT NULL, at INTEGER NOT NULL, rating REAL,
    PRIMARY KEY (user, item, type, at)
) WITHOUT ROWID;
INSERT INTO events_v2 (user, item, type, at, rating)
    SELECT n.user, n.item, n.type, e.at, e.rating
    FROM events AS e JOIN temp.pair_ids AS n ON n.old = e.pair ORDER BY n.user, n.item, n.type, e.at;
DROP TABLE temp.pair_ids;
DROP TABLE events;
DROP TABLE pairs;
ALTER TABLE pairs_v2 RENAME TO pairs;
ALTER TABLE events_v2 RENAME TO events;
"""

_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS batch_in (
    seq    INTEGER PRIMARY KEY,
    user   INTEGER NOT NULL,
    item   INTEGER NOT NULL,
    type   INTEGER NOT NULL,
    at     INTEGER NOT NULL CHECK (typeof(at) = 'integer'),
    rating REAL CHECK (rating IS NULL OR typeof(rating) = 'real'));
CREATE TEMP TABLE IF NOT EXISTS batch_pairs (
    user INTEGER, item INTEGER, type INTEGER, PRIMARY KEY (user, item, type)) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS current_batch (id INTEGER);
INSERT INTO temp.current_batch (id) SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM temp.current_batch);
-- every event this connection stores updates its pair's aggregate: one keyed upsert per new event,
-- never a scan of the pair's history (known events are ignored before they get here)
CREATE TEMP TRIGGER IF NOT EXISTS event_aggregate AFTER INSERT ON main.events BEGIN
    INSERT INTO pairs (user, item, type, count, first_at, last_at, rating, rating_at, batch, created_batch)
    VALUES (NEW.user, NEW.item, NEW.type, 1, NEW.at, NEW.at, NEW.rating,
            CASE WHEN NEW.rating IS NOT NULL THEN NEW.at END, (SELECT id FROM temp.current_batch),
            (SELECT id FROM temp.current_batch))
    ON CONFLICT (user, item, type) DO UPDATE SET
        count = count + 1,
        first_at = CASE WHEN first_at IS NULL OR excluded.first_at < first_at THEN excluded.first_at ELSE first_at END,
        last_at = CASE WHEN last_at IS NULL OR excluded.last_at > last_at THEN excluded.last_at ELSE last_at END,
        rating = CASE WHEN excluded.rating_at IS NOT NULL AND (rating_at IS NULL OR excluded.rating_at > rating_at)
                      THEN excluded.rating ELSE rating END,
        rating_at = CASE WHEN excluded.rating_at IS NOT NULL AND (rating_at IS NULL OR excluded.rating_at > rating_at)
                         THEN excluded.rating_at ELSE rating_at END,
        batch = excluded.batch;
END;
"""

_CLEAR_TEMP = ("DELETE FROM temp.batch_in", "DELETE FROM temp.batch_pairs")

# The batch arrives as ONE JSON text of integer rows: a single statement that SQLite runs without
# the GIL (executemany takes the GIL back for every row while the caller parses the next batch).
_BATCH_IN = ("INSERT INTO temp.batch_in (user, item, type, at, rating) "
             "SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?)")

# in key order, so the events and pairs B-trees are walked once; among repeats the first wins
_NEW_EVENTS = ("INSERT OR IGNORE INTO events (user, item, type, at, rating) "
               "SELECT user, item, type, at, rating FROM temp.batch_in ORDER BY user, item, type, at, seq")

_BATCH_PAIRS = "INSERT INTO temp.batch_pairs (user, item, type) SELECT DISTINCT user, item, type FROM temp.batch_in"

# A pair's first and last day (UTC) from whole seconds, floored: exactly date(ms / 1000.0, 'unixepoch')
# for any sign, at half its cost (integer seconds take SQLite's fast path).
_DAYS = ("date((p.first_at - (p.first_at % 1000 + 1000) % 1000) / 1000, 'unixepoch'), "
         "date((p.last_at - (p.last_at % 1000 + 1000) % 1000) / 1000, 'unixepoch')")

# The touched pairs come out as ONE JSON text in PairAggregate's field order (one step, run without
# the GIL; no per-row Python work). The rating travels as its exact 17-digit text (SQLite's JSON
# alone writes reals with 15 significant digits), which json() turns back into a JSON number.
# CROSS JOIN: the batch's pairs drive the join (without statistics on the temp table, the planner
# would otherwise scan every pair of the ledger, once per batch).
_TOUCHED = """
SELECT json_group_array(json_array(u.name, i.name, k.name, p.count, p.first_at, p.last_at,
                                   CASE WHEN p.rating IS NULL THEN NULL ELSE json(printf('%!.17g', p.rating)) END,
                                   p.rating_at, {days})),
       group_concat(CASE WHEN p.batch = ?1 THEN p.user END)
FROM temp.batch_pairs AS b
CROSS JOIN pairs AS p ON p.user = b.user AND p.item = b.item AND p.type = b.type
JOIN users AS u ON u.id = p.user JOIN items AS i ON i.id = p.item JOIN kinds AS k ON k.id = p.type
WHERE p.count > 0
""".format(days=_DAYS)

#: the fields of each row :meth:`EventLedger.add_view` returns, in order
VIEW_FIELDS: tuple[str, ...] = ("user", "item", "count", "first_at", "last_at", "first_date", "last_date", "rating")
#: what separates the rows of :meth:`EventLedger.add_view` (JSON escapes it inside strings)
VIEW_SEPARATOR = "\x1e"

# The same aggregates as rows of VIEW_FIELDS, per event type, as JSON rows joined by VIEW_SEPARATOR:
# what the graph view writes, with no Python work per pair at all.
_TOUCHED_VIEW = """
SELECT k.name, p.created_batch IS ?1, group_concat(json_array(u.name, i.name, p.count, p.first_at, p.last_at,
                                       {days},
                                       CASE WHEN p.rating IS NULL THEN NULL ELSE json(printf('%!.17g', p.rating)) END),
                            char(30)),
       group_concat(CASE WHEN p.batch = ?1 THEN p.user END)
FROM temp.batch_pairs AS b
CROSS JOIN pairs AS p ON p.user = b.user AND p.item = b.item AND p.type = b.type
JOIN users AS u ON u.id = p.user JOIN items AS i ON i.id = p.item JOIN kinds AS k ON k.id = p.type
WHERE p.count > 0
GROUP BY k.name, p.created_batch IS ?1
""".format(days=_DAYS)

# users_touched_since() reads users.batch: the last batch that gave one of the user's pairs new events.
# The touched queries list those users (ids, comma-separated: their last column), read in the same pass.
_FRESH_USERS = "UPDATE users SET batch = ?1 WHERE id IN (SELECT value FROM json_each('[' || ?2 || ']'))"

_PAIR_FROM = ("pairs AS p JOIN users AS u ON u.id = p.user JOIN items AS i ON i.id = p.item "
              "JOIN kinds AS k ON k.id = p.type")
_PAIR_COLUMNS = "u.name, i.name, k.name, p.count, p.first_at, p.last_at, p.rating, p.rating_at, " + _DAYS
_EVENT_FROM = ("events AS e JOIN users AS u ON u.id = e.user JOIN items AS i ON i.id = e.item "
               "JOIN kinds AS k ON k.id = e.type")
_EVENT_COLUMNS = "u.name, i.name, k.name, e.at, e.rating"


class LedgerEvent(NamedTuple):
    """One stored event (a named tuple: built straight from SQLite rows, millions per rebuild)."""

    user: str  # pseudonym
    item: str
    type: str  # view, cart, purchase, rating
    at: int  # epoch ms
    rating: float | None = None


class ViewBatch(NamedTuple):
    """What one :meth:`EventLedger.add_view` batch touched, as ``{type: rows text}``."""

    known: dict[str, str]  # pairs the ledger held before the batch
    fresh: dict[str, str]  # pairs the batch created: new to the ledger


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


def _create_private(path: Path) -> None:
    """The ledger's folder (700) and an empty file (600), when they do not exist yet."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _types_clause(types: Sequence[str] | None, column: str = "k.name") -> tuple[str, list[str]]:
    if not types:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(types))})", list(types)


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _migrate(conn: sqlite3.Connection, path: Path) -> bool:
    """Upgrade a schema-1 ledger to schema 2 in place (one transaction); False when nothing to do."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _version(conn) != 1:  # another process upgraded it while we waited
            conn.execute("ROLLBACK")
            return False
        started = time.perf_counter()
        for statement in _MIGRATE_1_2.split(";\n"):  # one by one: executescript would commit first
            if statement.strip():
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    logger.info("event ledger %s upgraded to schema 2 in %.1f s", path, time.perf_counter() - started)
    conn.execute("VACUUM")  # hand the schema-1 pages back to the file system
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


class EventLedger:
    """Append-only store of behaviour events plus per-pair aggregates (SQLite, WAL).

    Use it from one thread at a time (any thread: the ingest loader hands :meth:`add` to a worker)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.last_new_events = 0  # events the last :meth:`add` stored (the rest were known)
        # name -> id of the dictionaries, valid while the file's generation (bumped by every
        # delete_user/clear, from any process) is the one they were read at
        self._ids: dict[str, dict[str, int]] = {table: {} for table in _DICTIONARIES}
        self._generation: int | None = None
        self._conn = self._connect()

    @classmethod
    def from_settings(cls, settings: Settings, *, readonly: bool = False) -> "EventLedger":
        """The ledger of the configured graph (``settings.ledger_path``)."""
        return cls(settings.ledger_path, readonly=readonly)

    open = from_settings  # ``EventLedger.open(settings)``: the same

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise ConfigError(f"SQLite {sqlite3.sqlite_version} is too old for the event ledger (needs 3.38+)",
                              hint="use a Python built with a newer SQLite")
        try:
            if self.readonly:
                if not self.path.is_file():
                    raise StoreError(f"no event ledger at {self.path}", hint="ingest events first")
                self._upgrade_for_reading()
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                _create_private(self.path)
                # check_same_thread off: the ingest loader runs add() in its worker thread, one call
                # at a time (it waits for each before any other use of the ledger)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if not self.readonly:
                self._prepare_when_free(conn)
            self._check_version(conn)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the event ledger {self.path}: {e}",
                             hint="check the file's permissions; restore it from a backup if it is damaged") from e
        return conn

    def _prepare_when_free(self, conn: sqlite3.Connection) -> None:
        """:meth:`_prepare`, retried while another process holds the file: switching a new file to WAL
        and some lock upgrades answer "locked" at once instead of waiting for the busy timeout (two
        ingests creating one ledger together). Every step of it can run again safely."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        pause = 0.01
        while True:
            try:
                self._prepare(conn)
                return
            except sqlite3.OperationalError as e:
                text = str(e).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _upgrade_for_reading(self) -> None:
        """A schema-1 file opened read-only is upgraded first, through a short-lived writable connection."""
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as probe:
            version = _version(probe)
        probe.close()
        if version != 1:
            return
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as e:
            raise ConfigError(f"event ledger {self.path} has schema version 1 and cannot be upgraded here: {e}",
                              hint="open it once for writing (e.g. kg ingest) to upgrade it") from e
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA secure_delete = ON")
            _migrate(conn, self.path)
        except sqlite3.Error as e:
            raise ConfigError(f"event ledger {self.path} has schema version 1 and cannot be upgraded here: {e}",
                              hint="open it once for writing (e.g. kg ingest) to upgrade it") from e
        finally:
            conn.close()

    def _prepare(self, conn: sqlite3.Connection) -> None:
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
            conn.execute("SELECT json_array(1) ->> 0")
        except sqlite3.OperationalError:
            raise ConfigError(f"SQLite {sqlite3.sqlite_version} lacks JSON functions, which the event ledger uses",
                              hint="use a Python built with SQLite 3.38+") from None
        version = _version(conn)
        if version == 0:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version == 1:
            _migrate(conn, self.path)
        if _version(conn) == SCHEMA_VERSION:
            # events_at (before 0.4): every insert paid for it, and its one reader scans all events anyway
            conn.execute("DROP INDEX IF EXISTS events_at")
            conn.execute("DROP INDEX IF EXISTS users_batch")  # likewise: users_touched_since scans users (few)
            if "created_batch" not in {row[1] for row in conn.execute("PRAGMA table_info(pairs)")}:
                conn.execute("ALTER TABLE pairs ADD COLUMN created_batch INTEGER")  # 0.4; NULL = older pair
            conn.executescript(_TEMP)

    def _check_version(self, conn: sqlite3.Connection) -> None:
        version = _version(conn)
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

    # -- dictionaries ----------------------------------------------------------------------
    def _check_generation(self) -> None:
        """Drop the cached ids when another connection forgot someone or cleared the file (in a transaction)."""
        generation = int(self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        if generation != self._generation:
            for cache in self._ids.values():
                cache.clear()
            self._generation = generation

    def _bump_generation(self) -> None:
        self._conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        self._generation = None

    def _lookup(self, table: str, names: dict[Any, None]) -> dict[str, int]:
        """Ids of ``names`` in a dictionary table; new names are added in order of first appearance
        (so ids, and pairs(), follow arrival order). Runs inside the add transaction."""
        cache = self._ids[table]
        if not names.keys() - cache.keys():
            return cache
        missing = [name for name in names if name not in cache]
        for name in missing:
            if type(name) is not str or (not name and table != "kinds"):
                raise StoreError(f"event ledger write failed: bad {table[:-1]} {str(name)[:40]!r} (want text)",
                                 hint="the ledger takes rows (user, item, type, at_ms, rating)")
        if len(cache) + len(missing) > _NAME_CACHE:
            cache.clear()
            missing = list(names)
        conn = self._conn
        conn.executemany(f"INSERT OR IGNORE INTO {table} (name) VALUES (?)", ((name,) for name in missing))
        for chunk in _chunks(missing):
            cache.update(conn.execute(f"SELECT name, id FROM {table} WHERE name IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall())
        return cache

    # -- writes ----------------------------------------------------------------------------
    def add(self, events: Iterable[tuple[str, str, str, int, float | None]]) -> list[PairAggregate]:
        """Store events ``(user, item, type, at_ms, rating)``; returns the aggregates of every pair
        the batch touched (new events or not). One transaction: events already stored (or repeated
        in the batch: the first wins) are ignored, and only the new ones update their pair's aggregate."""
        rows = self._store(events, _TOUCHED)
        return list(map(_pair, json.loads(rows[0][0])))

    def add_view(self, events: Iterable[tuple[str, str, str, int, float | None]]) -> "ViewBatch":
        """:meth:`add`, with the touched pairs returned as ``{type: text}`` for the graph view, split by
        whether the ledger held the pair before this batch: each text holds one JSON array of
        :data:`VIEW_FIELDS` per pair, joined by :data:`VIEW_SEPARATOR` (built by SQLite in one step; the
        ingest path, where per-pair Python objects would cost more than the ledger)."""
        known: dict[str, str] = {}
        fresh: dict[str, str] = {}
        for kind, is_fresh, text, _ in self._store(events, _TOUCHED_VIEW):
            (fresh if is_fresh else known)[kind] = text
        return ViewBatch(known, fresh)

    def pair_counts(self) -> dict[str, int]:
        """Pairs (with events) per event type: what the graph view should hold, one edge each."""
        rows = self._conn.execute("SELECT k.name, count(*) FROM pairs AS p JOIN kinds AS k ON k.id = p.type "
                                  "WHERE p.count > 0 GROUP BY k.name").fetchall()
        return {kind: int(n) for kind, n in rows}

    def _store(self, events: Iterable[tuple[str, str, str, int, float | None]], touched_sql: str) -> list[Any]:
        """One add transaction; returns the rows of ``touched_sql`` (run before the commit; ``?1`` is the
        batch, the last column lists the ids of users with new events)."""
        self._writable()
        events = events if isinstance(events, list) else list(events)
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._check_generation()
                try:
                    users = self._lookup("users", dict.fromkeys([e[0] for e in events]))
                    items = self._lookup("items", dict.fromkeys([e[1] for e in events]))
                    kinds = self._lookup("kinds", dict.fromkeys([e[2] for e in events]))
                    rows = json.dumps([(users[u], items[i], kinds[k], at, r) for u, i, k, at, r in events],
                                      allow_nan=False)
                except (TypeError, ValueError, IndexError) as e:
                    raise StoreError(f"event ledger write failed: bad event row ({e})",
                                     hint="the ledger takes rows (user, item, type, at_ms, rating)") from e
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.execute(_BATCH_IN, (rows,))
                batch = conn.execute("INSERT INTO batches (written_at, new_events) VALUES (?, 0)",
                                     (int(time.time() * 1000),)).lastrowid
                conn.execute("UPDATE temp.current_batch SET id = ?", (batch,))
                new = conn.execute(_NEW_EVENTS).rowcount
                conn.execute("UPDATE batches SET new_events = ? WHERE id = ?", (new, batch))
                conn.execute(_BATCH_PAIRS)
                touched = conn.execute(touched_sql, (batch,)).fetchall()
                fresh = ",".join(row[-1] for row in touched if row[-1])
                if fresh:
                    conn.execute(_FRESH_USERS, (batch, fresh))
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._generation = None  # ids added by the rolled-back transaction are gone
                raise
            self.last_new_events = new
        except sqlite3.Error as e:
            raise StoreError(f"event ledger write failed: {e}", hint=f"is {self.path} writable and its disk not full?") from e
        return touched

    def delete_user(self, user: str, *, vacuum: bool = True) -> list[PairAggregate]:
        """Forget one person (pseudonym): delete their events, pairs and name; returns the deleted pairs
        so the caller can remove the matching graph edges. ``vacuum`` rewrites the file so nothing remains."""
        self._writable()
        conn = self._conn
        gone = list(self.pairs(users=[user]))
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT id FROM users WHERE name = ?", (user,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM events WHERE user = ?", row)
                conn.execute("DELETE FROM pairs WHERE user = ?", row)
                conn.execute("DELETE FROM users WHERE id = ?", row)
                self._bump_generation()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if vacuum and gone:
            self.vacuum()
        return gone

    def clear(self) -> None:
        """Delete every event, pair and name (``kg demo --fresh`` after clearing the graph), then vacuum."""
        self._writable()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("events", "pairs", "batches", *_DICTIONARIES):
                conn.execute(f"DELETE FROM {table}")
            self._bump_generation()
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
        row = self._conn.execute(f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE u.name = ? AND i.name = ? "
                                 "AND k.name = ? AND p.count > 0", (user, item, type)).fetchone()
        return _pair(row) if row else None

    def pairs(self, *, types: Sequence[str] | None = None, users: Iterable[str] | None = None) -> Iterator[PairAggregate]:
        """Every pair's aggregate (streamed), optionally only some types or users."""
        where, params = _types_clause(types)
        if users is None:
            sql = (f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE p.count > 0{where} "
                   "ORDER BY p.user, p.item, p.type")
            for row in self._conn.execute(sql, params):
                yield _pair(row)
            return
        for chunk in _chunks(users):
            sql = (f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE u.name IN ({','.join('?' * len(chunk))}) "
                   f"AND p.count > 0{where} ORDER BY u.name, i.name, k.name")
            for row in self._conn.execute(sql, [*chunk, *params]).fetchall():
                yield _pair(row)

    def known_pairs(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Those of ``keys`` (user, item, type) that the ledger holds."""
        found: set[tuple[str, str, str]] = set()
        for chunk in _chunks(keys, 300):
            values = ",".join("(?, ?, ?)" for _ in chunk)
            sql = (f"SELECT u.name, i.name, k.name FROM (VALUES {values}) AS v "
                   "JOIN users AS u ON u.name = v.column1 JOIN items AS i ON i.name = v.column2 "
                   "JOIN kinds AS k ON k.name = v.column3 "
                   "JOIN pairs AS p ON p.user = u.id AND p.item = i.id AND p.type = k.id WHERE p.count > 0")
            found.update(self._conn.execute(sql, [v for key in chunk for v in key]).fetchall())
        return found

    def events_of_users(self, users: Iterable[str], *, types: Sequence[str] | None = None) -> Iterator[LedgerEvent]:
        """Every event of the given users (pseudonyms), per user in time order."""
        where, params = _types_clause(types)
        for chunk in _chunks(users):
            sql = (f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} WHERE u.name IN ({','.join('?' * len(chunk))}){where} "
                   "ORDER BY u.name, e.at, i.name, k.name")
            for row in self._conn.execute(sql, [*chunk, *params]).fetchall():
                yield _event(row)

    def events_between(self, start_ms: int | None = None, end_ms: int | None = None, *,
                       types: Sequence[str] | None = None) -> Iterator[LedgerEvent]:
        """Events with ``start_ms <= at < end_ms`` (either bound optional), in time order (streamed)."""
        where, params = _types_clause(types)
        sql = (f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} "
               f"WHERE e.at >= ? AND e.at < ?{where} ORDER BY e.at, u.name, i.name, k.name")
        lo = -(2**63) if start_ms is None else int(start_ms)
        hi = 2**63 - 1 if end_ms is None else int(end_ms)
        for row in self._conn.execute(sql, [lo, hi, *params]):
            yield _event(row)

    def last_batch(self) -> int:
        """Sequence number of the newest batch (0 when none): a bookmark for :meth:`users_touched_since`."""
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM batches").fetchone()[0])

    def users_touched_since(self, batch: int) -> set[str]:
        """Users (pseudonyms) whose pairs got new events in batches after ``batch``."""
        rows = self._conn.execute("SELECT name FROM users WHERE batch > ?", (int(batch),))
        return {row[0] for row in rows}

    def disk_bytes(self) -> int:
        """Size of the ledger on disk: the file plus its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())
