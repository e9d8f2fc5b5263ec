"""Edges of pairs new to the ledger are created (no MERGE search) only while graph and ledger match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.events_view import add_view, can_create_fresh, view_rows
from kg.ingest.loaders import EventLoader
from kg.ingest.runner import run_ingest
from kg.ledger import EventLedger
from kg.store import GraphStore
from kg.store.queries import Query
from tests.ingest_helpers import edges, ledger_edges


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("user_id,item_id,event_type,timestamp,rating\n" + "\n".join(lines) + "\n")
    return path


def _ingest(store: GraphStore, settings: Settings, path: Path) -> list[str]:
    """Ingest with ledger batches of 10 events (a file of several batches); returns the queries used."""
    used: list[str] = []
    real_write = store.write

    def noting_write(query: Query, rows: Any, **kw: Any) -> int:  # notes the query; the database is real
        used.append(query.name)
        return real_write(query, rows, **kw)

    store.write = noting_write  # type: ignore[method-assign]
    small = settings.model_copy(update={"batch_size": 10})
    try:
        loader = EventLoader(Pseudonymiser.from_settings(small), EventLedger.from_settings(small), ledger_batch=10)
        run_ingest(store, small, path, kind="events", fmt="csv", reader=EVENT_READERS["csv"], loader=loader, force=True)
    finally:
        del store.write
    return used


def test_add_view_tells_fresh_pairs_from_known_ones(tmp_path: Path) -> None:
    with EventLedger(tmp_path / "l.sqlite3") as ledger:
        first = add_view(ledger, [("a", "p1", "view", 1, None), ("a", "p1", "view", 2, None)])
        assert first.known == {} and [r[:3] for r in view_rows(first.fresh["view"])] == [["a", "p1", 2]]
        second = add_view(
            ledger,
            [
                ("a", "p1", "view", 3, None),
                ("b", "p1", "view", 3, None),
                ("a", "p1", "cart", 4, None),
                ("a", "p1", "view", 1, None),
            ],
        )
        assert [r[:3] for r in view_rows(second.known["view"])] == [["a", "p1", 3]]  # known, one new event
        assert [r[:3] for r in view_rows(second.fresh["view"])] == [["b", "p1", 1]]
        assert [r[:3] for r in view_rows(second.fresh["cart"])] == [["a", "p1", 1]]  # same people, new type
        again = add_view(ledger, [("b", "p1", "view", 3, None)])  # nothing new: still reported, as known
        assert again.fresh == {} and "view" in again.known
        assert ledger.pair_counts() == {"view": 2, "cart": 1}


def test_matching_graph_creates_and_stays_one_edge_per_pair(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    with EventLedger.from_settings(settings) as ledger:
        assert can_create_fresh(store, ledger)  # both empty
    used = _ingest(
        store, settings, _write(tmp_path / "a.csv", [f"u{i % 5},p{i % 7},view,{1000 + i}," for i in range(60)])
    )
    assert "events_create" in used and "events_merge" in used  # pairs seen again in later batches merge
    used = _ingest(
        store,
        settings,
        _write(
            tmp_path / "b.csv", [f"u{i % 6},p{i % 8},view,{2000 + i}," for i in range(60)] + ["u1,p1,purchase,5000,"]
        ),
    )
    assert "events_create" in used
    with EventLedger.from_settings(settings) as ledger:
        assert can_create_fresh(store, ledger)  # what kg wrote matches, type by type
    assert edges(store) == ledger_edges(settings)  # edges() also asserts one edge per pair


def test_an_edge_the_ledger_does_not_know_keeps_every_write_a_merge(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    _ingest(store, settings, _write(tmp_path / "a.csv", ["u1,p1,view,1000,"]))
    store.execute("MATCH (u:User) MERGE (p:Product {id: 'p2'}) CREATE (u)-[:VIEWED {count: 7}]->(p)")  # by hand
    with EventLedger.from_settings(settings) as ledger:
        assert not can_create_fresh(store, ledger)  # 2 VIEWED edges, 1 pair
    user = store.execute("MATCH (u:User) RETURN u.id AS id")[0]["id"]
    used = _ingest(store, settings, _write(tmp_path / "b.csv", ["u1,p2,view,2000,", "u1,p3,view,2000,"] * 10))
    assert "events_create" not in used
    found = store.execute(
        "MATCH (u:User {id: $u})-[r:VIEWED]->(p:Product) RETURN p.id AS p, r.count AS c ORDER BY p", {"u": user}
    )
    assert found == [{"p": "p1", "c": 1}, {"p": "p2", "c": 7}, {"p": "p3", "c": 1}]  # merged: no second u1-p2 edge


def test_a_crashed_runs_missing_edges_keep_every_write_a_merge(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    _ingest(store, settings, _write(tmp_path / "a.csv", ["u1,p1,view,1000,", "u2,p1,view,1000,"]))
    store.execute("MATCH (:User)-[r:VIEWED]->(:Product) WITH r LIMIT 1 DELETE r")  # as if the graph write was lost
    with EventLedger.from_settings(settings) as ledger:
        assert not can_create_fresh(store, ledger)
    assert "events_create" not in _ingest(
        store, settings, _write(tmp_path / "a.csv", ["u1,p1,view,1000,", "u2,p1,view,1000,"] * 10)
    )
    assert edges(store) == ledger_edges(settings)  # the re-run restored the lost edge, once
    with EventLedger.from_settings(settings) as ledger:
        assert can_create_fresh(store, ledger)
