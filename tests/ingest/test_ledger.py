"""Events through the ledger into the graph: idempotency, ledger = graph, hot pairs, rebuild, kill -9."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from kg.foundation.settings import Settings
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.events_view import rebuild_behaviour
from kg.ingest.loaders import EventLoader
from kg.ingest.runner import run_ingest
from kg.ingest.synthetic import generate_shop
from kg.ledger import EventLedger
from kg.store import GraphStore
from tests.helpers import clean_twin, settings_json, wait_until
from tests.ingest_helpers import INGEST_SCRIPT, edges, ledger_edges

ROOT = Path(__file__).resolve().parents[2]


def ingest(store: GraphStore, settings: Settings, path: Path, **kw: Any) -> Any:
    with EventLoader.from_settings(settings) as loader:
        return run_ingest(
            store, settings, path, kind="events", fmt="csv", reader=EVENT_READERS["csv"], loader=loader, **kw
        )


def write_events(path: Path, rows: list[str]) -> Path:
    path.write_text("user_id,item_id,event_type,timestamp,rating\n" + "\n".join(rows) + "\n")
    return path


def test_rerun_and_overlapping_files_equal_one_clean_run(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    shop = generate_shop(tmp_path / "shop", users=80, products=30, events=4000, seed=11)
    lines = shop.events.read_text().splitlines()
    a = write_events(tmp_path / "a.csv", lines[1:2600])
    b = write_events(tmp_path / "b.csv", lines[1500:])  # overlaps a by 1,100 rows
    ingest(store, settings, a)
    ingest(store, settings, b)
    ingest(store, settings, b, force=True)
    ingest(store, settings, a, force=True)
    got = edges(store)
    assert got == ledger_edges(settings)  # the graph is exactly the ledger's view
    assert all(v[6] is None for v in got.values())  # no event_times lists any more
    with clean_twin(settings) as (other, clean):  # fresh graph and ledger
        ingest(other, clean, shop.events)
        assert edges(other) == got
    distinct = {tuple(line.split(",")[:4]) for line in lines[1:]}
    assert sum(v[0] for v in got.values()) == len(distinct)
    rated = [v for k, v in got.items() if k[0] == "RATED"]
    assert rated and all(v[3] in (1.0, 2.0, 3.0, 4.0, 5.0) for v in rated)
    # ISO dates, UTC: the synthetic shop's 90 days start on 2023-11-14
    assert all("2023-11-14" <= v[4] <= v[5] <= "2024-02-12" and len(v[4]) == 10 for v in rated)


def test_hot_pair_second_half_costs_the_same(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    first = write_events(tmp_path / "first.csv", [f"u1,p1,view,{1_700_000_000_000 + i}," for i in range(10_000)])
    second = write_events(tmp_path / "second.csv", [f"u1,p1,view,{1_700_000_010_000 + i}," for i in range(10_000)])
    sent: list[int] = []
    real_write = store.write

    def counting_write(name: str, rows: Any, **kw: Any) -> int:  # counts the graph rows; the database is real
        rows = list(rows)
        sent.append(len(rows))
        return real_write(name, rows, **kw)

    store.write = counting_write  # type: ignore[method-assign]
    ingest(store, settings, first)
    ingest(store, settings, second)
    assert sent and set(sent) == {1}  # one graph row per pair per ledger batch, whatever the pair's history
    assert len(sent) == 2 * -(-10_000 // max(EventLoader.LEDGER_BATCH, settings.batch_size))
    got = edges(store)
    assert list(got.values())[0][:3] == (20_000, 1_700_000_000_000, 1_700_000_019_999)
    assert got == ledger_edges(settings)


def test_rebuild_restores_identical_edges(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    shop = generate_shop(tmp_path / "shop", users=50, products=20, events=2000, seed=4)
    ingest(store, settings, shop.events)
    before = edges(store)
    store.execute("MATCH (:User)-[r:VIEWED|RATED]->(:Product) DELETE r")
    store.execute("MATCH (u:User)-[r:CARTED]->(:Product) SET r.count = 999, r.rating = 1.5")  # damaged
    store.execute("CREATE (:User {id: 'stranger'})-[:PURCHASED {count: 1}]->(:Product {id: 'x'})")
    with EventLedger.from_settings(settings) as ledger:
        result = rebuild_behaviour(store, ledger)
        assert result["unknown_edges"] == 1 and result["unknown_removed"] == 0
        assert result["edges_written"] == result["pairs"] == len(before)
        after = edges(store)
        assert after.pop(("PURCHASED", "stranger", "x"))[0] == 1  # left alone: not ours
        assert after == before
        removed = rebuild_behaviour(store, ledger, remove_unknown=True)
    assert removed["unknown_removed"] == 1 and edges(store) == before


def test_rebuild_imports_pre_ledger_event_times(store: GraphStore, settings: Settings) -> None:
    store.execute(
        "CREATE (:User {id: 'u1'})-[:RATED {count: 2, event_times: [1000, 86401000], rating: 4.0, "
        "first_at: 1000, last_at: 86401000}]->(:Product {id: 'p1'})"
    )
    with EventLedger.from_settings(settings) as ledger:
        result = rebuild_behaviour(store, ledger)
        assert (result["legacy_edges"], result["legacy_events"], result["unknown_edges"]) == (1, 2, 0)
        assert [e.at for e in ledger.events_of_users(["u1"])] == [1000, 86_401_000]
    assert edges(store) == {("RATED", "u1", "p1"): (2, 1000, 86_401_000, 4.0, "1970-01-01", "1970-01-02", None)}


def test_kill_9_at_any_point_then_rerun_equals_one_clean_run(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    files = generate_shop(tmp_path / "big", users=1500, products=300, events=40_000, seed=8)
    cmd = [sys.executable, "-c", INGEST_SCRIPT, settings_json(settings), str(files.events)]

    def ledger_events() -> int:
        if not settings.ledger_path.exists():
            return 0
        try:
            with EventLedger.from_settings(settings, readonly=True) as ledger:
                return ledger.counts()["events"]
        except Exception:  # schema being created right now
            return 0

    # 1st kill: as soon as the ledger holds a batch (its graph write may not have happened yet);
    # 2nd kill: half-way through the file on the re-run.
    for ready, what in (
        (lambda: ledger_events() > 0, "the ledger holds a batch"),
        (lambda: ledger_events() > 20_000, "the ledger holds half the file"),
    ):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        wait_until(ready, 60, what, proc=proc)  # fails if the ingest finished (or died) first
        proc.kill()
        proc.wait()
        assert proc.returncode == -9  # killed mid-file, not finished
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    after_kills = edges(store)
    assert after_kills == ledger_edges(settings)
    with clean_twin(settings) as (other, clean):  # fresh graph and ledger
        ingest(other, clean, files.events)
        assert edges(other) == after_kills


def test_pipelined_loader_keeps_batches_in_order_and_bounded(store: GraphStore, settings: Settings) -> None:
    from kg.foundation.privacy import Pseudonymiser
    from kg.ingest.records import Event

    batches = [[Event("a", "p1", "view", 1000), Event("a", "p1", "view", 2000)], [Event("b", "p2", "cart", 3000)]]
    batches += [[Event("a", "p1", "view", 3000 + i)] for i in range(6)]  # the same pair, later and later
    loader = EventLoader(Pseudonymiser.from_settings(settings), EventLedger.from_settings(settings), ledger_batch=1)
    with loader:
        for batch in batches:
            loader.load(store, batch)  # ledger and graph workers take it; the caller goes on reading
            assert len(loader._in_flight) <= EventLoader.IN_FLIGHT  # memory stays bounded
        loader.finish(store)
        assert not loader._in_flight
        assert sorted(e[0] for e in edges(store).values()) == [1, 8]  # the last snapshot of a1/p1 won
    assert edges(store) == ledger_edges(settings)


def test_a_ledger_failure_in_the_worker_fails_the_run(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    import pytest

    from kg.foundation.errors import StoreError
    from kg.foundation.privacy import Pseudonymiser

    class Failing(EventLedger):
        calls = 0

        def add_json(self, events, fields, separator):  # type: ignore[no-untyped-def]
            Failing.calls += 1
            if Failing.calls == 2:
                raise StoreError("disk full")
            return super().add_json(events, fields, separator)

    path = write_events(tmp_path / "e.csv", [f"u{i},p{i % 3},view,{1_700_000_000 + i}," for i in range(50)])
    small = settings.model_copy(update={"batch_size": 10})
    loader = EventLoader(Pseudonymiser.from_settings(small), Failing(small.ledger_path), ledger_batch=10)
    with pytest.raises(StoreError, match="disk full"):
        run_ingest(store, small, path, kind="events", fmt="csv", reader=EVENT_READERS["csv"], loader=loader)
    assert store.execute("MATCH (r:IngestRun {kind: 'events'}) RETURN r.status AS s") == [{"s": "failed"}]
    assert ingest(store, settings, path).rows_ok == 50  # the re-run completes the view
    assert edges(store) == ledger_edges(settings)
