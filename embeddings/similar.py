"""Similar items by embedding: k-NN through the vector index, and SIMILAR_TO edges.

>>> similar_items(store, "B00ABC", k=5)          # doctest: +SKIP
[{'id': 'B00XYZ', 'title': '...', 'score': 0.93}, ...]
>>> materialise_similar(store, run, k=10)        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from kg.embeddings.cypher import CLEAR_SIMILAR, PRODUCT_TITLES, PRODUCT_VECTOR, RUNS_IN_GRAPH, SIMILAR_WRITE
from kg.embeddings.runs import RunResult, check_write_complete
from kg.embeddings.triples import split_entity_label
from kg.foundation.errors import ConfigError, StoreError
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["similar_items", "materialise_similar", "top_k_cosine", "graph_run_id"]

logger = logging.getLogger(__name__)


def similar_items(
    store: GraphStore, item_id: str, k: int = 10, *, settings: Settings | None = None, index_timeout: float = 60.0
) -> list[dict[str, Any]]:
    """The ``k`` products nearest ``item_id`` by cosine similarity: ``[{id, title, score}]``, best first.

    With ``settings``, a write-back to this graph that did not finish is a StoreError naming
    the command that finishes it. A missing vector index is one too; one still building is waited
    for (at most ``index_timeout`` seconds).
    """
    if k <= 0:
        raise ConfigError(f"--k must be positive, got {k}")
    if settings is not None:
        check_write_complete(settings.runs_dir, settings.graph)
    vector, run_id = _product_vector(store, item_id)
    _ready_index(store, "Product", len(vector), run_id, index_timeout)
    hits = [h for h in store.vector_search("Product", list(vector), k + 1) if h["key"] != item_id][:k]
    titles = {r["id"]: r.get("title") for r in store.query(PRODUCT_TITLES, ids=[h["key"] for h in hits])}
    return [{"id": h["key"], "title": titles.get(h["key"]), "score": float(h["score"])} for h in hits]


def _product_vector(store: GraphStore, item_id: str) -> tuple[list[float], str | None]:
    rows = store.query(PRODUCT_VECTOR, id=item_id)
    if not rows:
        raise ConfigError(f"no product with id {item_id!r} in the graph")
    vector = rows[0].get("vector")
    if not vector:
        raise ConfigError(f"product {item_id!r} has no embedding", hint="run `kg embed train` or `kg embed write`")
    return list(vector), rows[0].get("run")


def _ready_index(store: GraphStore, label: str, dim: int, run_id: str | None, timeout: float) -> None:
    """StoreError when ``label`` has no vector index (a write-back stopped after dropping it)."""
    state = store.vector_index_ready(label)
    if state is None:
        run = run_id or "RUN"
        raise StoreError(
            f"no vector index on :{label}(embedding): a write-back did not finish",
            hint=f"finish it with `kg embed write {run}`",
        )
    if state is False and not store.build_vector_index(label, dim, timeout=timeout):
        logger.warning("the vector index on %s is still building: results may miss nodes", label)


def graph_run_id(store: GraphStore) -> str | None:
    """The run whose embeddings are on the most nodes of the graph (None when nothing is embedded)."""
    rows = store.query(RUNS_IN_GRAPH)
    return str(rows[0]["run"]) if rows else None


def top_k_cosine(
    vectors: np.ndarray, k: int, *, block: int | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Exact top-``k`` cosine neighbours of every row (self excluded): yields (row, indices, scores)."""
    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.maximum(norms, 1e-12)
    n = len(x)
    k = min(k, n - 1)
    if k <= 0:
        return
    block = block or max(1, min(4096, (1 << 24) // max(n, 1)))
    for start in range(0, n, block):
        sims = x[start : start + block] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part = np.take_along_axis(sims, idx, axis=1)
        order = np.argsort(-part, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        part = np.take_along_axis(part, order, axis=1)
        for r in range(sims.shape[0]):
            yield start + r, idx[r], part[r]


def materialise_similar(store: GraphStore, run: RunResult, *, k: int = 10, batch_size: int = 1000) -> dict[str, Any]:
    """Replace every SIMILAR_TO edge by the top ``k`` of each product in ``run`` (exact cosine)."""
    if k <= 0:
        raise ConfigError(f"--k must be positive, got {k}")
    if run.entity_embeddings is None:
        raise ConfigError(f"run {run.run_id} has no entity embeddings")
    started = time.perf_counter()
    ids: list[str] = []
    rows: list[int] = []
    for label_key, i in run.entity_to_id.items():
        label, key = split_entity_label(label_key)
        if label == "Product":
            ids.append(key)
            rows.append(i)
    if len(ids) < 2:
        raise ConfigError(f"run {run.run_id} has {len(ids)} product embedding(s): nothing to compare")
    vectors = run.entity_embeddings[np.asarray(rows)]
    deleted = 0
    while True:
        got = store.query(CLEAR_SIMILAR, limit=50_000)
        n = int(got[0]["deleted"]) if got else 0
        deleted += n
        if n == 0:
            break

    def edge_rows() -> Iterator[dict[str, Any]]:
        for r, idx, scores in top_k_cosine(vectors, k):
            yield {
                "id": ids[r],
                "targets": [{"id": ids[j], "score": float(s)} for j, s in zip(idx, scores, strict=True)],
            }

    products = store.write(SIMILAR_WRITE, edge_rows(), batch_size=batch_size, run=run.run_id)
    seconds = time.perf_counter() - started
    edges = products * min(k, len(ids) - 1)
    logger.info("SIMILAR_TO: %d products x top %d (%d old edges removed) in %.2fs", products, k, deleted, seconds)
    return {"run_id": run.run_id, "products": products, "k": k, "edges": edges, "deleted": deleted, "seconds": seconds}
