"""The ``kg`` command line: a thin layer on top; each command calls one library function.

One module per command or command group, named after it: ``cypher``, ``stats``, ``user``, ``db``,
``ingest``, ``embed``, ``query``, ``demo``, ``explore``, ``schedule``, ``forget``, ``profiles``, ``lake``. A few
modules also add a top-level command that belongs with their group (each module's docstring says why):
``ingest`` adds ``kg rebuild``, ``embed`` adds ``kg similar``, ``schedule`` adds ``kg runs``, ``profiles``
adds ``kg profile``, ``kg recommend``, ``kg update`` and the ``kg eval`` group. ``common`` holds the shared
options, output and error handling. Heavy libraries (torch, PyKEEN, spaCy, transformers) are imported only
inside the commands that need them, so ``kg --help`` and ``kg --version`` stay fast.

Example::

    kg demo                       # synthetic shop -> graph -> embeddings -> similar products
    kg ingest events logs.csv.gz --format csv
    kg cypher "MATCH (p:Product) RETURN p.id AS id LIMIT 3" --json
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg import __version__
from kg.cli import cypher, db, demo, embed, explore, forget, ingest, lake, profiles, query, schedule, serve, stats, user
from kg.cli.common import AppState, KGGroup, build_settings

if TYPE_CHECKING:
    from kg.foundation.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    cls=KGGroup,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="kg: user-interest knowledge graphs for shops (ingest, embed, query with Cypher).\n\n"
    "Example: kg demo; kg --home .kg/demo stats; kg ingest events events.csv",
)
app.add_typer(db.app, name="db")
app.add_typer(ingest.app, name="ingest")
app.add_typer(embed.app, name="embed")
app.add_typer(query.app, name="query")
app.add_typer(lake.app, name="lake")
cypher.register(app)
stats.register(app)
user.register(app)
ingest.register(app)
embed.register(app)
profiles.register(app)
demo.register(app)
explore.register(app)
serve.register(app)
schedule.register(app)
forget.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kg {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option("--home", help="State folder (default $KG_HOME or ./.kg).")] = None,
    graph: Annotated[str | None, typer.Option("--graph", help="Graph name (default $KG_GRAPH or kg).")] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logging: -v info, -vv debug (also -v 2).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no messages; errors only.")] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for another writer of the "
            "same graph (default $KG_WRITER_WAIT or for ever; "
            "0: exit 4 at once).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """kg: user-interest knowledge graphs for shops.

    Example: kg demo && kg stats --json
    """
    overrides = {k: v for k, v in (("home", home), ("graph", graph), ("writer_wait", wait)) if v is not None}
    settings = build_settings(**overrides)
    _configure_process(settings, verbose=verbose, quiet=quiet)
    from kg.foundation.home import ensure_home

    ensure_home(settings)  # owner-only, and a one-line error when KG_HOME cannot be a folder
    ctx.obj = AppState(settings, quiet=quiet, verbose=verbose)


def _configure_process(settings: Settings, *, verbose: int, quiet: bool) -> None:
    """The one place that changes process-wide state: logging, warning filters, library homes."""
    level = "ERROR" if quiet else [settings.log_level.upper(), "INFO", "DEBUG"][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    if verbose < 1:
        # a handler filter, not logger levels: PyKEEN sets its own logger to INFO when it is imported
        for handler in logging.getLogger().handlers:
            if _quiet_libraries not in handler.filters:
                handler.addFilter(_quiet_libraries)
    warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true but no accelerator.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # PyKEEN keeps its data sets and caches under PYSTOW_HOME (~/.data otherwise): keep them in KG_HOME.
    os.environ.setdefault("PYSTOW_HOME", str(settings.home / "pykeen"))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


_NOISY = ("pykeen", "torch_max_mem", "transformers", "sentence_transformers", "filelock", "torch")


#: third-party warnings that say nothing to a user (kept with -v): torch_max_mem on a CPU, and PyKEEN
#: asking for a seed when kg rebuilds a trained model to load its weights
_HARMLESS = (
    ("torch_max_mem", "are considered safe for automatic memory"),
    ("pykeen.models.base", "No random seed is specified"),
)


def _quiet_libraries(record: logging.LogRecord) -> bool:
    """Drop third-party INFO chatter and known harmless warnings (kept with -v); other warnings and
    errors still show."""
    if not record.name.startswith(_NOISY):
        return True
    if record.levelno < logging.WARNING:
        return False
    return not any(record.name.startswith(name) and text in record.getMessage() for name, text in _HARMLESS)


def _normalise_argv(argv: list[str]) -> list[str]:
    """``-v 2`` as ``-vv`` (people type it), before Click sees the arguments."""
    fixed: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-v", "--verbose") and i + 1 < len(argv) and argv[i + 1].isdigit():
            fixed.extend(["-v"] * max(int(argv[i + 1]), 0))
            i += 2
            continue
        fixed.append(arg)
        i += 1
    return fixed


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is: it ends a command as Ctrl-C does (a running ingest is recorded
    failed, "interrupted", not left ``running``; locks and files are released; exit 130)."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main() -> None:
    """Console entry point."""
    import signal

    signal.signal(signal.SIGTERM, _on_sigterm)  # docker stop, systemd, kill: handled like a failure
    app(args=_normalise_argv(sys.argv[1:]), prog_name="kg")


if __name__ == "__main__":
    main()
