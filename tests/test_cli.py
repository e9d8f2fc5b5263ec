"""Every CLI command: help with an example, exit codes, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kg.cli import app
from kg.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]


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


def test_cypher_json_and_params(store: GraphStore, settings: Settings) -> None:
    store.execute("UNWIND range(1, 3) AS i CREATE (:Product {id: 'p' + toString(i), price: i * 1.5})")
    result = run_cli(settings, "cypher", "MATCH (p:Product) WHERE p.price > $min RETURN p.id AS id, "
                     "p.price AS price ORDER BY id", "-p", "min=2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": "p2", "price": 3.0}, {"id": "p3", "price": 4.5}]
    nodes = json.loads(run_cli(settings, "cypher", "MATCH (p:Product {id: $id}) RETURN p", "-p", "id=p1",
                               "--json").stdout)
    assert nodes[0]["p"]["id"] == "p1" and nodes[0]["p"]["_labels"] == ["Product"]


def test_cypher_syntax_error_is_one_line_exit_3(settings: Settings) -> None:
    result = run_cli(settings, "cypher", "MATCH (p:Product RETURN p")
    assert result.exit_code == 3
    assert result.stderr.startswith("kg: error: FalkorDB:") and result.stderr.count("\n") == 1


def test_ingest_exit_codes(settings: Settings, tmp_path: Path) -> None:
    missing = run_cli(settings, "ingest", "events", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    bad_format = run_cli(settings, "ingest", "events", str(tmp_path / "nope.csv"), "--format", "xml")
    assert bad_format.exit_code == 2 and "unknown events format 'xml'" in bad_format.stderr
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


def test_demo_then_stats_and_user(settings: Settings) -> None:
    result = run_cli(settings, "demo", "--users", "30", "--products", "20", "--events", "800",
                     "--reviews", "150", "--epochs", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
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
    stats = json.loads(run_cli(settings, "stats", "--json").stdout)
    assert stats["nodes"]["User"] == report["stats"]["nodes"]["User"] <= 30
    found = run_cli(settings, "user", "U0000000", "--json")
    unknown = run_cli(settings, "user", "nobody", "--json")
    assert unknown.exit_code == 1 and json.loads(unknown.stdout)["found"] is False
    assert found.exit_code in (0, 1)


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
