"""The ledger file's schema: its tables, the per-connection temp tables, the version, the 1 -> 2 migration.

Schema 2 stores names once: ``users``, ``items`` and ``kinds`` map each pseudonym, item id and event type
to a small integer, and pairs and events are keyed by those integers (a quarter of the bytes per event of
schema 1, which repeated the 32-character pseudonym in every pair key). A schema-1 file is upgraded in
place, once, in one transaction, when it is first opened (:func:`migrate`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from kg.foundation.errors import ConfigError

__all__ = ["DICTIONARIES", "MIN_SQLITE", "SCHEMA_VERSION", "check_version", "migrate", "prepare", "version"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MIN_SQLITE = (3, 38, 0)  # the ->> JSON operator, UPDATE ... FROM, upsert
DICTIONARIES = ("users", "items", "kinds")

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

# The staging tables of a writable connection (kg.ledger.writes fills them, one batch at a time) and
# its aggregate trigger: every event this connection stores updates its pair's aggregate, one keyed
# upsert per new event, never a scan of the pair's history (known events are ignored before they get here).
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


def version(conn: sqlite3.Connection) -> int:
    """The file's schema version (``PRAGMA user_version``; 0: a new, empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_version(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file of another schema version than this kg's."""
    found = version(conn)
    if found != SCHEMA_VERSION:
        raise ConfigError(
            f"event ledger {path} has schema version {found}, this kg reads {SCHEMA_VERSION}",
            hint="upgrade kg, or rebuild the ledger from the source files",
        )


def migrate(conn: sqlite3.Connection, path: Path) -> bool:
    """Upgrade a schema-1 ledger to schema 2 in place (one transaction); False when nothing to do."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version(conn) != 1:  # another process upgraded it while we waited
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


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Set up a writable connection: its pragmas, the schema (created, upgraded, extended) and its temp
    tables. Every step can run again safely (see :func:`kg.ledger.connection.connect`)."""
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
        raise ConfigError(
            f"SQLite {sqlite3.sqlite_version} lacks JSON functions, which the event ledger uses",
            hint="use a Python built with SQLite 3.38+",
        ) from None
    found = version(conn)
    if found == 0:
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    elif found == 1:
        migrate(conn, path)
    if version(conn) == SCHEMA_VERSION:
        # events_at (before 0.4): every insert paid for it, and its one reader scans all events anyway
        conn.execute("DROP INDEX IF EXISTS events_at")
        conn.execute("DROP INDEX IF EXISTS users_batch")  # likewise: users_touched_since scans users (few)
        if "created_batch" not in {row[1] for row in conn.execute("PRAGMA table_info(pairs)")}:
            conn.execute("ALTER TABLE pairs ADD COLUMN created_batch INTEGER")  # 0.4; NULL = older pair
        conn.executescript(_TEMP)
