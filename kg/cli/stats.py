"""``kg stats``: how many nodes per label and relationships per type the graph holds."""

from __future__ import annotations

import typer

from kg.cli.common import JsonOpt, emit_json, print_table, store_of

__all__ = ["register"]


def stats_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Count nodes per label and relationships per type.

    Example: kg stats --json
    """
    with store_of(ctx) as store:
        stats = store.stats()
    if json_out:
        emit_json(stats)
        return
    rows = [("node", label, n) for label, n in stats["nodes"].items()]
    rows += [("relationship", rel, n) for rel, n in stats["relationships"].items()]
    print_table(("kind", "name", "count"), rows)


def register(app: typer.Typer) -> None:
    """Add ``kg stats`` to the root app."""
    app.command("stats")(stats_cmd)
