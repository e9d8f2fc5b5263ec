"""Small helpers for tests: run the CLI in-process, write input files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kg.cli import app
from kg.settings import Settings


def run_cli(settings: Settings, *args: str) -> Any:
    """Invoke ``kg`` with ``settings`` exported as KG_* variables; returns the click Result."""
    env = {
        "KG_HOME": str(settings.home),
        "KG_GRAPH": settings.graph,
        "KG_PSEUDONYM_KEY": settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else "",
        "KG_BATCH_SIZE": str(settings.batch_size),
        "KG_NEO4J_URI": settings.neo4j_uri or "",
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Write JSON lines (dicts are dumped, strings written as they are)."""
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path
