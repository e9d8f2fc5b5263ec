"""One call per user-facing action: export -> train -> write back, and the ``kg demo`` step.

>>> report = train_graph(store, settings, TrainConfig(model="TransE", dim=64, epochs=50))  # doctest: +SKIP
>>> report["metrics"]["mrr"]                                                                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

from kg.settings import Settings
from embeddings.config import TrainConfig
from embeddings.export import export_triples
from embeddings.similar import similar_items
from embeddings.train import train_triples
from embeddings.writeback import write_back

__all__ = ["train_graph", "demo_embeddings"]

logger = logging.getLogger(__name__)


def train_graph(
    store: Any,
    settings: Settings,
    config: TrainConfig,
    *,
    write: bool = True,
    page_size: int = 50_000,
    progress: bool = True,
) -> dict[str, Any]:
    """Export the graph's triples, train ``config``, save the run and (unless ``write=False``) write back.

    Returns a JSON-ready report: run summary, metrics, export/train/write seconds, write counts.
    Nonsense configs raise :class:`~kg.errors.ConfigError` before anything is trained.
    """
    config.validate()
    started = time.perf_counter()
    triples = export_triples(store, relation_types=config.relation_types, page_size=page_size)
    export_seconds = time.perf_counter() - started
    logger.info("exported %d triples, %d entities, %d relations in %.2fs", triples.num_triples,
                triples.num_entities, triples.num_relations, export_seconds)
    source = {**triples.stats, "export_seconds": export_seconds, "graph": settings.graph}
    t0 = time.perf_counter()
    run = train_triples(triples, config, runs_dir=settings.runs_dir, backend=store.version(), source=source,
                        progress=progress)
    train_wall = time.perf_counter() - t0
    report: dict[str, Any] = {
        "run": run.summary(),
        "metrics": {k: run.metrics.get(k) for k in ("mrr", "hits_at_1", "hits_at_3", "hits_at_10")},
        "seed": run.config.get("seed"),
        "triples": run.config.get("num_triples"),
        "seconds": {"export": export_seconds, "train": run.metrics.get("train_seconds"), "train_wall": train_wall},
        "epochs_trained": run.metrics.get("epochs_trained"),
        "written": None,
    }
    if write:
        stats = write_back(store, run)
        report["written"] = stats.to_dict()
        report["seconds"]["write"] = stats.seconds
    return report


def demo_embeddings(
    store: Any,
    settings: Settings,
    *,
    epochs: int = 20,
    dim: int = 32,
    seed: int = 7,
    k: int = 5,
    products: Iterable[str] | None = None,
    progress: bool = False,
    say: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """``kg demo``'s embedding step: train a small TransE, write back, show similar products.

    ``products`` are the ids to show neighbours for (default: the three most connected products).
    """
    config = TrainConfig(model="TransE", dim=dim, epochs=epochs, seed=seed, early_stopping=False)
    report = train_graph(store, settings, config, progress=progress)
    m = report["metrics"]
    say(f"trained TransE dim {dim}, {epochs} epochs (run {report['run']['run_id']}): "
        f"MRR {m['mrr']:.3f}, Hits@10 {m['hits_at_10']:.3f}")
    titles: dict[str, Any] = {}
    if products is None:
        rows = store.query("embed_top_products", limit=3)
        products = [r["id"] for r in rows]
        titles = {r["id"]: r.get("title") for r in rows}
    report["similar"] = {}
    for pid in products:
        neighbours = similar_items(store, pid, k=k)
        report["similar"][pid] = neighbours
        say(f"  similar to {titles.get(pid) or pid}: "
            + ", ".join(f"{n.get('title') or n['id']} ({n['score']:.2f})" for n in neighbours))
    return report
