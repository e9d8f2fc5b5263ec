"""``kg lake sync``: the event ledger mirrored as Parquet day partitions, where Spark and other batch tools read
it (:func:`kg.ledger.parquet_mirror.sync_events`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, progress_bytes, progress_enabled, say, settings_of

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="The event ledger as Parquet files (one folder per day) for Spark, DuckDB or pandas "
    "(pip install 'kg[lake]').\n\nExample: kg lake sync --path /data/lake/events",
)


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--path", help="The mirror's folder (default KG_HOME/lake/<graph>/events; new or a mirror)."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rewrite every day from the ledger (default: only days with new events).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Mirror the ledger's events as Parquet, one folder per UTC day (day=YYYY-MM-DD/events.parquet): columns
    user_id (the pseudonym, never a raw id), item_id, event_type, event_time (UTC, ms) and rating. Incremental:
    only the days that got new events since the last sync are rewritten, each atomically; nothing new writes
    nothing. kg forget removes the person from every mirror.

    Example: kg lake sync --path /data/lake/events --json
    """
    from kg.ledger.parquet_mirror import sync_events

    with progress_bytes("lake sync", enabled=progress_enabled(ctx, json_out), unit="items") as update:
        report = sync_events(settings_of(ctx), path, full=full, progress=update)
    if json_out:
        emit_json(report)
        return
    for line in report.lines():
        say(ctx, line)
