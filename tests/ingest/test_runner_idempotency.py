"""Ingest into a real graph: idempotency, manifest, quarantine, crash-and-rerun, pseudonymisation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.loaders import EventLoader, ProductLoader
from kg.ingest.product_readers import PRODUCT_READERS
from kg.ingest.runner import run_ingest
from kg.ingest.synthetic import generate_shop
from kg.ledger import EventLedger
from kg.store import GraphStore
from tests.helpers import clean_twin, settings_json, wait_until
from tests.ingest_helpers import INGEST_SCRIPT

ROOT = Path(__file__).resolve().parents[2]


SNAPSHOT = """
MATCH (u)-[r]->(p)
RETURN labels(u)[0] AS from, u.id AS from_id, type(r) AS type, coalesce(p.id, p.name, p.path) AS to,
       r.count AS count, r.first_at AS first_at, r.last_at AS last_at, r.rating AS rating,
       r.first_date AS first_date, r.last_date AS last_date
ORDER BY from, from_id, type, to
"""


def snapshot(store: GraphStore) -> tuple[dict, list]:
    """Everything that must be equal between two ingests (manifest nodes excluded)."""
    stats = store.stats()
    stats["nodes"].pop("IngestRun", None)
    return stats, store.execute(SNAPSHOT)


def ingest_events(store: GraphStore, settings: Settings, path: Path, fmt: str = "csv", **kw):  # type: ignore[no-untyped-def]
    with EventLoader.from_settings(settings) as loader:
        return run_ingest(store, settings, path, kind="events", fmt=fmt, reader=EVENT_READERS[fmt], loader=loader, **kw)


def ingest_products(store: GraphStore, settings: Settings, path: Path, fmt: str = "csv", **kw):  # type: ignore[no-untyped-def]
    return run_ingest(
        store, settings, path, kind="products", fmt=fmt, reader=PRODUCT_READERS[fmt], loader=ProductLoader(), **kw
    )


def ingest_in_turn(ingest, store: GraphStore, settings: Settings, folder: Path, header: str, **bodies: str) -> None:  # type: ignore[no-untyped-def]
    """Write each ``name=body`` as ``folder/name.csv`` (``header`` first) and ``ingest`` the files in that order."""
    for name, body in bodies.items():
        path = folder / f"{name}.csv"
        path.write_text(header + body)
        ingest(store, settings, path)


@pytest.fixture
def shop(tmp_path: Path):  # type: ignore[no-untyped-def]
    return generate_shop(tmp_path / "shop", users=60, products=40, events=3000, seed=3)


def test_synthetic_shop_lands_with_aggregated_edges(store: GraphStore, settings: Settings, shop) -> None:  # type: ignore[no-untyped-def]
    ingest_products(store, settings, shop.products)
    summary = ingest_events(store, settings, shop.events)
    assert summary.rows_ok == 3000 and summary.rows_bad == 0
    stats = store.stats()
    assert stats["nodes"]["Product"] == 40
    assert stats["relationships"]["IN_CATEGORY"] == 40 and stats["relationships"]["HAS_BRAND"] == 40
    total = store.execute("MATCH (:User)-[r]->(:Product) RETURN sum(r.count) AS n")[0]["n"]
    distinct = len({tuple(line.split(",")[:4]) for line in shop.events.read_text().splitlines()[1:]})
    with EventLedger.from_settings(settings) as ledger:
        stored = ledger.counts()["events"]
    assert total == stored == distinct  # each distinct (user, item, type, time) stored and counted once
    bad_edges = store.execute(
        "MATCH ()-[r]->() WHERE r.count IS NOT NULL AND (r.first_at > r.last_at OR r.count < 1) RETURN count(r) AS n"
    )
    assert bad_edges[0]["n"] == 0
    rated = store.execute("MATCH ()-[r:RATED]->() WHERE r.rating IS NULL RETURN count(r) AS n")
    assert rated[0]["n"] == 0


def test_reingest_is_skipped_and_force_changes_nothing(store: GraphStore, settings: Settings, shop) -> None:  # type: ignore[no-untyped-def]
    ingest_products(store, settings, shop.products)
    ingest_events(store, settings, shop.events)
    before = snapshot(store)
    again = ingest_events(store, settings, shop.events)
    assert again.skipped and again.rows_ok == 3000
    forced = ingest_events(store, settings, shop.events, force=True)
    assert not forced.skipped
    ingest_products(store, settings, shop.products, force=True)
    assert snapshot(store) == before
    runs = store.execute("MATCH (r:IngestRun) RETURN r.status AS s, r.rows_ok AS ok ORDER BY ok")
    assert runs == [{"s": "finished", "ok": 40}, {"s": "finished", "ok": 3000}]


def test_overlapping_files_count_an_event_once(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    ingest_in_turn(
        ingest_events,
        store,
        settings,
        tmp_path,
        "user_id,item_id,event_type,timestamp\n",
        a="u1,p1,view,1000\nu1,p1,view,2000\n",
        b="u1,p1,view,2000\nu1,p1,view,3000\n",
    )
    edge = store.execute("MATCH ()-[r:VIEWED]->() RETURN r.count AS c, r.first_at AS f, r.last_at AS l")
    assert edge == [{"c": 3, "f": 1_000_000, "l": 3_000_000}]


def test_rating_is_the_latest_and_survives_reingest(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    ingest_in_turn(
        ingest_events,
        store,
        settings,
        tmp_path,
        "user_id,item_id,event_type,timestamp,rating\n",
        new="u1,p1,rating,2000,5\n",
        old="u1,p1,rating,1000,2\n",  # an older rating arrives later
    )
    assert store.execute("MATCH ()-[r:RATED]->() RETURN r.rating AS r, r.count AS c") == [{"r": 5.0, "c": 2}]


def test_bad_rows_go_to_quarantine_and_good_rows_land(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"user_id": f"u{i}", "item_id": "p1", "event_type": "view", "timestamp": 1000 + i})
        for i in range(20)
    ]
    lines[4] = '{"user_id": "u4", "item_id": "p1", broken'
    lines[9] = json.dumps({"user_id": "u9", "event_type": "view", "timestamp": 5})
    path.write_text("\n".join(lines) + "\n")
    summary = ingest_events(store, settings, path, fmt="jsonl", max_bad_ratio=0.2)
    assert (summary.rows_ok, summary.rows_bad, summary.ok) == (18, 2, True)
    records = [json.loads(line) for line in Path(summary.quarantine).read_text().splitlines()]
    assert [(r["line"], r["reason"].split(":")[0]) for r in records] == [(5, "bad JSON"), (10, "missing item_id")]
    assert all(r["source"] == str(path) and r["raw"] for r in records)
    assert store.execute("MATCH (u:User) RETURN count(u) AS n") == [{"n": 18}]
    strict = ingest_events(store, settings, path, fmt="jsonl", force=True, max_bad_ratio=0.01)
    assert not strict.ok and strict.rows_ok == 18  # over the limit, good rows still landed


def test_crash_part_way_then_rerun_equals_clean_run(store: GraphStore, settings: Settings, shop) -> None:  # type: ignore[no-untyped-def]
    class Crashing(EventLoader):
        calls = 0

        def load(self, s, records):  # type: ignore[no-untyped-def]
            Crashing.calls += 1
            if Crashing.calls == 3:
                raise KeyboardInterrupt("killed")
            super().load(s, records)

    ingest_products(store, settings, shop.products)
    with pytest.raises(KeyboardInterrupt), Crashing.from_settings(settings) as crashing:
        run_ingest(store, settings, shop.events, kind="events", fmt="csv", reader=EVENT_READERS["csv"], loader=crashing)
    status = store.execute("MATCH (r:IngestRun {kind: 'events'}) RETURN r.status AS s")
    assert status in ([{"s": "running"}], [{"s": "failed"}])  # never "finished"
    rerun = ingest_events(store, settings, shop.events)
    assert not rerun.skipped  # an unfinished run is not skipped
    crashed = snapshot(store)
    store.clear()
    ingest_products(store, settings, shop.products)
    ingest_events(store, settings, shop.events)
    assert snapshot(store) == crashed


def test_kill_9_of_an_ingest_then_rerun_equals_clean_run(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    files = generate_shop(tmp_path / "big", users=2000, products=500, events=60_000, seed=5)
    cmd = [sys.executable, "-c", INGEST_SCRIPT, settings_json(settings), str(files.events)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    wait_until(
        lambda: store.execute("MATCH ()-[r:VIEWED]->() RETURN count(r) AS n")[0]["n"] > 0,
        60,
        "some edges have landed",
        proc=proc,
    )  # kill as soon as they have; fails if the ingest ended first
    proc.kill()
    proc.wait()
    assert proc.returncode == -9  # killed mid-file, not finished
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    after_kill = snapshot(store)
    with clean_twin(settings) as (other, clean):  # fresh graph and ledger
        ingest_events(other, clean, files.events)
        assert snapshot(other) == after_kill


def test_raw_user_ids_never_reach_the_graph(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id,event_type,timestamp\nalice@example.com,p1,view,1000\n")
    ingest_events(store, settings, path)
    users = store.execute("MATCH (u:User) RETURN u.id AS id")
    expected = Pseudonymiser.from_settings(settings).user_id("alice@example.com")
    assert users == [{"id": expected}] and len(expected) == 32
    dump = json.dumps(store.execute("MATCH (n) RETURN properties(n) AS p")) + json.dumps(
        store.execute("MATCH ()-[r]->() RETURN properties(r) AS p")
    )
    assert "alice" not in dump
    other = Pseudonymiser(b"another-key").user_id("alice@example.com")
    assert other != expected  # keyed: without the key the pseudonym cannot be recomputed


def test_product_update_moves_brand_and_category(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    ingest_in_turn(
        ingest_products,
        store,
        settings,
        tmp_path,
        "item_id,title,brand,category,price\n",
        v1="p1,Old,Acme,A > B,1.00\n",
        v2="p1,New,Zen,A > C,2.00\n",
    )
    rows = store.execute(
        "MATCH (p:Product {id: 'p1'})-[:HAS_BRAND]->(b) MATCH (p)-[:IN_CATEGORY]->(c) "
        "RETURN p.title AS t, p.price AS price, collect(b.name) AS brands, collect(c.path) AS cats"
    )
    assert rows == [{"t": "New", "price": 2.0, "brands": ["Zen"], "cats": ["A > C"]}]
    tree = store.execute(
        "MATCH (c:Category)-[:SUBCATEGORY_OF]->(p:Category) RETURN c.path AS c, p.path AS p ORDER BY c"
    )
    assert tree == [{"c": "A > B", "p": "A"}, {"c": "A > C", "p": "A"}]
