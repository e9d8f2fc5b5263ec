"""Schema 1 -> 2: a ledger file written by the schema-1 code is upgraded in place, once, and reads the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kg.ledger import SCHEMA_VERSION, EventLedger, LedgerEvent

DAY = 86_400_000

# The schema-1 ledger as kg wrote it before integer ids (kg/ledger.py, SCHEMA_VERSION = 1): its
# schema and the statements of its add(), so the test builds a real schema-1 file.
V1_SCHEMA = """
CREATE TABLE pairs (id INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, type TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0, first_at INTEGER, last_at INTEGER, rating REAL, rating_at INTEGER,
    batch INTEGER, UNIQUE (user, item, type));
CREATE INDEX pairs_batch ON pairs (batch);
CREATE TABLE events (pair INTEGER NOT NULL, at INTEGER NOT NULL, rating REAL, PRIMARY KEY (pair, at)) WITHOUT ROWID;
CREATE INDEX events_at ON events (at);
CREATE TABLE batches (id INTEGER PRIMARY KEY, written_at INTEGER NOT NULL, new_events INTEGER NOT NULL);
CREATE TEMP TABLE batch_in (seq INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, type TEXT NOT NULL,
    at INTEGER NOT NULL, rating REAL, pair INTEGER);
CREATE TEMP TABLE batch_new (pair INTEGER, at INTEGER, rating REAL, PRIMARY KEY (pair, at)) WITHOUT ROWID;
PRAGMA user_version = 1;
"""
V1_ADD = (
    "INSERT OR IGNORE INTO pairs (user, item, type) SELECT user, item, type FROM temp.batch_in "
    "ORDER BY user, item, type",
    "UPDATE temp.batch_in SET pair = p.id FROM pairs AS p "
    "WHERE p.user = batch_in.user AND p.item = batch_in.item AND p.type = batch_in.type",
    "INSERT OR IGNORE INTO temp.batch_new (pair, at, rating) SELECT b.pair, b.at, b.rating FROM temp.batch_in AS b "
    "WHERE NOT EXISTS (SELECT 1 FROM events AS e WHERE e.pair = b.pair AND e.at = b.at) ORDER BY b.seq",
    "INSERT INTO events (pair, at, rating) SELECT pair, at, rating FROM temp.batch_new",
    "INSERT INTO batches (written_at, new_events) VALUES (0, (SELECT count(*) FROM temp.batch_new))",
    "UPDATE pairs SET count = pairs.count + a.n, "
    "first_at = CASE WHEN pairs.first_at IS NULL OR a.lo < pairs.first_at THEN a.lo ELSE pairs.first_at END, "
    "last_at = CASE WHEN pairs.last_at IS NULL OR a.hi > pairs.last_at THEN a.hi ELSE pairs.last_at END, "
    "batch = (SELECT max(id) FROM batches) "
    "FROM (SELECT pair, count(*) AS n, min(at) AS lo, max(at) AS hi FROM temp.batch_new GROUP BY pair) AS a "
    "WHERE pairs.id = a.pair",
    "UPDATE pairs SET rating = r.rating, rating_at = r.at FROM (SELECT pair, max(at) AS at, rating FROM temp.batch_new "
    "WHERE rating IS NOT NULL GROUP BY pair) AS r "
    "WHERE pairs.id = r.pair AND (pairs.rating_at IS NULL OR r.at > pairs.rating_at)",
    "DELETE FROM temp.batch_in",
    "DELETE FROM temp.batch_new",
)

BATCH_1 = [
    ("u1", "p1", "view", 3000, None),
    ("u1", "p1", "view", 1000, None),
    ("u1", "p1", "view", 3000, None),
    ("u2", "p1", "cart", 5000, None),
    ("u2", "p2", "rating", 2 * DAY, 5.0),
    ("u3", "p2", "purchase", 7000, None),
]
BATCH_2 = [
    ("u2", "p2", "rating", 1 * DAY, 2.0),
    ("u1", "p1", "view", 2000, None),
    ("u1", "p1", "view", 1000, None),
    ("u4", "p3", "view", 9000, None),
]


def write_v1(path: Path, batches: list[list[tuple[Any, ...]]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_SCHEMA)
    for batch in batches:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO temp.batch_in (user, item, type, at, rating) VALUES (?, ?, ?, ?, ?)", batch)
        for sql in V1_ADD:
            conn.execute(sql)
        conn.execute("COMMIT")
    conn.close()


def v1_contents(path: Path) -> tuple[set[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(pairs, events in time order) as the schema-1 file holds them."""
    conn = sqlite3.connect(path)
    pairs = set(
        conn.execute(
            "SELECT user, item, type, count, first_at, last_at, rating, rating_at, "
            "date(first_at / 1000.0, 'unixepoch'), date(last_at / 1000.0, 'unixepoch') FROM pairs"
        )
    )
    events = conn.execute(
        "SELECT p.user, p.item, p.type, e.at, e.rating FROM events AS e JOIN pairs AS p "
        "ON p.id = e.pair ORDER BY e.at, p.user, p.item, p.type"
    ).fetchall()
    conn.close()
    return pairs, events


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger" / "g.sqlite3"
    path.parent.mkdir(mode=0o700)
    write_v1(path, [BATCH_1, BATCH_2])
    return path


def test_a_schema_1_ledger_is_upgraded_in_place_and_reads_the_same(v1_file: Path) -> None:
    pairs_before, events_before = v1_contents(v1_file)
    assert len(events_before) == 8 and len(pairs_before) == 5  # by hand: 9 distinct minus the 1 repeat
    with EventLedger(v1_file) as ledger:
        assert ledger._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert set(ledger.pairs()) == pairs_before
        assert [tuple(e) for e in ledger.events_between()] == events_before
        assert ledger.counts() == {"events": 8, "pairs": 5, "users": 4, "batches": 2}
        u1 = ledger.pair("u1", "p1", "view")
        assert u1 is not None and (u1.count, u1.first_at, u1.last_at) == (3, 1000, 3000)
        rated = ledger.pair("u2", "p2", "rating")
        assert rated is not None and (rated.count, rated.rating, rated.rating_at) == (2, 5.0, 2 * DAY)
        # batch 2 stored new events of u1, u4 and u2 (an older rating: a new event, the 2-day rating stays)
        assert ledger.users_touched_since(1) == {"u1", "u2", "u4"} and ledger.users_touched_since(2) == set()
        assert list(ledger.events_of_users(["u3"])) == [LedgerEvent("u3", "p2", "purchase", 7000, None)]
        # the upgraded file goes on: known events are still known, new ones aggregate onto the old pairs
        again = ledger.add(
            [("u1", "p1", "view", 1000, None), ("u1", "p1", "view", 4000, None), ("u5", "p1", "view", 1, None)]
        )
        assert ledger.last_new_events == 2
        assert {(p.user, p.count, p.first_at, p.last_at) for p in again} == {("u1", 4, 1000, 4000), ("u5", 1, 1, 1)}
    with EventLedger(v1_file) as reopened:  # once: the second open finds schema 2
        assert reopened.counts()["events"] == 10


def test_a_read_only_open_upgrades_a_schema_1_file_too(v1_file: Path) -> None:
    pairs_before, events_before = v1_contents(v1_file)
    with EventLedger(v1_file, readonly=True) as ledger:
        assert set(ledger.pairs()) == pairs_before
        assert [tuple(e) for e in ledger.events_between(1000, 5001)] == [
            e for e in events_before if 1000 <= e[3] < 5001
        ]
        with pytest.raises(Exception, match="read-only"):
            ledger.add([("u1", "p1", "view", 1, None)])


def test_a_forgotten_user_leaves_no_name_behind_after_the_upgrade(v1_file: Path) -> None:
    with EventLedger(v1_file) as ledger:
        gone = ledger.delete_user("u3")
        assert [(p.user, p.item, p.type) for p in gone] == [("u3", "p2", "purchase")]
        assert ledger._conn.execute("SELECT count(*) FROM users WHERE name = 'u3'").fetchone()[0] == 0
        assert ledger.counts()["users"] == 3


def test_a_failed_upgrade_leaves_the_schema_1_file_as_it_was(v1_file: Path) -> None:
    before = v1_contents(v1_file)
    conn = sqlite3.connect(v1_file)
    conn.execute("CREATE TABLE kinds (x)")  # a clash half-way through the upgrade's statements
    conn.commit()
    conn.close()
    with pytest.raises(Exception, match="kinds already exists"):
        EventLedger(v1_file)
    conn = sqlite3.connect(v1_file)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
        "pairs",
        "events",
        "batches",
        "kinds",
    }
    conn.close()
    assert v1_contents(v1_file) == before
