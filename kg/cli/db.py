"""``kg db start|stop|status``: the embedded FalkorDB server under KG_HOME."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, out, settings_of

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Manage the local graph database: the embedded FalkorDB, or a "
    "local Neo4j without Docker (--backend neo4j), under KG_HOME.\n\n"
    "Example: kg db start; kg db status; kg db stop",
)

BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="falkordb or neo4j (default: neo4j when KG_NEO4J_URI is set). Neo4j needs Java 17 and "
        "Maven, and KG_NEO4J_PASSWORD (8+ characters).",
    ),
]


@app.command("start")
def start(ctx: typer.Context, backend: BackendOpt = None, json_out: JsonOpt = False) -> None:
    """Start the local database server (no-op when it runs).

    Example: kg db start; KG_NEO4J_PASSWORD=... kg db start --backend neo4j
    """
    from kg.store.servers import start_server

    status = start_server(settings_of(ctx), backend)
    if json_out:
        emit_json(status)
        return
    out(f"running (pid {status['pid']}) in {status['dir']}")
    if status.get("backend") == "neo4j":
        out(f"use it: export KG_NEO4J_URI={status['uri']}; Neo4j Browser: {status['browser']}")


@app.command("stop")
def stop(ctx: typer.Context, backend: BackendOpt = None, json_out: JsonOpt = False) -> None:
    """Stop the local database server (data is kept).

    Example: kg db stop; kg db stop --backend neo4j
    """
    from kg.store.servers import stop_server

    stopped = stop_server(settings_of(ctx), backend)
    emit_json({"stopped": stopped}) if json_out else out("stopped" if stopped else "not running")


@app.command("status")
def status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show whether the database runs, where, and its memory. Exit 1 when it is not running.

    Example: kg db status --json
    """
    from kg.store.servers import server_status

    info = server_status(settings_of(ctx))
    if json_out:
        emit_json(info)
    else:
        for key, value in info.items():
            out(f"{key}: {value}")
    if not info.get("running"):
        raise typer.Exit(1)


@app.command("repair")
def repair(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Repair a damaged append-only log manifest of the stopped embedded server (the old one is kept).

    Example: kg db stop && kg db repair
    """
    from kg.store.servers import repair_server

    backup = repair_server(settings_of(ctx))
    if json_out:
        emit_json({"repaired": backup is not None, "backup": backup})
    else:
        out(f"repaired; the old manifest is kept as {backup}" if backup else "the manifest is sound")
