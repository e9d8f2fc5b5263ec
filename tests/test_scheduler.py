"""kg schedule: an inbox ingested once (the tests use --once / one batch) on the session's FalkorDB."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from kg.errors import ConfigError
from kg.locks import writer_lock
from kg.scheduler import Inbox, classify, make_trigger, parse_every, run_batch
from kg.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli

EVENTS = "user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\nu1,p1,purchase,1700000100\nu2,p2,view,1700000000\n"
PRODUCTS = "item_id;title;brand\np1;Red Mug;Acme\np2;Blue Mug;Acme\n"


def _old(path: Path, seconds: float = 120.0) -> Path:
    """Mark a file as written ``seconds`` ago (settled)."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "events__day1.csv").write_text(EVENTS, encoding="utf-8")
    (inbox / "catalogue.csv").write_text(PRODUCTS, encoding="utf-8")
    (inbox / "catalogue.csv.kg.json").write_text(json.dumps({"kind": "products", "format": "csv", "delimiter": ";"}))
    (inbox / "notes.txt").write_text("what is this?\n", encoding="utf-8")
    for name in ("events__day1.csv", "catalogue.csv", "catalogue.csv.kg.json", "notes.txt"):
        _old(inbox / name)
    return inbox


def test_durations_names_and_sidecars(tmp_path: Path) -> None:
    assert parse_every("5m") == 300.0 and parse_every("1d") == 86400.0
    for bad in ("soon", "0s", "5 minutes"):
        with pytest.raises(ConfigError):
            parse_every(bad)
    assert classify(tmp_path / "reviews__shop.jsonl.gz") == ("reviews", None, {})
    side = tmp_path / "x.csv"
    (tmp_path / "x.csv.kg.json").write_text('{"kind": "events", "format": "csv", "delimiter": ";"}')
    assert classify(side) == ("events", "csv", {"delimiter": ";"})
    (tmp_path / "y.csv.kg.json").write_text('{"kind": "orders"}')
    with pytest.raises(ConfigError, match="kind 'orders'"):
        classify(tmp_path / "y.csv")
    with pytest.raises(ConfigError, match="cannot tell what it holds"):
        classify(tmp_path / "z.csv")
    with pytest.raises(ConfigError, match="exactly one"):
        make_trigger()
    with pytest.raises(ConfigError, match="--cron"):
        make_trigger(cron="every five minutes")
    assert "cron" in type(make_trigger(cron="*/5 * * * *")).__name__.lower()


def test_a_batch_ingests_moves_and_reports(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    batch = run_batch(settings, Inbox(inbox), profiles=True)
    outcomes = {f.file: f for f in batch.files}
    assert set(outcomes) == {"catalogue.csv", "events__day1.csv", "notes.txt"}
    assert (outcomes["events__day1.csv"].status, outcomes["events__day1.csv"].rows_ok) == ("done", 3)
    assert (outcomes["catalogue.csv"].status, outcomes["catalogue.csv"].kind) == ("done", "products")
    assert outcomes["notes.txt"].status == "failed" and "cannot tell what it holds" in outcomes["notes.txt"].error
    assert batch.profiles == {"status": "skipped", "detail": "no profiles in the graph yet (run kg profiles once)"}
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    done = sorted(p.name for p in (inbox / "done").iterdir())
    assert done == ["catalogue.csv", "catalogue.csv.kg.json", "catalogue.csv.report.json", "events__day1.csv",
                    "events__day1.csv.report.json"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["notes.txt", "notes.txt.report.json"]
    report = json.loads((inbox / "done" / "events__day1.csv.report.json").read_text())
    assert report["outcome"]["status"] == "done" and report["report"]["rows_ok"] == 3
    # the graph: edges, the catalogue, and one IngestRun per file ingested
    assert store.execute("MATCH (:User)-[r]->(p:Product) RETURN count(r) AS n")[0]["n"] == 3
    assert store.execute("MATCH (p:Product {id: 'p1'})-[:HAS_BRAND]->(b) RETURN b.name AS b")[0]["b"] == "Acme"
    runs = store.execute("MATCH (r:IngestRun) RETURN r.kind AS kind, r.status AS status ORDER BY kind")
    assert runs == [{"kind": "events", "status": "finished"}, {"kind": "products", "status": "finished"}]


def test_a_file_still_being_written_waits_for_the_next_look(settings: Settings, store: GraphStore,
                                                            tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    growing = inbox / "events__live.csv"
    growing.write_text(EVENTS[:40], encoding="utf-8")  # fresh: younger than --settle
    box = Inbox(inbox, settle=3600)
    first = run_batch(settings, box)
    assert first.files == [] and first.waiting == ["events__live.csv"]
    with open(growing, "a", encoding="utf-8") as handle:  # the copy goes on
        handle.write(EVENTS[40:])
    os.utime(growing, ns=(time.time_ns(), time.time_ns() + 5_000_000))
    second = run_batch(settings, box)
    assert second.files == [] and second.waiting == ["events__live.csv"]
    third = run_batch(settings, box)  # unchanged since the last look: taken
    assert [(f.file, f.status, f.rows_ok) for f in third.files] == [("events__live.csv", "done", 3)]


def test_a_busy_graph_skips_the_tick_and_keeps_the_files(settings: Settings, store: GraphStore,
                                                         tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with writer_lock(settings, what="another ingest"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert held.wait(10)
        batch = run_batch(settings, Inbox(inbox))
    finally:
        release.set()
        thread.join()
    assert batch.files == [] and "busy" in (batch.skipped or "") and "another ingest" in batch.skipped
    assert (inbox / "events__day1.csv").exists() and not any((inbox / "done").iterdir())
    assert [f.status for f in run_batch(settings, Inbox(inbox)).files].count("done") == 2  # next tick takes them


def test_profiles_flag(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "events__a.csv").write_text(EVENTS, encoding="utf-8")
    _old(inbox / "events__a.csv")
    store.execute("CREATE (:Segment {id: 1, size: 0, label: 'x'})")
    batch = run_batch(settings, Inbox(inbox), profiles=False)
    assert batch.done == 1 and batch.profiles is None


def test_cli_once_and_runs(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    result = run_cli(settings, "schedule", "--inbox", str(inbox), "--once", "--settle", "0", "--no-profiles",
                     "--json")
    assert result.exit_code == 1  # notes.txt failed
    batch = json.loads(result.stdout)
    assert (batch["done"], batch["failed"]) == (2, 1)
    runs = run_cli(settings, "runs", "--json")
    assert runs.exit_code == 0, runs.output
    assert sorted(r["kind"] for r in json.loads(runs.stdout)) == ["events", "products"]
    again = run_cli(settings, "schedule", "--inbox", str(inbox), "--once", "--settle", "0", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["files"] == []
    bad = run_cli(settings, "schedule", "--inbox", str(inbox), "--cron", "nope")
    assert bad.exit_code == 2 and "--cron" in bad.output


def test_a_batch_updates_existing_profiles(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """With profiles in the graph, a batch that ingested events brings the touched users up to date."""
    from ingest.api import ingest_file
    from ingest.synthetic import generate_shop
    from profiles import compute_profiles

    files = generate_shop(tmp_path / "shop", users=25, products=15, events=500, seed=4)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    compute_profiles(store, settings, train=False, k=3, seed=0)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "events__late.csv").write_text(
        "user_id,item_id,event_type,timestamp\nU0000001,P0000002,purchase,1800000000000\n"
        "NEWBIE,P0000003,purchase,1800000000001\n", encoding="utf-8")
    _old(inbox / "events__late.csv")
    batch = run_batch(settings, Inbox(inbox), profiles=True)
    assert batch.done == 1
    assert batch.profiles is not None and batch.profiles["status"] == "done"
    assert batch.profiles["users_updated"] == 2
    from kg.privacy import Pseudonymiser

    newbie = Pseudonymiser.from_settings(settings).user_id("NEWBIE")
    assert store.query("profiles_user_segment", id=newbie), "the new user joined a segment"
    assert store.query("profiles_user_recommended", id=newbie), "and has recommendations"
