"""``kg embed ...`` and ``kg similar``: thin commands over :mod:`embeddings` (torch is imported only
inside the commands).

Example::

    kg embed train --model TransE --dim 64 --epochs 50
    kg similar B00ABC123 --k 5 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kg.cli.common import JsonOpt, emit_json, out, progress_enabled, say, settings_of, store_of
from kg.errors import ConfigError

__all__ = ["app", "register"]

app = typer.Typer(no_args_is_help=True, help="Knowledge-graph embeddings: export, train (PyKEEN), write back.")

RelOpt = Annotated[
    Optional[list[str]],
    typer.Option("--relation", "-r", help="Relationship type to export (repeat or comma-separate; default: "
                 "behaviour, brand/category, also-bought/viewed and aspect edges present in the graph)."),
]


def _relations(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    out = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return tuple(out) or None


def _print_metrics(ctx: typer.Context, report: dict) -> None:
    m = report["metrics"]
    run = report["run"]
    say(ctx, f"run {run['run_id']} ({run['model']}, dim {run['dim']}, seed {report['seed']}, "
                 f"{report['epochs_trained']} epochs)")
    say(ctx, f"test (filtered): MRR {m['mrr']:.4f}  Hits@1 {m['hits_at_1']:.4f}  Hits@3 {m['hits_at_3']:.4f}  "
                 f"Hits@10 {m['hits_at_10']:.4f}")
    out(f"mrr={m['mrr']:.4f} hits_at_1={m['hits_at_1']:.4f} hits_at_3={m['hits_at_3']:.4f} "
               f"hits_at_10={m['hits_at_10']:.4f} run={run['run_id']}")
    if report.get("written"):
        w = report["written"]
        say(ctx, f"wrote {w['total_nodes']} embeddings (dim {w['dim']}) in {w['seconds']:.2f} s")


@app.command("train")
def train_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="Any PyKEEN model name (TransE, DistMult, ComplEx, ...).")] = "TransE",
    dim: Annotated[int, typer.Option(help="Embedding dimension.")] = 64,
    epochs: Annotated[int, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = 100,
    device: Annotated[str, typer.Option(help="auto (CUDA when available), cpu or cuda.")] = "auto",
    seed: Annotated[Optional[int], typer.Option(help="Random seed (generated and logged when omitted).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Training batch size.")] = 256,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.01,
    negatives: Annotated[int, typer.Option("--negatives", help="Negative samples per positive triple.")] = 1,
    early_stopping: Annotated[bool, typer.Option("--early-stopping/--no-early-stopping",
                                                 help="Stop when validation MRR stops improving.")] = True,
    frequency: Annotated[int, typer.Option(help="Validate every N epochs (early stopping).")] = 10,
    patience: Annotated[int, typer.Option(help="Validations without improvement before stopping.")] = 2,
    eval_max: Annotated[int, typer.Option("--eval-max", help="Rank at most N test triples and N/4 validation "
                                          "triples (seeded samples, filtered against all known triples); 0 = all.")
                        ] = 5_000,
    relation: RelOpt = None,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Write embeddings back to the graph.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Export the graph as triples, train a PyKEEN model, evaluate it and write the embeddings back.

    Example: kg embed train --model DistMult --dim 64 --epochs 100 --seed 1 --json
    """
    from embeddings.api import train_graph
    from embeddings.config import TrainConfig

    config = TrainConfig(model=model, dim=dim, epochs=epochs, device=device, seed=seed, batch_size=batch_size,
                         lr=lr, negatives=negatives, early_stopping=early_stopping, frequency=frequency,
                         patience=patience, eval_max=eval_max, relation_types=_relations(relation)).validate()
    with store_of(ctx) as store:
        report = train_graph(store, settings_of(ctx), config, write=write, progress=progress_enabled(ctx, json_out))
    if json_out:
        emit_json(report)
    else:
        _print_metrics(ctx, report)


@app.command("write")
def write_cmd(
    ctx: typer.Context,
    run_id: Annotated[Optional[str], typer.Argument(help="Run id or unique prefix (default: newest successful).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a run's embeddings onto the graph's nodes (replacing earlier ones) and index them.

    Example: kg embed write 20250101T120000Z-1a2b3c
    """
    from embeddings.runs import find_run
    from embeddings.writeback import write_back

    run = find_run(settings_of(ctx).runs_dir, run_id)
    with store_of(ctx) as store:
        stats = write_back(store, run)
    if json_out:
        emit_json(stats.to_dict())
    else:
        out(f"wrote {stats.total_nodes} embeddings of run {run.run_id} (dim {stats.dim}) "
                   f"in {stats.seconds:.2f} s: {stats.nodes}, relations {stats.relations}")


@app.command("runs")
def runs_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List training runs, newest first (the newest successful one is the default everywhere).

    Example: kg embed runs --json
    """
    from embeddings.runs import list_runs

    runs = [r.summary() for r in list_runs(settings_of(ctx).runs_dir)]
    default = next((r["run_id"] for r in runs if r["status"] == "succeeded"), None)
    for r in runs:
        r["default"] = r["run_id"] == default
    if json_out:
        emit_json(runs)
        return
    if not runs:
        out("no runs yet (kg embed train)")
        return
    for r in runs:
        mrr = f"{r['mrr']:.4f}" if isinstance(r["mrr"], (int, float)) else "-"
        mark = "*" if r["default"] else " "
        out(f"{mark} {r['run_id']}  {r['status']:<9} {r['model']:<12} dim {r['dim']:<4} "
                   f"entities {r['entities']}  MRR {mrr}")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Output folder.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tsv (DGL-KE udd_hrt) or pbg (PyTorch-BigGraph).")] = "tsv",
    relation: RelOpt = None,
    seed: Annotated[int, typer.Option(help="Split seed (tsv).")] = 0,
    dim: Annotated[int, typer.Option(help="Dimension written into pbg_config.py.")] = 64,
    json_out: JsonOpt = False,
) -> None:
    """Write the graph's triples and id maps as files PyTorch-BigGraph or DGL-KE can train on.

    Example: kg embed export out/ --format pbg
    """
    from embeddings.export import FORMATS, export_triples, write_export

    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    with store_of(ctx) as store:
        triples = export_triples(store, relation_types=_relations(relation))
    manifest = write_export(triples, out, fmt=fmt, seed=seed, dim=dim)
    if json_out:
        emit_json(manifest)
    else:
        out(f"wrote {manifest['num_triples']} triples, {manifest['num_entities']} entities, "
                   f"{manifest['num_relations']} relations to {out} ({fmt})")


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Folder with entity_embeddings.tsv or *entity*.npy.")],
    maps: Annotated[Optional[Path], typer.Option(help="Folder with entities.tsv/relations.tsv (default: SRC).")] = None,
    name: Annotated[Optional[str], typer.Option(help="Model name to record (default: folder name).")] = None,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Write the vectors to the graph.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Import embeddings trained by PyTorch-BigGraph or DGL-KE on a `kg embed export`, as a run, and write them back.

    Example: kg embed import pbg_out/ --maps export/ --name pbg-transe
    """
    from embeddings.external import import_embeddings
    from embeddings.writeback import write_back

    run = import_embeddings(src, settings_of(ctx).runs_dir, maps_dir=maps, name=name)
    report = {"run": run.summary(), "written": None}
    if write:
        with store_of(ctx) as store:
            report["written"] = write_back(store, run).to_dict()
    if json_out:
        emit_json(report)
    else:
        out(f"imported {len(run.entity_to_id)} vectors (dim {run.dim}) as run {run.run_id}"
                   + (f"; wrote {report['written']['total_nodes']} to the graph" if write else ""))


@app.command("similar")
def materialise_cmd(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", help="Neighbours per product.")] = 10,
    run_id: Annotated[Optional[str], typer.Option("--run", help="Run (default: the run written on the graph).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Materialise (:Product)-[:SIMILAR_TO {score, run}]->(:Product), top k per product (replaces old edges).

    Example: kg embed similar --k 10
    """
    from embeddings.runs import find_run
    from embeddings.similar import graph_run_id, materialise_similar

    with store_of(ctx) as store:
        chosen = run_id or graph_run_id(store)
        run = find_run(settings_of(ctx).runs_dir, chosen)
        result = materialise_similar(store, run, k=k)
    if json_out:
        emit_json(result)
    else:
        out(f"{result['edges']} SIMILAR_TO edges for {result['products']} products (run {run.run_id}, "
                   f"top {k}); {result['deleted']} old edges removed")


def similar_cmd(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(help="Product id.")],
    k: Annotated[int, typer.Option("--k", help="Number of neighbours.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """The k products most similar to ITEM_ID by embedding (vector index, cosine).

    Example: kg similar B00ABC123 --k 5 --json
    """
    from embeddings.similar import similar_items

    with store_of(ctx) as store:
        neighbours = similar_items(store, item_id, k=k)
    if json_out:
        emit_json(neighbours)
        return
    for n in neighbours:
        out(f"{n['score']:.4f}  {n['id']}  {n['title'] or ''}")


def register(root: typer.Typer) -> None:
    """Add ``kg similar`` to the root app (``kg embed ...`` is added as a group)."""
    root.command("similar")(similar_cmd)
