"""``kg db start|stop|status``: the embedded FalkorDB server under KG_HOME."""

from __future__ import annotations

import typer

from kg.cli.common import JsonOpt, emit_json, out, settings_of

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Manage the embedded graph database (FalkorDB under KG_HOME).")


@app.command("start")
def start(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Start the embedded FalkorDB server (no-op when it runs).

    Example: kg db start
    """
    from kg.database import start_server

    status = start_server(settings_of(ctx))
    emit_json(status) if json_out else out(f"running (pid {status['pid']}) in {status['dir']}")


@app.command("stop")
def stop(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Stop the embedded server (data is kept).

    Example: kg db stop
    """
    from kg.database import stop_server

    stopped = stop_server(settings_of(ctx))
    emit_json({"stopped": stopped}) if json_out else out("stopped" if stopped else "not running")


@app.command("status")
def status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show whether the database runs, where, and its memory. Exit 1 when it is not running.

    Example: kg db status --json
    """
    from kg.database import server_status

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
    from kg.database import repair_server

    backup = repair_server(settings_of(ctx))
    if json_out:
        emit_json({"repaired": backup is not None, "backup": backup})
    else:
        out(f"repaired; the old manifest is kept as {backup}" if backup else "the manifest is sound")
