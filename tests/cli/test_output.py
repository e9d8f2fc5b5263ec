"""Output as a person and a script expect it: data on stdout, messages on stderr, no wrapping, no
markup, no Python reprs, no carriage returns when not on a terminal, JSON alone with --json."""

from __future__ import annotations

import json
from pathlib import Path

from kg.settings import Settings
from tests.embeddings.test_graph import graph  # noqa: F401  (the small planted graph fixture)
from tests.helpers import run_cli


def test_ingest_runs_table_is_data_on_stdout_and_not_wrapped(settings: Settings, tmp_path: Path) -> None:
    name = "a_rather_long_file_name_of_a_real_shop_export_" + "x" * 60 + ".csv"
    path = tmp_path / name
    path.write_text("user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\n")
    ingested = run_cli(settings, "ingest", "events", str(path))
    assert ingested.exit_code == 0 and ingested.stdout == ""  # messages go to stderr
    assert any(str(path) in line for line in ingested.stderr.splitlines())  # the whole path on one line
    runs = run_cli(settings, "ingest", "runs")
    assert runs.exit_code == 0 and runs.stderr == ""
    header, row = runs.stdout.splitlines()[:2]
    assert header.split("\t")[:4] == ["file", "kind", "format", "status"]
    assert row.split("\t")[:6] == [name, "events", "csv", "finished", "1", "0"]  # counts as integers


def test_json_output_is_one_document_and_nothing_else(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id,event_type,timestamp\nu1,p1,view,1700000000\n")
    result = run_cli(settings, "ingest", "events", str(path), "--json")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["rows_ok"] == 1


def test_demo_summary_is_text_not_a_python_dict(settings: Settings) -> None:
    result = run_cli(settings, "demo", "--users", "10", "--products", "8", "--events", "200", "--reviews", "0",
                     "--epochs", "0")
    try:
        assert result.exit_code == 0, result.output
        assert "\nnodes: " in result.stderr and "{'nodes'" not in result.output
        assert "\r" not in result.output
    finally:
        demo = Settings(home=settings.home / "demo", graph=settings.graph, pseudonym_key=settings.pseudonym_key)
        run_cli(demo, "db", "stop")


def test_training_logs_carry_no_progress_bars_off_a_terminal(graph, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(settings, "embed", "train", "--dim", "4", "--epochs", "2", "--no-early-stopping")
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output and "it/s" not in result.output
    assert result.stdout.startswith("run ")


def test_library_chatter_stays_out_of_the_output_unless_verbose(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    args = [sys.executable, "-m", "kg.cli", "--home", str(tmp_path / "h"), "demo", "--users", "10", "--products",
            "8", "--events", "300", "--reviews", "0", "--epochs", "2"]
    try:
        quiet = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert quiet.returncode == 0, quiet.stderr
        assert "INFO" not in quiet.stderr and "trained TransE" in quiet.stderr
    finally:
        subprocess.run([sys.executable, "-m", "kg.cli", "--home", str(tmp_path / "h" / "demo"), "db", "stop"],
                       capture_output=True, env=env, timeout=60)
    assert (tmp_path / "h" / "pykeen").stat().st_mode & 0o077 == 0  # PyKEEN's folder is owner-only too
