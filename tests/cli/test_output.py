"""Output as a person and a script expect it: data on stdout, messages on stderr, no wrapping, no
markup, no Python reprs, no carriage returns when not on a terminal, JSON alone with --json."""

from __future__ import annotations

import json
from pathlib import Path

from kg.foundation.settings import Settings
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
    result = run_cli(
        settings, "demo", "--users", "10", "--products", "8", "--events", "200", "--reviews", "0", "--epochs", "0"
    )
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
    args = [
        sys.executable,
        "-m",
        "kg.cli",
        "--home",
        str(tmp_path / "h"),
        "demo",
        "--users",
        "10",
        "--products",
        "8",
        "--events",
        "300",
        "--reviews",
        "0",
        "--epochs",
        "2",
    ]
    try:
        quiet = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert quiet.returncode == 0, quiet.stderr
        assert "INFO" not in quiet.stderr and "trained TransE" in quiet.stderr
    finally:
        subprocess.run(
            [sys.executable, "-m", "kg.cli", "--home", str(tmp_path / "h" / "demo"), "db", "stop"],
            capture_output=True,
            env=env,
            timeout=60,
        )
    assert (tmp_path / "h" / "pykeen").stat().st_mode & 0o077 == 0  # PyKEEN's folder is owner-only too


def _on_a_terminal(settings: Settings, *args: str, timeout: float = 120.0) -> tuple[int, str]:
    """Run ``kg ARGS`` in a child process whose stdin, stdout and stderr are a real pseudo-terminal."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    from tests.helpers import settings_env

    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update(settings_env(settings), COLUMNS="200", LINES="50", TERM="xterm")
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1.0)[0]:
                if child.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_tables_print_on_a_terminal_with_control_characters_escaped(store, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """CI has no terminal: the rich table path (and the terminal's escaping) is run on a pseudo-terminal."""
    store.execute("CREATE (:Product {id: 'p1', title: $t})", {"t": "Mug\x1b]0;owned\x07 [b]x"})
    stats = _on_a_terminal(settings, "stats")
    assert stats[0] == 0, stats[1]
    assert "Product" in stats[1] and "count" in stats[1] and "Error" not in stats[1]
    code, shown = _on_a_terminal(settings, "cypher", "MATCH (p:Product) RETURN p.title AS title, p.id AS id")
    assert code == 0, shown
    assert "\x1b]0;owned" not in shown and "\x07" not in shown
    assert "Mug\\x1b]0;owned\\x07 [b]x" in shown and "p1" in shown
    plan = _on_a_terminal(settings, "cypher", "EXPLAIN MATCH (p:Product {title: $t}) RETURN p", "-p", "t=\x1b]0;x\x07")
    assert plan[0] == 0 and "\x1b]0;x" not in plan[1], plan[1]
