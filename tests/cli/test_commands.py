"""Every CLI command: help with an example, exit codes, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kg.cli import app
from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.helpers import readline_within, run_cli, settings_code

ROOT = Path(__file__).resolve().parents[2]


def _commands(group, prefix=()):  # type: ignore[no-untyped-def]
    import typer.main

    command = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, sub in command.commands.items():
        if hasattr(sub, "commands"):
            yield from _commands(sub, prefix + (name,))
        else:
            yield prefix + (name,)


def test_every_command_has_help_with_an_example(settings: Settings) -> None:
    commands = list(_commands(app))
    assert ("ingest", "events") in commands and ("db", "status") in commands
    for path in commands:
        result = run_cli(settings, *path, "--help")
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, f"`kg {' '.join(path)} --help` has no example"


def test_ingest_exit_codes(settings: Settings, tmp_path: Path) -> None:
    missing = run_cli(settings, "ingest", "events", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    bad_format = run_cli(settings, "ingest", "events", str(tmp_path / "nope.csv"), "--format", "xml")
    assert bad_format.exit_code == 2 and "unknown events format 'xml'" in bad_format.stderr
    assert bad_format.stderr.count("\n") == 1 and "hint:" in bad_format.stderr
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id,event_type,timestamp\nu1,p1,view,1\nu1,p1,view,oops\n")
    over = run_cli(settings, "ingest", "events", str(path), "--json")
    assert over.exit_code == 1
    report = json.loads(over.stdout)
    assert (report["rows_ok"], report["rows_bad"], report["ok"]) == (1, 1, False)
    within = run_cli(settings, "ingest", "events", str(path), "--force", "--max-bad-ratio", "0.5", "--json")
    assert within.exit_code == 0
    skipped = run_cli(settings, "ingest", "events", str(path), "--json")
    assert json.loads(skipped.stdout)["skipped"] is True
    runs = json.loads(run_cli(settings, "ingest", "runs", "--json").stdout)
    assert [r["status"] for r in runs] == ["finished"]


def test_demo_never_touches_the_users_graph_then_stats_and_user(settings: Settings, tmp_path: Path) -> None:
    events = tmp_path / "mine.csv"
    events.write_text("user_id,item_id,event_type,timestamp\nalice,p1,view,1700000000\nalice,p2,purchase,1700000001\n")
    assert run_cli(settings, "ingest", "events", str(events)).exit_code == 0
    before = json.loads(run_cli(settings, "stats", "--json").stdout)
    result = run_cli(
        settings,
        "demo",
        "--users",
        "30",
        "--products",
        "20",
        "--events",
        "800",
        "--reviews",
        "150",
        "--epochs",
        "2",
        "--json",
    )
    if settings.backend == "neo4j":  # Community holds one database, and it is the user's: the demo refuses
        assert result.exit_code == 2 and "holds data the demo did not create" in result.stderr, result.output
        assert json.loads(run_cli(settings, "stats", "--json").stdout) == before
        return
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # the user's graph is exactly as it was; the demo lives in its own home
    assert json.loads(run_cli(settings, "stats", "--json").stdout) == before
    assert report["home"] == str(settings.home / "demo") and (settings.home / "demo" / ".kg-demo").is_file()
    assert report["stats"]["nodes"]["Product"] == 20
    assert report["stats"]["relationships"]["VIEWED"] > 0
    assert len(report["top_products"]) == 5
    # reviews: the demo graph has aspects, with aggregates on the top product
    assert report["stats"]["nodes"]["Review"] == 150
    assert report["stats"]["nodes"]["Aspect"] > 0
    assert report["stats"]["relationships"]["HAS_ASPECT"] > 0
    # embeddings: a trained run, written back, with neighbours for the top products
    emb = report["embeddings"]
    assert emb["written"]["total_nodes"] > 0 and 0.0 < emb["metrics"]["mrr"] <= 1.0
    assert emb["similar"] and all(len(n) == 5 for n in emb["similar"].values())
    for pid, neighbours in emb["similar"].items():
        assert pid not in {n["id"] for n in neighbours}
    demo = Settings(home=settings.home / "demo", pseudonym_key=settings.pseudonym_key, graph=settings.graph)
    try:
        stats = json.loads(run_cli(demo, "stats", "--json").stdout)
        assert stats["nodes"]["User"] == report["stats"]["nodes"]["User"] <= 30
    finally:
        run_cli(demo, "db", "stop")
    # a known user: behaviour per type; an unknown one: "not found", exit 1
    found = run_cli(settings, "user", "alice", "--json")
    assert found.exit_code == 0
    profile = json.loads(found.stdout)
    assert profile["found"] and {b["type"]: b["events"] for b in profile["behaviour"]} == {"PURCHASED": 1, "VIEWED": 1}
    unknown = run_cli(settings, "user", "nobody")
    assert unknown.exit_code == 1 and "not found" in unknown.stderr


@pytest.mark.falkordb_only(
    "the demo folder is the embedded database's home; on Neo4j the demo makes no folder and "
    "refuses a non-empty database instead (test_demo_never_touches_the_users_graph...)"
)
def test_demo_refuses_a_demo_folder_it_did_not_make(settings: Settings) -> None:
    (settings.home / "demo").mkdir()
    (settings.home / "demo" / "precious.txt").write_text("mine")
    result = run_cli(
        settings, "demo", "--users", "5", "--products", "5", "--events", "50", "--reviews", "0", "--epochs", "0"
    )
    assert result.exit_code == 2 and "not made by kg demo" in result.stderr
    assert (settings.home / "demo" / "precious.txt").read_text() == "mine"


def test_db_commands_on_a_private_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    status = run_cli(settings, "db", "status", "--json")
    assert status.exit_code == 1 and json.loads(status.stdout)["running"] is False
    try:
        started = run_cli(settings, "db", "start", "--json")
        assert started.exit_code == 0 and json.loads(started.stdout)["running"] is True
        status = json.loads(run_cli(settings, "db", "status", "--json").stdout)
        assert status["running"] and status["pid"] > 0
        assert (settings.db_dir / "appendonlydir").is_dir()  # append-only persistence is on
    finally:
        stopped = run_cli(settings, "db", "stop", "--json")
    assert json.loads(stopped.stdout) == {"stopped": True}
    assert run_cli(settings, "db", "status").exit_code == 1


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    jsonschema.validate(compose, schema)
    neo4j = compose["services"]["neo4j"]
    assert neo4j["image"].startswith("neo4j:5")
    assert {p.split(":")[-1] for p in neo4j["ports"]} == {"7474", "7687"}
    assert "healthcheck" in neo4j and neo4j["volumes"]
    assert "${NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]


def test_rebuild_restores_behaviour_edges_from_the_ledger(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\nu1,p1,view,1700000500\n"
        "u2,p1,purchase,1700000000\n"
    )
    assert run_cli(settings, "ingest", "events", str(path)).exit_code == 0
    query = "MATCH (:User)-[r]->(:Product) RETURN type(r) AS t, r.count AS c, r.first_date AS d ORDER BY t"
    before = store.execute(query)
    assert before == [{"t": "PURCHASED", "c": 1, "d": "2023-11-14"}, {"t": "VIEWED", "c": 2, "d": "2023-11-14"}]
    store.execute("MATCH (:User)-[r:VIEWED]->(:Product) DELETE r")
    result = run_cli(settings, "rebuild", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["edges_written"] == 2
    assert store.execute(query) == before


def test_a_busy_graph_is_exit_4_with_wait_0(settings: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys\n"
                "from kg.foundation.locks import writer_lock\nfrom kg.foundation.settings import Settings\n"
                f"s = {settings_code(settings)}\n"
                "with writer_lock(s, what='a test holding the graph'):\n"
                "    print('held', flush=True); sys.stdin.readline()\n"
            ),
        ],  # holds until the test says (or ends)
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and readline_within(holder.stdout, 60) == "held\n"
        path = tmp_path / "e.csv"
        path.write_text("user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\n")
        busy = run_cli(settings, "--wait", "0", "ingest", "events", str(path))
        assert busy.exit_code == 4, busy.output
        assert busy.stderr.count("\n") == 1 and "a test holding the graph" in busy.stderr
    finally:
        holder.kill()
        holder.wait()
    assert run_cli(settings, "--wait", "0", "ingest", "events", str(path)).exit_code == 0
