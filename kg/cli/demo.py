"""``kg demo``: the whole chain on a synthetic shop, in its own home (never the user's graph)."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, progress_enabled, say, settings_of

__all__ = ["register"]


def demo_cmd(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(min=1, help="Synthetic users.")] = 300,
    products: Annotated[int, typer.Option(min=1, help="Synthetic products.")] = 200,
    events: Annotated[int, typer.Option(min=1, help="Synthetic events.")] = 20_000,
    reviews: Annotated[int, typer.Option(min=0, help="Synthetic reviews (0: skip the review step).")] = 2000,
    epochs: Annotated[int, typer.Option(min=0, help="TransE training epochs (0: skip embeddings).")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Start the demo's own graph afresh.")] = True,
    profiles: Annotated[
        bool,
        typer.Option(
            "--profiles/--no-profiles",
            help="Compute interests, segments and recommendations, and show one user's profile.",
        ),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """The whole chain on a synthetic shop: catalogue, events, reviews, embeddings, similar products,
    profiles (interests, segments, recommendations with reasons) and one user's profile.

    The demo lives in KG_HOME/demo (its own database, runs and keys): your graph is never touched.
    Explore it afterwards with `kg --home .kg/demo stats`.

    Example: kg demo --events 50000 --reviews 5000 --epochs 30
    """
    from kg.operations.demo import run_demo

    report = run_demo(
        settings_of(ctx),
        users=users,
        products=products,
        events=events,
        reviews=reviews,
        epochs=epochs,
        seed=seed,
        fresh=fresh,
        profiles=profiles,
        progress=progress_enabled(ctx, json_out),
        say=(lambda _m: None) if json_out else (lambda m: say(ctx, m)),
    )
    if json_out:
        emit_json(report)
    else:
        say(ctx, f"explore it: kg --home {report.home} stats" if report.home else "done")


def register(app: typer.Typer) -> None:
    """Add ``kg demo`` to the root app."""
    app.command("demo")(demo_cmd)
