"""The event ledger on its own (SQLite): identity, incremental aggregates, reads, forgetting, files."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError, StoreError
from kg.foundation.settings import Settings
from kg.ledger import EventLedger, LedgerEvent

DAY = 86_400_000


@pytest.fixture
def ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    with EventLedger(tmp_path / "ledger" / "g.sqlite3") as opened:
        yield opened


def test_identity_repeats_and_aggregates(ledger: EventLedger) -> None:
    touched = ledger.add(
        [
            ("u1", "p1", "view", 3000, None),
            ("u1", "p1", "view", 1000, None),
            ("u1", "p1", "view", 3000, None),
            ("u2", "p1", "cart", 5000, None),
        ]
    )
    agg = {(p.user, p.type): p for p in touched}
    assert (agg["u1", "view"].count, agg["u1", "view"].first_at, agg["u1", "view"].last_at) == (2, 1000, 3000)
    assert agg["u2", "cart"].count == 1
    again = ledger.add([("u1", "p1", "view", 1000, None), ("u1", "p1", "view", 2000, None)])
    assert [(p.count, p.first_at, p.last_at) for p in again] == [(3, 1000, 3000)]
    assert ledger.last_new_events == 1
    unchanged = ledger.add([("u2", "p1", "cart", 5000, None)])  # nothing new: still reported, same values
    assert [p.count for p in unchanged] == [1]
    assert ledger.counts() == {"events": 4, "pairs": 2, "users": 2, "batches": 3}


def test_latest_rating_wins_whatever_the_arrival_order(ledger: EventLedger) -> None:
    ledger.add([("u1", "p1", "rating", 2 * DAY, 5.0)])
    ledger.add([("u1", "p1", "rating", 1 * DAY, 2.0)])  # older rating arrives later
    pair = ledger.pair("u1", "p1", "rating")
    assert pair is not None and (pair.rating, pair.rating_at, pair.count) == (5.0, 2 * DAY, 2)
    ledger.add(
        [
            ("u1", "p1", "rating", 2 * DAY, 1.0),
            ("u1", "p1", "rating", 3 * DAY, 4.0),
            ("u1", "p1", "rating", 3 * DAY, 3.0),
        ]
    )  # same identity: the first stored wins
    pair = ledger.pair("u1", "p1", "rating")
    assert pair is not None and (pair.rating, pair.count) == (4.0, 3)
    assert (pair.first_date, pair.last_date) == ("1970-01-02", "1970-01-04")


def test_hot_pair_second_half_adds_only_its_own_events(ledger: EventLedger) -> None:
    first = [("u1", "p1", "view", t, None) for t in range(10_000)]
    second = [("u1", "p1", "view", t, None) for t in range(10_000, 20_000)]
    assert ledger.add(first)[0].count == 10_000
    assert ledger.add(second)[0].count == 20_000
    assert ledger.add(second + first)[0].count == 20_000  # all known: aggregate untouched
    pair = ledger.pair("u1", "p1", "view")
    assert pair is not None and (pair.first_at, pair.last_at) == (0, 19_999)


def test_reads_for_later_features(ledger: EventLedger) -> None:
    ledger.add(
        [
            ("u1", "p1", "view", 1000, None),
            ("u1", "p2", "purchase", 4000, None),
            ("u2", "p1", "rating", 2000, 4.0),
            ("u3", "p3", "view", 9000, None),
        ]
    )
    mark = ledger.last_batch()
    ledger.add([("u3", "p3", "view", 9500, None), ("u1", "p1", "view", 1000, None)])  # u1: nothing new
    assert ledger.users_touched_since(mark) == {"u3"}
    assert list(ledger.events_of_users(["u1"])) == [
        LedgerEvent("u1", "p1", "view", 1000, None),
        LedgerEvent("u1", "p2", "purchase", 4000, None),
    ]
    assert [e.user for e in ledger.events_between(1500, 9000)] == ["u2", "u1"]
    assert [e.at for e in ledger.events_between(9000)] == [9000, 9500]
    assert [(p.user, p.item) for p in ledger.pairs(types=["view"])] == [("u1", "p1"), ("u3", "p3")]
    assert ledger.known_pairs([("u1", "p1", "view"), ("u1", "p1", "cart")]) == {("u1", "p1", "view")}


def test_delete_user_forgets_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "ledger" / "g.sqlite3"
    secret = "f00dfacecafe0123456789abcdef0042"
    with EventLedger(path) as ledger:
        ledger.add([(secret, f"p{i}", "view", i, None) for i in range(500)] + [("u2", "p1", "view", 1, None)])
        gone = ledger.delete_user(secret)
        assert len(gone) == 500 and gone[0].user == secret
        assert ledger.counts()["events"] == 1 and list(ledger.events_of_users([secret])) == []
    for file in path.parent.iterdir():
        assert secret.encode() not in file.read_bytes(), file


def test_files_are_private_and_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", graph="shop1", pseudonym_key="k")
    with EventLedger.from_settings(settings) as ledger:
        ledger.add([("u1", "p1", "view", 1, None)])
        assert ledger.path == tmp_path / "home" / "ledger" / "shop1.sqlite3"
        assert stat.S_IMODE(ledger.path.parent.stat().st_mode) == 0o700
        for file in ledger.path.parent.iterdir():  # the db and its -wal/-shm files
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert ledger._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        copy = ledger.backup(tmp_path / "backup.sqlite3")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with EventLedger(copy, readonly=True) as restored:
        assert restored.counts()["events"] == 1


def test_readers_never_wait_for_the_writer(ledger: EventLedger) -> None:
    ledger.add([("u1", "p1", "view", 1, None)])
    ledger._conn.execute("BEGIN IMMEDIATE")  # a writer mid-transaction
    ledger._conn.execute("INSERT INTO pairs (user, item, type, count) VALUES ('u9', 'p9', 'view', 1)")
    try:
        with EventLedger(ledger.path, readonly=True) as reader:
            reader._conn.execute("PRAGMA busy_timeout = 0")  # would fail at once if it had to wait
            assert reader.counts()["pairs"] == 1  # sees the last commit
            with pytest.raises(StoreError):
                reader.add([("u1", "p1", "view", 2, None)])
    finally:
        ledger._conn.execute("ROLLBACK")


def test_failed_batch_leaves_nothing_behind(ledger: EventLedger) -> None:
    with pytest.raises(StoreError):
        ledger.add(
            [
                ("u1", "p1", "view", 1, None),
                ("u1", "p1", "view", "not-a-time-and-not-null", None),
                (None, "p1", "view", 2, None),
            ]
        )
    assert ledger.counts()["events"] == 0 and ledger.counts()["pairs"] == 0


def test_missing_or_newer_ledger_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no event ledger"):
        EventLedger(tmp_path / "none.sqlite3", readonly=True)
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        EventLedger(path, readonly=True)


def test_clear_empties_the_ledger(ledger: EventLedger) -> None:
    ledger.add([("u1", "p1", "view", 1, None)])
    ledger.clear()
    assert ledger.counts() == {"events": 0, "pairs": 0, "users": 0, "batches": 0}
    assert ledger.add([("u1", "p1", "view", 1, None)])[0].count == 1


def test_touched_pairs_come_back_exact_and_complete(ledger: EventLedger) -> None:
    rating = 1 / 3  # 16 significant digits: SQLite's JSON alone would round it
    events = [
        (f"u{i % 7}", f"p{i % 5}", "rating" if i % 2 else "view", 1000 + i, rating if i % 2 else None)
        for i in range(200)
    ]
    touched = ledger.add(events)
    assert len(touched) == len({(u, i, t) for u, i, t, _, _ in events}) == len(set(touched))
    assert {p.rating for p in touched if p.type == "rating"} == {rating}
    assert all(p.rating is None for p in touched if p.type == "view")
    assert sorted(touched) == sorted(ledger.pairs())  # what add() reports is what the ledger holds
    again = ledger.add(events[:3])  # known events: the same aggregates, nothing new
    assert ledger.last_new_events == 0 and set(again) <= set(touched)


def test_malformed_event_rows_are_a_store_error(ledger: EventLedger) -> None:
    for bad in ([("u1", "p1", "view", 1)], [("u1", {"x": 1}, "view", 1, None)], [("u1", "p1", "view", 1.5e3, "x")]):
        with pytest.raises(StoreError):
            ledger.add(bad)
    assert ledger.counts()["events"] == 0


def test_the_ledger_can_be_handed_to_another_thread(ledger: EventLedger) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as worker:
        assert worker.submit(ledger.add, [("u1", "p1", "view", 1, None)]).result()[0].count == 1
    assert ledger.counts()["events"] == 1  # and back in this thread
