"""``kg user``: look a person up by the raw id in the shop's logs (:func:`kg.analyst.users.describe_user`)."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, out, say, settings_of, store_of

__all__ = ["register"]


def user_cmd(
    ctx: typer.Context,
    raw_id: Annotated[str, typer.Argument(help="The raw user id as it appears in your logs.")],
    json_out: JsonOpt = False,
) -> None:
    """Look a person up by raw id: the pseudonym used in the graph, behaviour per type, top products.
    Exit 1 when the user is not in the graph.

    Example: kg user A31UBHTUUIFJUT --json
    """
    from kg.analyst.users import describe_user

    with store_of(ctx) as store:
        report = describe_user(store, settings_of(ctx), raw_id)
    if json_out:
        emit_json(report)
    elif report.found:
        for line in report.lines():
            out(line)
    else:
        say(None, f"kg: {report.lines()[0]}")
    if not report.found:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``kg user`` to the root app."""
    app.command("user")(user_cmd)
