"""``kg forget USER_ID``: remove one person everywhere (graph, ledger, files under KG_HOME) for good."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, out, say, settings_of, store_of

__all__ = ["register"]


def forget_cmd(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="The person's raw id, as in the shop's files (pseudonymised here).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Forget a person: their node, behaviour edges, reviews and mentions, interests, segment membership,
    recommendations and vector; their events in the ledger and its Parquet mirrors (kg lake sync); their rows
    in the quarantine, embedding runs and recorded exports. Co-purchase counts, segment sizes and product
    aspect scores are corrected, the database log is rewritten, and every file under KG_HOME is checked for a
    trace. Later ingests skip their rows (kg ingest --allow-forgotten loads them again). Exit 1 when a trace is left.

    Example: kg forget A31UBHTUUIFJUT --dry-run
    """
    from kg.operations.forget import forget_user

    with store_of(ctx) as store:
        report = forget_user(store, settings_of(ctx), user_id, dry_run=dry_run)
    if json_out:
        emit_json(report)
    else:
        for line in report.lines():
            out(line)
    if not report.ok:
        say(None, "kg: forget left a trace on disk (see the files above)")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``kg forget`` to the root app."""
    app.command("forget")(forget_cmd)
