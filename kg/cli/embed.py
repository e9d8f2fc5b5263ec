"""``kg embed ...`` and ``kg similar``: each command calls one function of :mod:`embeddings` (torch is
imported only inside the commands that train or load vectors). ``kg similar`` is top level because people
type it often, but it reads the vectors ``kg embed`` trains and writes, so it lives with them.

Example::

    kg embed train --model TransE --dim 64 --epochs 50
    kg similar B00ABC123 --k 5 --json
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from kg.cli.common import JsonOpt, emit_json, out, progress_enabled, say, settings_of, store_of

__all__ = ["app", "register"]

app = typer.Typer(
    no_args_is_help=True,
    help="Knowledge-graph embeddings: export, train (PyKEEN), write back.\n\n"
    "Example: kg embed train --model TransE --dim 64; kg embed runs",
)

RelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--relation",
        "-r",
        help="Relationship type to export (repeat or comma-separate; default: "
        "behaviour, brand/category, also-bought/viewed and aspect edges present in the graph).",
    ),
]


def _relations(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    found = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return tuple(found) or None


def _progress(ctx: typer.Context, json_out: bool) -> Callable[[str], Any] | None:
    """Stage messages (and PyKEEN's bars) only on a terminal, never with --json or --quiet."""
    return (lambda line: say(ctx, line)) if progress_enabled(ctx, json_out) else None


def _report(ctx: typer.Context, report: Any, json_out: bool) -> None:
    if json_out:
        emit_json(report)
    else:
        for line in report.lines():
            out(line)


@app.command("train")
def train_cmd(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Any PyKEEN model name (TransE, DistMult, ComplEx, ...).")
    ] = "TransE",
    dim: Annotated[int, typer.Option(help="Embedding dimension.")] = 64,
    epochs: Annotated[int, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = 100,
    device: Annotated[str, typer.Option(help="auto (CUDA when available), cpu or cuda.")] = "auto",
    seed: Annotated[int | None, typer.Option(help="Random seed (generated and logged when omitted).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Training batch size.")] = 256,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.01,
    negatives: Annotated[int, typer.Option("--negatives", help="Negative samples per positive triple.")] = 1,
    threads: Annotated[
        int,
        typer.Option(
            "--threads", min=0, help="CPU threads for training (0 = auto: the free cores of this process, at most 4)."
        ),
    ] = 0,
    early_stopping: Annotated[
        bool, typer.Option("--early-stopping/--no-early-stopping", help="Stop when validation MRR stops improving.")
    ] = True,
    frequency: Annotated[int, typer.Option(help="Validate every N epochs (early stopping).")] = 10,
    patience: Annotated[int, typer.Option(help="Validations without improvement before stopping.")] = 2,
    eval_max: Annotated[
        int,
        typer.Option(
            "--eval-max",
            help="Rank at most N test triples and N/4 validation "
            "triples (seeded samples, filtered against all known triples); 0 = all.",
        ),
    ] = 5_000,
    relation: RelOpt = None,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Write embeddings back to the graph.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Export the graph as triples, train a PyKEEN model, evaluate it and write the embeddings back.

    Example: kg embed train --model DistMult --dim 64 --epochs 100 --seed 1 --json
    """
    from kg.embeddings import TrainConfig, train_graph

    config = TrainConfig(
        model=model,
        dim=dim,
        epochs=epochs,
        device=device,
        seed=seed,
        batch_size=batch_size,
        lr=lr,
        negatives=negatives,
        train_threads=threads,
        early_stopping=early_stopping,
        frequency=frequency,
        patience=patience,
        eval_max=eval_max,
        relation_types=_relations(relation),
    ).validate()
    with store_of(ctx) as store:
        report = train_graph(store, settings_of(ctx), config, write=write, progress=_progress(ctx, json_out))
    _report(ctx, report, json_out)


@app.command("write")
def write_cmd(
    ctx: typer.Context,
    run_id: Annotated[str | None, typer.Argument(help="Run id or unique prefix (default: the newest run).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a run's embeddings onto the graph's nodes (replacing earlier ones) and index them; also
    finishes a write-back that was interrupted.

    Example: kg embed write 20250101T120000Z-1a2b3c
    """
    from kg.embeddings import write_run

    with store_of(ctx) as store:
        stats = write_run(store, settings_of(ctx), run_id, progress=_progress(ctx, json_out))
    _report(ctx, stats, json_out)


@app.command("runs")
def runs_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List training runs, newest first; * marks the run whose vectors are in the graph.

    Example: kg embed runs --json
    """
    from kg.embeddings import list_runs

    with store_of(ctx) as store:
        rows = list_runs(settings_of(ctx), store)
    if json_out:
        emit_json(rows)
    elif not rows:
        say(ctx, "no runs yet (kg embed train)")
    for row in rows if not json_out else []:
        for line in row.lines():
            out(line)


@app.command("prune")
def prune_cmd(
    ctx: typer.Context,
    keep: Annotated[int, typer.Option("--keep", min=0, help="Newest runs to keep (besides protected ones).")] = 5,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be deleted.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete old run folders; never the run whose vectors are in the graph, one in progress, or one
    whose write-back did not finish.

    Example: kg embed prune --keep 3 --dry-run
    """
    from kg.embeddings import prune_runs

    with store_of(ctx) as store:
        report = prune_runs(settings_of(ctx), store, keep=keep, dry_run=dry_run)
    _report(ctx, report, json_out)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Output folder.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tsv (DGL-KE udd_hrt) or pbg (PyTorch-BigGraph).")] = "tsv",
    relation: RelOpt = None,
    seed: Annotated[int, typer.Option(help="Split seed (tsv).")] = 0,
    dim: Annotated[int, typer.Option(help="Dimension written into pbg_config.py.")] = 64,
    json_out: JsonOpt = False,
) -> None:
    """Write the graph's triples and id maps as files PyTorch-BigGraph or DGL-KE can train on.

    Example: kg embed export out/ --format pbg
    """
    from kg.embeddings import export_graph
    from kg.embeddings.export import FORMATS
    from kg.foundation.errors import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    with store_of(ctx) as store:
        report = export_graph(
            store, out_dir, fmt=fmt, relation_types=_relations(relation), seed=seed, dim=dim, settings=settings_of(ctx)
        )
    _report(ctx, report, json_out)


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Folder with entity_embeddings.tsv or *entity*.npy.")],
    maps: Annotated[Path | None, typer.Option(help="Folder with entities.tsv/relations.tsv (default: SRC).")] = None,
    name: Annotated[str | None, typer.Option(help="Model name to record (default: folder name).")] = None,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Write the vectors to the graph.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Import embeddings trained by PyTorch-BigGraph or DGL-KE on a `kg embed export`, as a run, and write them back.

    Example: kg embed import pbg_out/ --maps export/ --name pbg-transe
    """
    from kg.embeddings import import_embeddings

    settings = settings_of(ctx)
    if write:
        with store_of(ctx) as store:
            report = import_embeddings(
                store, settings, src, maps_dir=maps, name=name, write=True, progress=_progress(ctx, json_out)
            )
    else:
        report = import_embeddings(None, settings, src, maps_dir=maps, name=name, write=False)
    _report(ctx, report, json_out)


@app.command("similar")
def materialise_cmd(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", min=1, help="Neighbours per product.")] = 10,
    run_id: Annotated[str | None, typer.Option("--run", help="Run (default: the run written on the graph).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Materialise (:Product)-[:SIMILAR_TO {score, run}]->(:Product), top k per product (replaces old edges).

    Example: kg embed similar --k 10
    """
    from kg.embeddings import similar_edges

    with store_of(ctx) as store:
        report = similar_edges(store, settings_of(ctx), k=k, run_id=run_id)
    _report(ctx, report, json_out)


def similar_cmd(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(help="Product id.")],
    k: Annotated[int, typer.Option("--k", min=1, help="Number of neighbours.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """The k products most similar to ITEM_ID by embedding (vector index, cosine).

    Example: kg similar B00ABC123 --k 5 --json
    """
    from kg.embeddings import similar_items

    with store_of(ctx) as store:
        neighbours = similar_items(store, item_id, k=k, settings=settings_of(ctx))
    if json_out:
        emit_json(neighbours)
        return
    for n in neighbours:
        out(f"{n['score']:.4f}  {n['id']}  {n.get('title') or ''}")


def register(root: typer.Typer) -> None:
    """Add ``kg similar`` to the root app (``kg embed ...`` is added as a group)."""
    root.command("similar")(similar_cmd)
