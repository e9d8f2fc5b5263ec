"""Write a run's embeddings back onto the graph, and the vector indexes that search them.

Every exported node gets ``embedding`` (list of floats; FalkorDB stores a vecf32) plus
``embedding_model``, ``embedding_run``, ``embedding_dim`` and ``embedding_method`` ("trained", or the
method of rows :mod:`kg.embeddings.foldin` appended to the run), written in batches through
:meth:`kg.store.GraphStore.set_vectors`. Relation embeddings go on ``(:Relation {type})`` nodes.
Writing replaces the previous value (never a second property), so re-running is harmless; a
node that is no longer exported keeps the ``embedding_run`` of the run that wrote it.

>>> stats = write_back(store, find_run(settings.runs_dir))   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from kg.embeddings.cypher import RELATION_NODES
from kg.embeddings.runs import RunResult
from kg.embeddings.train import check_finite
from kg.embeddings.triples import split_entity_label
from kg.foundation import schema
from kg.foundation.errors import ConfigError
from kg.store import GraphStore

__all__ = ["write_back", "group_by_label", "appended_methods", "WriteStats", "INDEXED_LABELS", "PROPS_PER_NODE"]

logger = logging.getLogger(__name__)

#: labels that get a vector index (k-NN from Cypher)
INDEXED_LABELS: tuple[str, ...] = ("Product", "User")

#: properties set per node: embedding, embedding_model, embedding_run, embedding_dim
PROPS_PER_NODE = 4


@dataclasses.dataclass
class WriteStats:
    """What :func:`write_back` did."""

    run_id: str
    nodes: dict[str, int]
    relations: int
    dim: int
    seconds: float
    skipped_labels: dict[str, int] = dataclasses.field(default_factory=dict)
    set_seconds: float = 0.0  # the batched SETs alone
    index_seconds: float = 0.0  # (re)building the vector indexes until ready
    compact_seconds: float = 0.0

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values()) + self.relations

    @property
    def properties_per_second(self) -> float:
        """Properties SET per second of the batched writes (index build and compaction excluded)."""
        return self.total_nodes * PROPS_PER_NODE / max(self.set_seconds or self.seconds, 1e-9)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = dataclasses.asdict(self)
        data["total_nodes"] = self.total_nodes
        data["properties_per_second"] = round(self.properties_per_second, 1)
        return data

    def lines(self) -> list[str]:
        """A short human summary."""
        labels = ", ".join(f"{label} {n:,}" for label, n in self.nodes.items())
        out = [
            f"wrote {self.total_nodes:,} embeddings of run {self.run_id} (dim {self.dim}) in {self.seconds:.2f} s: "
            f"{labels}, relations {self.relations:,}"
        ]
        if self.skipped_labels:
            out.append(
                "  not written (label without a key in kg.foundation.schema.KEYS): "
                + ", ".join(f"{label} {n:,}" for label, n in self.skipped_labels.items())
            )
        return out


def _rows(
    keys: list[str],
    ids: list[int],
    vectors: np.ndarray,
    props: dict[str, Any],
    methods: list[tuple[int, int, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    # float32 rows as they are: each backend encodes vectors its own way (FalkorDB: as literal text)
    for key, i in zip(keys, ids, strict=True):
        method = next((m for start, end, m in methods if start <= i < end), None) if methods else None
        yield {
            "key": key,
            "vector": vectors[i],
            "props": props if method is None else {**props, "embedding_method": method},
        }


def appended_methods(run: RunResult) -> list[tuple[int, int, str]]:
    """(start, end, method) of the row blocks appended to ``run`` after training (embeddings.foldin)."""
    return [(int(b["start"]), int(b["end"]), str(b["method"])) for b in run.config.get("appended") or []]


def group_by_label(entity_to_id: dict[str, int]) -> tuple[dict[str, tuple[list[str], list[int]]], dict[str, int]]:
    """({label: (keys, row ids)} for labels in kg.foundation.schema.KEYS, {label: entities not writable})."""
    by_label: dict[str, tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
    skipped: dict[str, int] = defaultdict(int)
    for label_key, i in entity_to_id.items():
        try:
            label, key = split_entity_label(label_key)
        except ValueError:
            skipped["?"] += 1
            continue
        if label not in schema.KEYS:
            skipped[label] += 1
            continue
        keys, ids = by_label[label]
        keys.append(key)
        ids.append(i)
    return dict(by_label), dict(skipped)


def _write_entities(
    store: GraphStore,
    by_label: dict[str, tuple[list[str], list[int]]],
    vectors: np.ndarray,
    props: dict[str, Any],
    batch_size: int | None,
    on_batch: Callable[[int], None] | None,
    methods: list[tuple[int, int, str]] | None = None,
) -> dict[str, int]:
    nodes: dict[str, int] = {}
    for label in sorted(by_label):
        keys, ids = by_label[label]
        nodes[label] = store.set_vectors(label, _rows(keys, ids, vectors, props, methods), batch_size=batch_size)
        store.flush()  # the label is written completely before it is reported
        logger.info("wrote %d %s embeddings (dim %d)", nodes[label], label, vectors.shape[1])
        if on_batch is not None:
            on_batch(nodes[label])
    return nodes


def _write_relations(store: GraphStore, run: RunResult, props: dict[str, Any], batch_size: int | None) -> int:
    if run.relation_embeddings is None or not run.relation_to_id:
        return 0
    rel_vectors = np.asarray(run.relation_embeddings, dtype=np.float32)
    types = sorted(run.relation_to_id, key=run.relation_to_id.__getitem__)
    store.write(RELATION_NODES, ({"type": t} for t in types))
    rel_props = {**props, "embedding_dim": int(rel_vectors.shape[1])}
    rows = _rows(types, [run.relation_to_id[t] for t in types], rel_vectors, rel_props)
    return store.set_vectors("Relation", rows, batch_size=batch_size)


def _build_indexes(store: GraphStore, labels: Iterable[str], dim: int, timeout: float) -> None:
    for label in labels:
        if not store.build_vector_index(label, dim, timeout=timeout):
            logger.warning("the vector index on %s is still building; k-NN may miss nodes until it is ready", label)


def write_back(
    store: GraphStore,
    run: RunResult,
    *,
    batch_size: int | None = None,
    index: bool = True,
    compact: bool = True,
    on_batch: Callable[[int], None] | None = None,
    index_timeout: float = 300.0,
) -> WriteStats:
    """Write ``run``'s entity and relation embeddings to the graph; returns counts and timing.

    The graph side only: :func:`kg.embeddings.workflow.write_run` wraps it with the run's status
    (``writing`` -> ``succeeded``). Raises ConfigError for a run without vectors or with NaN/inf
    in them, before anything is written. ``on_batch`` gets the node count of each label written.
    """
    if run.entity_embeddings is None or not run.entity_to_id:
        raise ConfigError(f"run {run.run_id} has no entity embeddings to write")
    check_finite(run.entity_embeddings, run.entity_to_id, what="entity", run_id=run.run_id)
    check_finite(run.relation_embeddings, run.relation_to_id, what="relation", run_id=run.run_id)
    started = time.perf_counter()
    vectors = np.asarray(run.entity_embeddings, dtype=np.float32)
    dim = int(vectors.shape[1])
    props = {
        "embedding_model": run.model,
        "embedding_run": run.run_id,
        "embedding_dim": dim,
        "embedding_method": "trained",
    }
    by_label, skipped = group_by_label(run.entity_to_id)
    indexed = [label for label in INDEXED_LABELS if by_label.get(label)]
    if index:  # FalkorDB: overwriting indexed vectors is ~10x slower than re-indexing afterwards
        for label in indexed:
            store.drop_vector_index(label)
    t_set = time.perf_counter()
    nodes = _write_entities(store, by_label, vectors, props, batch_size, on_batch, appended_methods(run))
    relations = _write_relations(store, run, props, batch_size)
    store.flush()  # the last batch may still be in flight on pipelining backends
    set_seconds = time.perf_counter() - t_set
    t_index = time.perf_counter()
    if index:
        _build_indexes(store, indexed, dim, index_timeout)
    index_seconds = time.perf_counter() - t_index
    t_compact = time.perf_counter()
    if compact:
        store.compact()
    compact_seconds = time.perf_counter() - t_compact
    stats = WriteStats(
        run_id=run.run_id,
        nodes=nodes,
        relations=relations,
        dim=dim,
        seconds=time.perf_counter() - started,
        skipped_labels=skipped,
        set_seconds=set_seconds,
        index_seconds=index_seconds,
        compact_seconds=compact_seconds,
    )
    if skipped:
        logger.warning("not written (label not in kg.foundation.schema.KEYS): %s", skipped)
    logger.info(
        "write-back of run %s: %d nodes in %.2fs (%.0f properties/s)",
        run.run_id,
        stats.total_nodes,
        stats.seconds,
        stats.properties_per_second,
    )
    return stats
