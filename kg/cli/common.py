"""What every CLI module shares: options defined once, settings from the context, output, errors.

Output rules: data on stdout (tables, ``--json``), messages and progress on stderr; values are
printed as text, never interpreted as markup; ``--json`` prints one JSON document and nothing else.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperGroup

from kg.foundation.errors import ConfigError, KGError, shorten
from kg.foundation.settings import Settings

if TYPE_CHECKING:
    # the Context TyperGroup.invoke is declared with: typer 0.29+ vendors click as typer._click
    from typer._click import Context as TyperClickContext

    from kg.store.base import GraphStore

__all__ = [
    "AppState",
    "KGGroup",
    "JsonOpt",
    "settings_of",
    "state_of",
    "store_of",
    "emit_json",
    "out",
    "say",
    "print_table",
    "printable",
    "progress_bytes",
    "progress_enabled",
    "fail",
]

logger = logging.getLogger("kg.cli")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]


@dataclass
class AppState:
    """What the root callback resolved once for every command."""

    settings: Settings
    quiet: bool = False
    verbose: int = 0


def _click_flavours() -> tuple[Any, ...]:
    """The click modules whose exceptions may reach us: plain click and the copy typer vendors
    (typer 0.29+ ships ``typer._click``; an ``except click.ClickException`` misses its errors)."""
    flavours = [click]
    vendored = getattr(typer.core, "_click", None)
    if vendored is not None and vendored is not click:
        flavours.append(vendored)
    return tuple(flavours)


_CLICK = _click_flavours()
#: usage errors (unknown option or command, missing argument, bad value): click's usage line, the hint, exit 2
_CLICK_ERRORS = tuple(m.exceptions.ClickException for m in _CLICK)
_CLICK_EXITS = tuple(m.exceptions.Exit for m in _CLICK if hasattr(m.exceptions, "Exit")) + (typer.Exit,)
_CLICK_ABORTS = tuple(m.exceptions.Abort for m in _CLICK if hasattr(m.exceptions, "Abort")) + (typer.Abort,)

#: the exit status when stdout's reader has gone (``kg ... | head``): 128 + SIGPIPE, what a shell reports
#: for ``seq 100000 | head -1`` and every Unix tool killed by the signal; nothing is printed
EXIT_BROKEN_PIPE = 141


def exit_broken_pipe() -> None:
    """stdout's reader closed the pipe: stop quietly (no message, no traceback) with exit 141.

    stdout is pointed at /dev/null first, so that the interpreter's final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (a test runner's buffer)
        pass
    sys.exit(EXIT_BROKEN_PIPE)


class KGGroup(TyperGroup):
    """Turns any error into one line on stderr and an exit code: KGError's own (2 bad input or config,
    3 database, 4 busy), 1 for anything unexpected (its traceback is logged with -vv). Usage errors (of
    plain click or typer's vendored click) print click's usage line and hint and exit 2; a closed pipe on
    stdout ends quietly with 141."""

    def invoke(self, ctx: TyperClickContext) -> Any:
        from kg.foundation.extras import missing_extras

        try:
            with missing_extras(lambda: ctx.invoked_subcommand):  # a missing optional package: name its extra
                result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
            return result
        except _CLICK_EXITS as e:
            sys.exit(getattr(e, "exit_code", 0))
        except _CLICK_ABORTS:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except _CLICK_ERRORS as e:
            e.show()
            sys.exit(e.exit_code)
        except BrokenPipeError:
            exit_broken_pipe()
        except KGError as e:
            click.echo(f"kg: error: {_one_line(str(e))}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("kg: interrupted", err=True)
            sys.exit(130)
        except Exception as e:  # a bug or an unforeseen failure: still one line, the traceback on -vv
            logger.debug("unexpected error", exc_info=True)
            click.echo(
                f"kg: error: {type(e).__name__}: {_one_line(str(e))} (hint: run with -vv for the "
                "traceback and report it)",
                err=True,
            )
            sys.exit(1)


def _one_line(text: str, limit: int = 600) -> str:
    return shorten(printable(" ".join(text.split())), limit)


def state_of(ctx: typer.Context) -> AppState:
    """The AppState built by the root callback (built from the environment if missing)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(build_settings())
    return root.obj


def build_settings(**overrides: Any) -> Settings:
    """Settings from KG_* variables; a bad value is a one-line ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(
            f"bad setting {field}: {first.get('msg')}", hint=f"check KG_{field.upper()} or the matching option"
        ) from e


def settings_of(ctx: typer.Context) -> Settings:
    """The Settings built by the root callback."""
    return state_of(ctx).settings


def store_of(ctx: typer.Context) -> GraphStore:
    """Open the configured graph store (starting the embedded server if needed)."""
    from kg.store import open_store

    return open_store(settings_of(ctx))


def progress_enabled(ctx: typer.Context, json_out: bool = False) -> bool:
    """Progress bars only on a terminal, never with --json or --quiet."""
    return not json_out and not state_of(ctx).quiet and sys.stderr.isatty()


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (the only thing on stdout with --json)."""
    sys.stdout.write(json.dumps(_jsonable(value), ensure_ascii=False, indent=2, default=str) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, keep: str = "") -> str:
    """``text`` with control characters (C0, DEL, C1) written as escapes, so that data never drives a
    terminal (``\\x1b]0;title\\x07``); characters in ``keep`` stay as they are.

    >>> printable("a\\x1b]0;x\\x07b\\r\\n", keep="\\n")
    'a\\\\x1b]0;x\\\\x07b\\\\r\\n'
    """

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep else {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")

    return _CONTROL.sub(escape, text)


def out(text: str) -> None:
    """One line of data on stdout, as plain text (control characters escaped on a terminal)."""
    click.echo(printable(text, keep="\n\t") if sys.stdout.isatty() else text)


def say(ctx: typer.Context | None, text: str) -> None:
    """A message on stderr (silenced by --quiet), as plain text (control characters escaped on a terminal)."""
    if ctx is not None and state_of(ctx).quiet:
        return
    click.echo(printable(text, keep="\n\t") if sys.stderr.isatty() else text, err=True)


def fail(message: str, *, hint: str | None = None) -> None:
    """Stop the command with a bad-input error (exit 2)."""
    raise ConfigError(message, hint=hint)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows on stdout: a table on a terminal, tab-separated lines (header first) otherwise.

    Cells are plain text: ``[b]`` in a value prints as ``[b]``; control characters print as escapes.
    """
    cells = [[printable(_cell(v), keep="\t\n") for v in row] for row in rows]
    if not sys.stdout.isatty():
        click.echo("\t".join(printable(c) for c in columns))
        for row in cells:
            click.echo("\t".join(c.replace("\t", " ").replace("\n", " ") for c in row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()  # headers as Text through add_column: rich 15 takes only str or Column in Table(*headers)
    for column in columns:
        table.add_column(Text(printable(column)))
    for row in cells:
        table.add_row(*[Text(c) for c in row])
    Console(markup=False, highlight=False, emoji=False).print(table)


@contextmanager
def progress_bytes(
    description: str, *, enabled: bool = True, unit: str = "bytes"
) -> Iterator[Callable[[int, int], None]]:
    """The one progress display: a bar on stderr over bytes (or items with ``unit="items"``);
    yields ``update(done, total)`` (a no-op when disabled)."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True, markup=False, highlight=False)
    amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        amount,
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
