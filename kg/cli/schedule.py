"""``kg schedule`` (ingest what lands in an inbox, on a timer) and ``kg runs`` (the ingest history).

``kg runs`` is how one watches an unattended schedule (every run, whether ``kg ingest`` or ``kg schedule``
started it, failed ones with their reason); it is too small for a module of its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, print_table, say, settings_of, store_of

__all__ = ["register"]


def schedule_cmd(
    ctx: typer.Context,
    inbox: Annotated[Path, typer.Option("--inbox", help="Folder to watch; done/ and failed/ are made inside it.")],
    every: Annotated[
        str | None, typer.Option("--every", help="Interval: 30s, 5m, 1h (default 5m unless --cron).")
    ] = None,
    cron: Annotated[str | None, typer.Option("--cron", help='Crontab schedule, e.g. "*/5 * * * *" (UTC).')] = None,
    once: Annotated[bool, typer.Option("--once", help="Process the inbox once and exit.")] = False,
    profiles: Annotated[
        bool,
        typer.Option("--profiles/--no-profiles", help="After a batch, recompute profiles when the graph has them."),
    ] = True,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            min=0,
            help="Seconds a file must be untouched to be taken at once; younger files wait one more look.",
        ),
    ] = 60.0,
    json_out: JsonOpt = False,
) -> None:
    """Ingest files dropped into an inbox: kind and format from a sidecar NAME.kg.json
    ({"kind": "events", "format": "csv", ...options}) or the name <kind>__anything.<ext>; each file
    goes to done/ or failed/ with NAME.report.json beside it. Hand-off: write NAME.part (or a dot-file)
    and rename it, or add NAME.ready; a file that changed while read waits. One batch at a time (the graph's
    writer lock); every ingest is an (:IngestRun) in the graph (see kg runs).

    Example: kg schedule --inbox /data/inbox --every 5m
    """
    from kg.operations.scheduler import BatchReport, Inbox, make_trigger, run_batch, run_schedule

    settings = settings_of(ctx)
    box = Inbox(inbox, settle=settle)
    if once:
        make_trigger(every=every, cron=cron) if (every or cron) else None  # still check what was given
        box.ensure()
        box.look()  # first look; the second, a moment later, takes the files that did not change
        time.sleep(min(1.0, settle))
        batch = run_batch(settings, box, profiles=profiles)
        if json_out:
            emit_json(batch)
        else:
            for line in batch.lines():
                say(ctx, line)
        if batch.failed:
            raise typer.Exit(1)
        return
    if every is None and cron is None:
        every = "5m"

    def report(batch: BatchReport) -> None:
        if json_out:
            emit_json(batch)
        else:
            for line in batch.lines():
                say(ctx, line)

    say(ctx, f"kg schedule: watching {box.root} ({'every ' + every if every else 'cron ' + str(cron)}); Ctrl-C stops")
    run_schedule(settings, box, every=every, cron=cron, profiles=profiles, on_batch=report)


def _when(ms: object) -> str:
    if not isinstance(ms, (int, float)):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def runs_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Newest runs shown (0: all).")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The ingest history from the graph: every (:IngestRun), newest first, whether kg ingest or
    kg schedule started it (failed ones with their reason).

    Example: kg runs --json
    """
    from kg.ingest.manifest import Manifest

    with store_of(ctx) as store:
        rows = Manifest(store).runs()
    rows = rows[:limit] if limit else rows
    if json_out:
        emit_json(rows)
        return
    columns = ("started (UTC)", "file", "kind", "format", "status", "rows_ok", "rows_bad", "seconds", "error")
    print_table(columns, [[_when(r.get("started_at"))] + [r.get(c) for c in columns[1:]] for r in rows])


def register(app: typer.Typer) -> None:
    """Add ``kg schedule`` and ``kg runs`` to the root app."""
    app.command("schedule")(schedule_cmd)
    app.command("runs")(runs_cmd)
