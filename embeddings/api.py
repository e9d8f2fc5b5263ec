"""Compatibility layer for ``embeddings/cli.py`` and ``kg/demo.py`` until the CLI port: dict-returning
wrappers over :mod:`embeddings.workflow` (the library API). Delete with the old CLI.

>>> report = train_graph(store, settings, TrainConfig(model="TransE", dim=64, epochs=50))  # doctest: +SKIP
>>> report["metrics"]["mrr"]                                                                # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from kg.settings import Settings
from embeddings.config import TrainConfig
from embeddings.similar import similar_items
from embeddings import workflow

__all__ = ["train_graph", "demo_embeddings"]

logger = logging.getLogger(__name__)


def train_graph(store: Any, settings: Settings, config: TrainConfig, *, write: bool = True,
                page_size: int = 50_000, progress: bool = False) -> dict[str, Any]:
    """:func:`embeddings.workflow.train_graph` as a dict (``progress=True``: PyKEEN's bars, no stage lines)."""
    return workflow.train_graph(store, settings, config, write=write, page_size=page_size,
                                progress=(lambda _line: None) if progress else None).as_dict()


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
    report = workflow.train_graph(store, settings, config, progress=say if progress else None).as_dict()
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
        neighbours = similar_items(store, pid, k=k, settings=settings)
        report["similar"][pid] = neighbours
        say(f"  similar to {titles.get(pid) or pid}: "
            + ", ".join(f"{n.get('title') or n['id']} ({n['score']:.2f})" for n in neighbours))
    return report
