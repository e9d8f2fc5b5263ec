"""Helpers every CLI module shares: settings from the context, JSON output, progress, errors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from typer.core import TyperGroup

from kg.errors import KGError, StoreError
from kg.settings import Settings

__all__ = ["KGGroup", "AppState", "settings_of", "emit_json", "progress_bytes", "stderr", "store_of", "fail"]

stderr = Console(stderr=True)
logger = logging.getLogger("kg.cli")


@dataclass
class AppState:
    settings: Settings


class KGGroup(TyperGroup):
    """Turns any :class:`KGError` into one line on stderr and its exit code (2 input/config, 3 store)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KGError as e:
            click.echo(f"kg: error: {e}", err=True)
            sys.exit(3 if isinstance(e, StoreError) else e.exit_code)


def settings_of(ctx: typer.Context) -> Settings:
    """The Settings built by the root callback."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(Settings())
    return root.obj.settings


def store_of(ctx: typer.Context):  # type: ignore[no-untyped-def]
    """Open the configured graph store (starting the embedded server if needed)."""
    from kg.store import open_store

    return open_store(settings_of(ctx))


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (the only thing on stdout with --json)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 2) -> None:
    """One line on stderr and exit ``code``."""
    click.echo(f"kg: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def progress_bytes(description: str, *, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr over bytes; yields ``update(done, total)``."""
    if not enabled:
        yield lambda done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=stderr, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
