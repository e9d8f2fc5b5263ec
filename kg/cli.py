"""The ``kg`` command line: thin commands over the library.

Example::

    kg demo                       # synthetic shop -> graph -> stats
    kg ingest events logs.csv.gz --format csv
    kg cypher "MATCH (p:Product) RETURN p.id AS id LIMIT 3" --json
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kg import __version__
from kg.clikit import AppState, KGGroup, emit_json, fail, settings_of, stderr, store_of
from kg.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(cls=KGGroup, no_args_is_help=True, add_completion=False,
                  help="kg: user-interest knowledge graphs for shops (ingest, embed, query with Cypher).")
db_app = typer.Typer(no_args_is_help=True, help="Manage the embedded graph database (FalkorDB under KG_HOME).")
ingest_app = typer.Typer(no_args_is_help=True, help="Load shop files into the graph (idempotent, streamed).")
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
from embeddings.cli import embed_app, similar_cmd  # noqa: E402  (EMBED: kg embed ..., kg similar)
app.add_typer(embed_app, name="embed")
app.command("similar")(similar_cmd)
from ingest.reviews.cli import ingest_reviews  # noqa: E402  (REVIEWS: kg ingest reviews)
ingest_app.command("reviews")(ingest_reviews)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout, no progress.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kg {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option("--home", help="State folder (default $KG_HOME or ./.kg).")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v info, -vv debug).")] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """kg: user-interest knowledge graphs for shops.

    Example: kg demo && kg stats --json
    """
    settings = Settings(**({"home": home} if home else {}))
    level = [settings.log_level.upper(), "INFO", "DEBUG"][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppState(settings)


# -- db ---------------------------------------------------------------------------------------
@db_app.command("start")
def db_start(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Start the embedded FalkorDB server (no-op when it runs).

    Example: kg db start
    """
    from kg.server import EmbeddedServer

    settings = settings_of(ctx)
    if settings.neo4j_uri:
        fail("KG_NEO4J_URI is set: kg uses Neo4j, start it with `docker compose up -d`")
    server = EmbeddedServer(settings)
    server.start()
    status = server.status()
    emit_json(status) if json_out else typer.echo(f"running (pid {status['pid']}) in {server.dir}")


@db_app.command("stop")
def db_stop(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Stop the embedded server (data is kept).

    Example: kg db stop
    """
    from kg.server import EmbeddedServer

    stopped = EmbeddedServer(settings_of(ctx)).stop()
    emit_json({"stopped": stopped}) if json_out else typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show whether the embedded server runs, where, and its memory. Exit 1 when it is not running.

    Example: kg db status --json
    """
    from kg.server import EmbeddedServer

    settings = settings_of(ctx)
    if settings.neo4j_uri:
        info: dict[str, Any] = {"backend": "neo4j", "uri": settings.neo4j_uri}
        with store_of(ctx) as store:
            info.update(running=True, version=store.version())
    else:
        info = {"backend": "falkordb", **EmbeddedServer(settings).status()}
    if json_out:
        emit_json(info)
    else:
        for key, value in info.items():
            typer.echo(f"{key}: {value}")
    if not info.get("running"):
        raise typer.Exit(1)


# -- ingest -----------------------------------------------------------------------------------
def _run_ingest(ctx: typer.Context, path: Path, *, kind: str, fmt: str, reader: Any, loader_factory: Any,
                force: bool, max_bad_ratio: float | None, json_out: bool) -> None:
    from ingest.runner import run_ingest
    from kg.clikit import progress_bytes

    settings = settings_of(ctx)
    with store_of(ctx) as store, progress_bytes(f"{kind} {path.name}", enabled=not json_out) as update:
        summary = run_ingest(store, settings, path, kind=kind, fmt=fmt, reader=reader,
                             loader=loader_factory(settings), force=force, max_bad_ratio=max_bad_ratio,
                             progress=update)
    report = summary.as_dict()
    if json_out:
        emit_json(report)
    elif summary.skipped:
        stderr.print(f"{path}: already ingested ({summary.rows_ok} rows); use --force to re-process")
    else:
        stderr.print(f"{path}: {summary.rows_ok} rows ok, {summary.rows_bad} bad "
                     f"({summary.bad_ratio:.2%}) in {summary.seconds:.1f} s"
                     + (f"; bad rows in {summary.quarantine}" if summary.quarantine else ""))
        for reason, count in summary.bad_reasons.items():
            stderr.print(f"  {count} x {reason}")
        for warning, count in summary.warnings.items():
            stderr.print(f"  warning: {count} x {warning}")
    if not summary.ok:
        stderr.print(f"kg: bad-row share {summary.bad_ratio:.2%} is over --max-bad-ratio {summary.max_bad_ratio}")
        raise typer.Exit(1)


ForceOpt = Annotated[bool, typer.Option("--force", help="Re-process a file the manifest says is done.")]
BadOpt = Annotated[float | None, typer.Option("--max-bad-ratio", min=0.0, max=1.0,
                                              help="Exit 1 when more than this share of rows is bad (default 0.01).")]
PathArg = Annotated[Path, typer.Argument(help="Input file (.gz read transparently).")]


@ingest_app.command("events")
def ingest_events(
    ctx: typer.Context, path: PathArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | jsonl | amazon | retailrocket")] = "csv",
    force: ForceOpt = False, max_bad_ratio: BadOpt = None, json_out: JsonOpt = False,
) -> None:
    """Load behaviour events (view/cart/purchase/rating) as aggregated User->Product edges.

    Example: kg ingest events Gift_Cards_5.json --format amazon
    """
    from ingest.event_readers import EVENT_READERS
    from ingest.loaders import EventLoader
    from kg.privacy import Pseudonymiser

    if fmt not in EVENT_READERS:
        fail(f"unknown events format {fmt!r}; choose one of {', '.join(EVENT_READERS)}")
    _run_ingest(ctx, path, kind="events", fmt=fmt, reader=EVENT_READERS[fmt],
                loader_factory=lambda s: EventLoader(Pseudonymiser.from_settings(s)),
                force=force, max_bad_ratio=max_bad_ratio, json_out=json_out)


@ingest_app.command("products")
def ingest_products(
    ctx: typer.Context, path: PathArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | jsonl | amazon-meta")] = "csv",
    force: ForceOpt = False, max_bad_ratio: BadOpt = None, json_out: JsonOpt = False,
) -> None:
    """Load a product catalogue: products, brands, category tree, also-bought/viewed links.

    Example: kg ingest products meta_Gift_Cards.json --format amazon-meta
    """
    from ingest.loaders import ProductLoader
    from ingest.product_readers import PRODUCT_READERS

    if fmt not in PRODUCT_READERS:
        fail(f"unknown products format {fmt!r}; choose one of {', '.join(PRODUCT_READERS)}")
    _run_ingest(ctx, path, kind="products", fmt=fmt, reader=PRODUCT_READERS[fmt],
                loader_factory=lambda s: ProductLoader(), force=force, max_bad_ratio=max_bad_ratio,
                json_out=json_out)


@ingest_app.command("runs")
def ingest_runs(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List ingest runs recorded in the graph's manifest, newest first.

    Example: kg ingest runs --json
    """
    from ingest.manifest import Manifest

    with store_of(ctx) as store:
        runs = Manifest(store).runs()
    if json_out:
        emit_json(runs)
        return
    table = Table("file", "kind", "format", "status", "ok", "bad", "seconds")
    for run in runs:
        table.add_row(*(str(run.get(k, "")) for k in ("file", "kind", "format", "status", "rows_ok", "rows_bad",
                                                       "seconds")))
    stderr.print(table)


# -- query ------------------------------------------------------------------------------------
def _parse_param(text: str) -> tuple[str, Any]:
    import json

    if "=" not in text:
        fail(f"parameter {text!r} is not key=value")
    key, value = text.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


@app.command("cypher")
def cypher_cmd(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Cypher text; values as $params.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value (JSON or text), bound as $key.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a Cypher query against the graph and print the rows.

    Example: kg cypher "MATCH (p:Product {id: $id}) RETURN p.title AS title" -p id=B004LLIKVU --json
    """
    params = dict(_parse_param(p) for p in (param or []))
    with store_of(ctx) as store:
        rows = store.execute(query, params)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        stderr.print("(no rows)")
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console_out().print(table)


def Console_out():  # noqa: N802 - tiny factory
    from rich.console import Console

    return Console()


@app.command("stats")
def stats_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Count nodes per label and relationships per type.

    Example: kg stats --json
    """
    with store_of(ctx) as store:
        stats = store.stats()
    if json_out:
        emit_json(stats)
        return
    table = Table("kind", "name", "count")
    for label, n in stats["nodes"].items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in stats["relationships"].items():
        table.add_row("relationship", rel, f"{n:,}")
    Console_out().print(table)


@app.command("user")
def user_cmd(
    ctx: typer.Context,
    raw_id: Annotated[str, typer.Argument(help="The raw user id as it appears in your logs.")],
    json_out: JsonOpt = False,
) -> None:
    """Look a person up by raw id: prints the pseudonym used in the graph and their behaviour.

    Example: kg user A31UBHTUUIFJUT --json
    """
    from kg.privacy import Pseudonymiser

    settings = settings_of(ctx)
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw_id)
    with store_of(ctx) as store:
        rows = store.query("user_profile", id=pseudonym)
    profile = {"id": pseudonym, "found": bool(rows), "behaviour": rows}
    if json_out:
        emit_json(profile)
    else:
        typer.echo(f"pseudonym: {pseudonym}")
        for row in rows:
            typer.echo(f"  {row['type']}: {row['products']} products, {row['events']} events")
    if not rows:
        raise typer.Exit(1)


# -- demo -------------------------------------------------------------------------------------
@app.command("demo")
def demo_cmd(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(min=1, help="Synthetic users.")] = 300,
    products: Annotated[int, typer.Option(min=1, help="Synthetic products.")] = 200,
    events: Annotated[int, typer.Option(min=1, help="Synthetic events.")] = 20_000,
    reviews: Annotated[int, typer.Option(min=0, help="Synthetic reviews (0: skip the review step).")] = 2000,
    epochs: Annotated[int, typer.Option(min=0, help="TransE training epochs (0: skip embeddings).")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Clear the graph first.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """The whole chain on a synthetic shop: ingest catalogue, events and reviews, train embeddings, query.

    Example: kg demo --events 50000 --reviews 5000 --epochs 30
    """
    from embeddings.cli import prepare_pykeen
    from kg.demo import run_demo

    prepare_pykeen(ctx)
    report = run_demo(settings_of(ctx), users=users, products=products, events=events, reviews=reviews,
                      epochs=epochs, seed=seed, fresh=fresh,
                      progress=not json_out, say=(lambda _m: None) if json_out else stderr.print)
    if json_out:
        emit_json(report)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
