"""kg schedule: an inbox ingested once (the tests use --once / one batch) on the session's FalkorDB."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError
from kg.foundation.locks import writer_lock
from kg.foundation.settings import Settings
from kg.operations.scheduler import Inbox, classify, make_trigger, parse_every, run_batch
from kg.profiles.cypher import USER_RECOMMENDED, USER_SEGMENT
from kg.store import GraphStore
from tests.helpers import run_cli

EVENTS = (
    "user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\nu1,p1,purchase,1700000100\nu2,p2,view,1700000000\n"
)
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
    assert done == [
        "catalogue.csv",
        "catalogue.csv.kg.json",
        "catalogue.csv.report.json",
        "events__day1.csv",
        "events__day1.csv.report.json",
    ]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["notes.txt", "notes.txt.report.json"]
    report = json.loads((inbox / "done" / "events__day1.csv.report.json").read_text())
    assert report["outcome"]["status"] == "done" and report["report"]["rows_ok"] == 3
    # the graph: edges, the catalogue, and one IngestRun per file ingested
    assert store.execute("MATCH (:User)-[r]->(p:Product) RETURN count(r) AS n")[0]["n"] == 3
    assert store.execute("MATCH (p:Product {id: 'p1'})-[:HAS_BRAND]->(b) RETURN b.name AS b")[0]["b"] == "Acme"
    runs = store.execute("MATCH (r:IngestRun) RETURN r.kind AS kind, r.status AS status ORDER BY kind")
    assert runs == [{"kind": "events", "status": "finished"}, {"kind": "products", "status": "finished"}]


def test_a_file_still_being_written_waits_for_the_next_look(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
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


def test_a_busy_graph_skips_the_tick_and_keeps_the_files(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
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
    result = run_cli(settings, "schedule", "--inbox", str(inbox), "--once", "--settle", "0", "--no-profiles", "--json")
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
    from kg.ingest.api import ingest_file
    from kg.ingest.synthetic import generate_shop
    from kg.profiles import compute_profiles

    files = generate_shop(tmp_path / "shop", users=25, products=15, events=500, seed=4)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    compute_profiles(store, settings, train=False, k=3, seed=0)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "events__late.csv").write_text(
        "user_id,item_id,event_type,timestamp\nU0000001,P0000002,purchase,1800000000000\n"
        "NEWBIE,P0000003,purchase,1800000000001\n",
        encoding="utf-8",
    )
    _old(inbox / "events__late.csv")
    batch = run_batch(settings, Inbox(inbox), profiles=True)
    assert batch.done == 1
    assert batch.profiles is not None and batch.profiles["status"] == "done"
    assert batch.profiles["users_updated"] == 2
    from kg.foundation.privacy import Pseudonymiser

    newbie = Pseudonymiser.from_settings(settings).user_id("NEWBIE")
    assert store.query(USER_SEGMENT, id=newbie), "the new user joined a segment"
    assert store.query(USER_RECOMMENDED, id=newbie), "and has recommendations"


# -- issue 18: hostile inbox files -------------------------------------------------------------------------
def test_a_sidecar_cannot_undo_a_forget(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """Re-admitting a forgotten person is the operator's ``--allow-forgotten``, never a sidecar's option."""
    from kg.foundation.forgotten import ForgottenUsers
    from kg.foundation.privacy import Pseudonymiser
    from kg.ingest.api import ingest_file
    from kg.operations.forget import forget_user

    (tmp_path / "a.csv").write_text(EVENTS, encoding="utf-8")
    ingest_file(store, settings, tmp_path / "a.csv", kind="events", fmt="csv")
    forget_user(store, settings, "u1")
    gone = Pseudonymiser.from_settings(settings).user_id("u1")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "b.csv").write_text(EVENTS, encoding="utf-8")
    (inbox / "b.csv.kg.json").write_text('{"kind": "events", "allow_forgotten": true}', encoding="utf-8")
    _old(inbox / "b.csv"), _old(inbox / "b.csv.kg.json")
    batch = run_batch(settings, Inbox(inbox), profiles=False)
    [outcome] = batch.files
    assert outcome.status == "failed" and "allow_forgotten" in outcome.error and "--allow-forgotten" in outcome.error
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["b.csv", "b.csv.kg.json", "b.csv.report.json"]
    assert gone in ForgottenUsers.from_settings(settings)
    assert store.execute("MATCH (u:User {id: $id}) RETURN count(u) AS n", {"id": gone}) == [{"n": 0}]


def test_sidecars_are_checked_like_cli_options(tmp_path: Path) -> None:
    def check(spec: object) -> str:
        (tmp_path / "x.csv.kg.json").write_text(json.dumps(spec), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            classify(tmp_path / "x.csv")
        message = str(caught.value)
        assert "\n" not in message and message.startswith("x.csv.kg.json: ")
        return message

    assert "max_bad_ratio" in check({"kind": "events", "max_bad_ratio": "0.5"})
    assert "max_bad_ratio" in check({"kind": "events", "max_bad_ratio": 2})
    assert "max_bad_ratio" in check({"kind": "events", "max_bad_ratio": True})
    assert "force" in check({"kind": "events", "force": "yes"})
    assert "delimiter" in check({"kind": "events", "delimiter": ";;"})
    assert "columns" in check({"kind": "events", "columns": ["user_id"]})
    assert "folds" in check({"kind": "reviews", "folds": 1})
    assert "store_text" in check({"kind": "reviews", "store_text": 1})
    assert "unknown key" in check({"kind": "events", "colums": {"user_id": "c"}})
    assert "allow_forgotten" in check({"kind": "events", "allow_forgotten": False})
    (tmp_path / "x.csv.kg.json").write_text(
        '{"kind": "events", "max_bad_ratio": 0.5, "delimiter": "tab", "force": true, "columns": {"user_id": "c"}}',
        encoding="utf-8",
    )
    assert classify(tmp_path / "x.csv") == (
        "events",
        None,
        {"max_bad_ratio": 0.5, "delimiter": "\t", "force": True, "columns": {"user_id": "c"}},
    )


def test_one_bad_file_does_not_stop_the_inbox(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text(EVENTS, encoding="utf-8")
    (inbox / "a.csv.kg.json").write_text('{"kind": "events", "max_bad_ratio": "0.5"}', encoding="utf-8")
    long_name = "events__" + "x" * 240 + ".csv"  # 252 characters: NAME.report.json would be too long
    assert len(long_name) == 252
    (inbox / long_name).write_text(EVENTS, encoding="utf-8")
    (inbox / "events__z.csv").write_text(EVENTS, encoding="utf-8")
    for path in inbox.iterdir():
        _old(path)
    batch = run_batch(settings, Inbox(inbox), profiles=False)
    outcomes = {f.file: f for f in batch.files}
    assert set(outcomes) == {"a.csv", long_name, "events__z.csv"}
    assert outcomes["a.csv"].status == "failed" and "max_bad_ratio" in outcomes["a.csv"].error
    assert (inbox / "failed" / "a.csv.report.json").is_file() and (inbox / "failed" / "a.csv.kg.json").is_file()
    assert outcomes[long_name].status == "done" and outcomes["events__z.csv"].status == "done"
    moved = Path(outcomes[long_name].moved_to or "")
    assert moved.parent == inbox / "done" and moved.is_file() and len(moved.name) < 252
    assert moved.with_name(moved.name + ".report.json").is_file()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    assert run_batch(settings, Inbox(inbox)).files == []


def test_safe_hand_off_part_dot_files_and_ready_markers(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("events__a.csv.part", ".events__b.csv"):
        (inbox / name).write_text(EVENTS, encoding="utf-8")
        _old(inbox / name)
    (inbox / "events__c.csv").write_text(EVENTS, encoding="utf-8")  # fresh, but marked ready
    (inbox / "events__c.csv.ready").touch()
    (inbox / "orphan.csv.ready").touch()  # a marker without its file: waits, is not a failed file
    box = Inbox(inbox, settle=3600)
    batch = run_batch(settings, box, profiles=False)
    assert [(f.file, f.status) for f in batch.files] == [("events__c.csv", "done")]
    assert not (inbox / "events__c.csv.ready").exists() and (inbox / "orphan.csv.ready").exists()
    assert (inbox / "events__a.csv.part").exists() and (inbox / ".events__b.csv").exists()
    (inbox / "events__a.csv.part").rename(inbox / "events__a.csv")  # the hand-off: rename when complete
    assert run_batch(settings, box, profiles=False).waiting == ["events__a.csv"]  # taken once settled
    assert [(f.file, f.status) for f in run_batch(settings, box, profiles=False).files] == [("events__a.csv", "done")]


def test_a_file_that_changes_during_its_ingest_is_left_for_the_next_tick(
    settings: Settings, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kg.ingest.api

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    growing = inbox / "events__live.csv"
    cut = EVENTS.index("u2,")  # the header and two of the three rows
    growing.write_text(EVENTS[:cut], encoding="utf-8")
    _old(growing)
    real = kg.ingest.api.ingest_file

    def ingest_then_the_writer_goes_on(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = real(*args, **kwargs)
        with open(growing, "a", encoding="utf-8") as handle:
            handle.write(EVENTS[cut:])
        return report

    monkeypatch.setattr(kg.ingest.api, "ingest_file", ingest_then_the_writer_goes_on)
    box = Inbox(inbox, settle=0)
    first = run_batch(settings, box, profiles=False)
    assert first.files == [] and first.waiting == ["events__live.csv"]
    assert growing.exists() and not any((inbox / "done").iterdir())
    monkeypatch.setattr(kg.ingest.api, "ingest_file", real)
    second = run_batch(settings, box, profiles=False)
    assert [(f.file, f.status) for f in second.files] == [("events__live.csv", "done")]
    assert store.execute("MATCH (:User)-[r]->(:Product) RETURN count(r) AS n")[0]["n"] == 3
    # written to between the look and the ingest: not even read this tick
    late = inbox / "events__late.csv"
    late.write_text(EVENTS.replace("u1,", "u3,"), encoding="utf-8")
    _old(late)
    real_look = box.look

    def look_then_the_writer_goes_on():  # type: ignore[no-untyped-def]
        seen = real_look()
        with open(late, "a", encoding="utf-8") as handle:
            handle.write("u4,p1,view,1700000200\n")
        return seen

    monkeypatch.setattr(box, "look", look_then_the_writer_goes_on)
    third = run_batch(settings, box, profiles=False)
    assert third.files == [] and third.waiting == ["events__late.csv"] and late.exists()
    assert store.execute("MATCH (r:IngestRun) RETURN count(r) AS n")[0]["n"] == 2


def test_sigterm_ends_an_ingest_as_failed_not_running(
    settings: Settings, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill PID`` (docker stop, systemd) during ``kg ingest``: the run is recorded failed, like Ctrl-C."""
    import signal
    import sys

    import kg.ingest.runner
    from kg.cli import main
    from kg.ingest.manifest import Manifest
    from tests.helpers import settings_env

    (tmp_path / "e.csv").write_text(EVENTS, encoding="utf-8")
    real_stream = kg.ingest.runner._stream

    def terminated_mid_ingest(*args, **kwargs):  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, inside the run
        return real_stream(*args, **kwargs)

    monkeypatch.setattr(kg.ingest.runner, "_stream", terminated_mid_ingest)
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["kg", "ingest", "events", str(tmp_path / "e.csv"), "--format", "csv"])
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: pytest.fail("SIGTERM would have killed kg (no handler)"))
    try:
        with pytest.raises(SystemExit) as ended:
            main()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert ended.value.code not in (0, None)
    runs = Manifest(store).runs()
    assert [(r["status"], r.get("error")) for r in runs] == [("failed", "interrupted")]


def test_sparse_catalogue_rows_land_and_the_file_goes_to_done(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    """Issue 20: a product row with an id and an empty category is a real product (a marketplace export
    leaves it empty for under 2% of its rows): it lands, counted as sparse, the file goes to done/ with its
    report; only malformed rows are bad."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [f"q{i},{'' if i == 7 else 'home > mugs'}" for i in range(60)]  # 1 sparse row in 60: 1.7%
    (inbox / "products__shop.csv").write_text(
        "product_id,product_category_name\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (inbox / "products__shop.csv.kg.json").write_text(
        json.dumps(
            {
                "kind": "products",
                "format": "csv",
                "columns": {"item_id": "product_id", "category": "product_category_name"},
            }
        )
    )
    for path in inbox.iterdir():
        _old(path)
    (outcome,) = run_batch(settings, Inbox(inbox), profiles=False).files
    assert (outcome.status, outcome.rows_ok, outcome.rows_bad, outcome.rows_sparse) == ("done", 60, 0, 1), outcome
    report = json.loads((inbox / "done" / "products__shop.csv.report.json").read_text())
    assert report["report"]["rows_sparse"] == 1 and report["report"]["ok"]
    assert store.execute("MATCH (p:Product {id: 'q7'}) RETURN p.catalogued AS c") == [{"c": True}]
    assert store.execute("MATCH (p:Product)-[:IN_CATEGORY]->() RETURN count(p) AS n") == [{"n": 59}]
    # the CLI: exit 0, the sparse rows said; a malformed row (a bad price) is still bad, and over the limit exits 1
    sparse = tmp_path / "sparse.csv"
    sparse.write_text(
        "item_id,category,price\n" + "\n".join(f"s{i},{'' if i < 1 else 'a > b'}," for i in range(60)) + "\n",
        encoding="utf-8",
    )
    result = run_cli(settings, "ingest", "products", str(sparse), "--format", "csv")
    assert result.exit_code == 0 and "1 sparse row" in result.output, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "item_id,category,price\n" + "\n".join(f"b{i},a > b,{'cheap' if i < 1 else '1'}" for i in range(60)) + "\n",
        encoding="utf-8",
    )
    result = run_cli(settings, "ingest", "products", str(bad), "--format", "csv")
    assert result.exit_code == 1, result.output
