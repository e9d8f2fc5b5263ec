"""Issue 20: usage errors are usage errors (exit 2, click's usage line and hint, not "report it"), a
closed pipe on stdout ends quietly (exit 141, what a shell reports for Unix tools killed by SIGPIPE),
every data-printing command takes ``--json``, and messages are shortened at word boundaries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from kg.cli import app
from kg.cli.common import EXIT_BROKEN_PIPE, KGGroup
from kg.foundation.errors import shorten
from kg.foundation.settings import Settings
from kg.ingest.quarantine import Quarantine
from kg.ingest.records import BadRow
from tests.helpers import run_cli, settings_env

ROOT = Path(__file__).resolve().parents[2]


def _kg_process(*args: str) -> list[str]:
    """The real entry point (``python -m kg.cli``) of this checkout."""
    return [sys.executable, "-m", "kg.cli", *args]


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


# --- 1. usage errors -------------------------------------------------------------------------------

USAGE_ERRORS = {
    "unknown option": (["profiles", "--bogus"], "No such option: --bogus", "kg profiles"),
    "unknown command": (["nosuch"], "No such command 'nosuch'", "kg"),
    "missing argument": (["profile"], "Missing argument", "kg profile"),
    "unknown option of a group": (["db", "--bogus"], "No such option: --bogus", "kg db"),
    "missing argument in a group": (["query", "run"], "Missing argument", "kg query run"),
    "bad option value": (["profiles", "--k", "many"], "Invalid value for '--k'", "kg profiles"),
}


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_errors_exit_2_with_the_usage_line_and_the_hint(case: str, tmp_path: Path) -> None:
    args, message, command = USAGE_ERRORS[case]
    result = CliRunner().invoke(app, args, env={"KG_HOME": str(tmp_path / "home")}, prog_name="kg")
    assert result.exit_code == 2, result.output
    assert f"Usage: {command} " in result.stderr and f"Try '{command} --help' for help." in result.stderr
    assert message in result.stderr
    assert "report it" not in result.stderr and "kg: error" not in result.stderr


def test_a_usage_error_from_the_real_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        _kg_process("profiles", "--bogus"),
        capture_output=True,
        text=True,
        env=_env({"KG_HOME": str(tmp_path / "home")}),
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Usage: kg profiles ") and "Try 'kg profiles --help'" in done.stderr
    assert "report it" not in done.stderr and done.stdout == ""


def _probe_app(raiser: object) -> typer.Typer:
    probe = typer.Typer(cls=KGGroup, add_completion=False, rich_markup_mode=None)

    @probe.command("bad")
    def bad(ctx: typer.Context) -> None:
        raiser(ctx)  # type: ignore[operator]

    @probe.command("other")
    def other() -> None:
        pass

    return probe


@pytest.mark.parametrize("flavour", ["plain click", "typer's click"])
def test_usage_errors_of_either_click_are_usage_errors(flavour: str) -> None:
    """typer 0.29+ vendors its own click: errors of both copies end as usage errors, exit 2."""
    error = click.UsageError if flavour == "plain click" else typer.BadParameter

    def raiser(ctx: typer.Context) -> None:
        raise error("that will not do", ctx=ctx)

    result = CliRunner().invoke(_probe_app(raiser), ["bad"], prog_name="probe")
    assert result.exit_code == 2, result.output
    assert "that will not do" in result.stderr and "report it" not in result.stderr
    assert "Usage: probe bad" in result.stderr


def test_a_plain_click_exit_and_abort_keep_their_meaning() -> None:
    def exits(ctx: typer.Context) -> None:
        raise click.exceptions.Exit(3)

    def aborts(ctx: typer.Context) -> None:
        raise click.Abort()

    assert CliRunner().invoke(_probe_app(exits), ["bad"]).exit_code == 3
    aborted = CliRunner().invoke(_probe_app(aborts), ["bad"])
    assert aborted.exit_code == 1 and "Aborted!" in aborted.stderr and "report it" not in aborted.stderr


# --- 2. broken pipes -------------------------------------------------------------------------------


def _closed_pipe_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run kg with stdout on a pipe whose reader has already gone (what ``| head`` does once it has
    its lines)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            _kg_process(*args), stdout=write, stderr=subprocess.PIPE, text=True, env=_env(env), timeout=180
        )
    finally:
        os.close(write)


@pytest.mark.falkordb_only(
    "a real pipe on the embedded backend, as the issue reports it; the pipe "
    "handling is the CLI's and does not depend on the backend"
)
def test_a_closed_pipe_on_stdout_ends_quietly(settings: Settings, tmp_path: Path) -> None:
    products = tmp_path / "p.csv"
    products.write_text(
        "item_id,title,brand,category,price\n"
        + "".join(f"p{i},Product number {i},Brand,A > B,{i}.5\n" for i in range(2000))
    )
    assert run_cli(settings, "ingest", "products", str(products), "--no-update").exit_code == 0
    env = settings_env(settings)
    for args in (
        ("cypher", "MATCH (p:Product) RETURN p.id, p.title"),
        ("cypher", "MATCH (p:Product) RETURN p.id, p.title", "--json"),
        ("ingest", "runs"),
        ("runs",),
        ("query", "list"),
        ("stats", "--json"),
    ):
        done = _closed_pipe_run(env, *args)
        assert done.returncode == EXIT_BROKEN_PIPE, (args, done.stderr)
        assert done.stderr == "", (args, done.stderr)  # no "kg: error: BrokenPipeError", no traceback

    # and through a shell, as a person types it: head takes its line, kg stops quietly
    cypher = " ".join(_kg_process("cypher", "'MATCH (p:Product) RETURN p.id, p.title'"))
    shell = subprocess.run(
        ["bash", "-c", f'{cypher} | head -1; echo "status=${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
        env=_env(env),
        timeout=180,
    )
    first, status = shell.stdout.splitlines()[0], shell.stdout.splitlines()[-1]
    assert first.split("\t")[0] in ("p.id", "id") and shell.stderr == ""
    assert status in ("status=0", f"status={EXIT_BROKEN_PIPE}")  # 0 if kg wrote all before head left


# --- 3. --json everywhere ----------------------------------------------------------------------------

#: commands that print no data, each with why; every other command takes --json
NO_JSON = {
    "kg explore": "a long-running web server: it prints where it listens and serves until stopped",
    "kg serve": "a long-running service: it prints where it listens and serves until stopped",
}


def _commands(command: object, path: str) -> list[tuple[str, object]]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [(path, command)]
    found: list[tuple[str, object]] = []
    for name, sub in sorted(subcommands.items()):
        found += _commands(sub, f"{path} {name}")
    return found


def test_every_command_that_prints_data_takes_json() -> None:
    commands = _commands(typer.main.get_command(app), "kg")
    assert len(commands) > 20  # the walk reaches the groups' commands too
    options = {
        path: [opt for param in command.params for opt in param.opts]  # type: ignore[attr-defined]
        for path, command in commands
    }
    missing = [path for path, opts in options.items() if path not in NO_JSON and "--json" not in opts]
    assert missing == []
    assert set(NO_JSON) <= {path for path, _ in commands}  # no stale exception


@pytest.mark.falkordb_only("the option's meaning is the CLI's; one backend shows it")
def test_query_run_json_is_format_json(settings: Settings) -> None:
    by_json = run_cli(settings, "query", "run", "review_volume", "--json")
    by_format = run_cli(settings, "query", "run", "review_volume", "--format", "json")
    assert by_json.exit_code == 0 and by_format.exit_code == 0, by_json.output
    assert json.loads(by_json.stdout) == json.loads(by_format.stdout)
    clash = run_cli(settings, "query", "run", "review_volume", "--json", "--format", "csv")
    assert clash.exit_code == 2 and "--json" in clash.stderr


def test_query_export_json_names_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["query", "export", "--zip", str(tmp_path / "q.zip"), "--json"], env={"KG_HOME": str(tmp_path / "home")}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"zip": str(tmp_path / "q.zip"), "guide": None}


# --- 4. messages cut at word boundaries -----------------------------------------------------------


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "no catalogue field (title, brand, category, price, also_bought, also_viewed)"
    assert shorten(text, 200) == text
    short = shorten(text, 60)
    assert len(short) <= 60 and short.endswith("…")
    assert text.startswith(short[:-1]) and text[len(short) - 1] in " ,"  # the cut is between words
    assert shorten("x" * 100, 10) == "x" * 9 + "…"  # one word longer than the room: cut it


def test_bad_row_reasons_are_not_cut_mid_word(tmp_path: Path) -> None:
    quarantine = Quarantine(tmp_path / "q", tmp_path / "products.csv", kind="products", checksum="0" * 64)
    reason = "no catalogue field (title, brand, category, price, also_bought, also_viewed)"
    quarantine.add(BadRow(2, reason, '{"item_id": "p1"}'))
    long_reason = "a reason of many words " * 10
    quarantine.add(BadRow(3, long_reason, '{"item_id": "p2"}'))
    quarantine.close()
    assert reason in quarantine.reasons  # whole
    (shortened,) = [r for r in quarantine.reasons if r != reason]
    assert shortened.endswith("…") and long_reason.startswith(shortened[:-1].rstrip())
    assert long_reason[len(shortened[:-1].rstrip())] == " "  # cut before a space, not inside a word
