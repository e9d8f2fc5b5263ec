"""Export the interest graph as triples, page by page, and as files for PyTorch-BigGraph / DGL-KE.

Entity names are stable keys ``Label:key`` (key property per label from :data:`kg.foundation.schema.KEYS`).
Pages are ranges of internal head-node ids (``kg/store/cypher/<dialect>/embed_triple_ids.cypher``: ints only); the
label and key of exactly the nodes those triples name is read once per node
(``kg/store/cypher/<dialect>/embed_node_keys.cypher``), so nodes created while the export runs never break it. Only
the id maps and the integer triple arrays are kept in memory.

>>> triples = export_triples(store)                       # doctest: +SKIP
>>> write_export(triples, Path("out"), fmt="tsv", seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kg.embeddings.config import DEFAULT_RELATION_TYPES
from kg.embeddings.cypher import RELATIONSHIP_TYPES, TRIPLES_AROUND
from kg.embeddings.runs import escape_label, write_id_map
from kg.embeddings.triples import TripleSet, entity_label
from kg.foundation import schema
from kg.foundation.errors import ConfigError
from kg.store import GraphStore

__all__ = [
    "export_triples",
    "graph_relation_types",
    "resolve_relation_types",
    "write_export",
    "FORMATS",
    "max_node_id",
    "read_triple_ids",
    "read_node_keys",
    "to_entities",
    "export_triples_around",
]

logger = logging.getLogger(__name__)

#: ``kg embed export --format`` choices
FORMATS: tuple[str, ...] = ("tsv", "pbg")


def graph_relation_types(store: GraphStore) -> list[str]:
    """Relationship types the graph knows."""
    return sorted(str(r["type"]) for r in store.query(RELATIONSHIP_TYPES))


def resolve_relation_types(store: GraphStore, requested: Iterable[str] | None = None) -> list[str]:
    """The types to export: ``requested`` (each must exist) or the defaults present in the graph."""
    present = set(graph_relation_types(store))
    if requested:
        wanted = list(dict.fromkeys(t.strip() for t in requested if t.strip()))
        missing = [t for t in wanted if t not in present]
        if missing:
            raise ConfigError(
                f"relation type(s) absent from the graph: {', '.join(missing)}; "
                f"present: {', '.join(sorted(present)) or 'none (empty graph)'}"
            )
        return wanted
    chosen = [t for t in DEFAULT_RELATION_TYPES if t in present]
    if not chosen:
        raise ConfigError(
            "no exportable relationships in the graph (empty graph?)",
            hint="ingest events/products first, or pass --relation TYPE",
        )
    return chosen


def max_node_id(store: GraphStore) -> int:
    """The largest internal node id when the export starts; ConfigError on an empty graph."""
    max_id = store.node_id_bound()
    if max_id is None:
        raise ConfigError("the graph is empty: nothing to export", hint="ingest data first")
    return int(max_id)


def read_triple_page(store: GraphStore, rel: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    """Internal (head ids, tail ids) of the ``rel`` relationships whose head id is in [lo, hi)."""
    return store.triple_id_page(rel, lo, hi)


def read_triple_ids(
    store: GraphStore, types: list[str], max_id: int, page_size: int, on_page: Callable[[int], None] | None = None
) -> np.ndarray:
    """(n, 3) int64 rows (head node id, relation index into ``types``, tail node id), paged by head id.

    Heads are read up to ``max_id`` (the graph when the export started); tails may be nodes
    created since, which :func:`read_node_keys` resolves like any other id.
    """
    blocks: list[np.ndarray] = []
    for rel_id, rel in enumerate(types):
        for lo in range(0, max_id + 1, page_size):
            heads, tails = read_triple_page(store, rel, lo, min(lo + page_size, max_id + 1))
            if not heads:
                continue
            block = np.empty((len(heads), 3), dtype=np.int64)
            block[:, 0], block[:, 1], block[:, 2] = heads, rel_id, tails
            blocks.append(block)
            if on_page is not None:
                on_page(len(heads))
    return np.concatenate(blocks) if blocks else np.empty((0, 3), dtype=np.int64)


def read_key_page(store: GraphStore, lo: int, hi: int, keys: dict[str, str]) -> tuple[list[int], list[str], list[Any]]:
    """(ids, labels, keys) of the keyed nodes whose internal id is in [lo, hi)."""
    return store.node_key_page(lo, hi, keys)


def read_node_keys(store: GraphStore, ids: np.ndarray, page_size: int, keys: dict[str, str]) -> dict[int, str]:
    """``Label:key`` of exactly the node ids in ``ids`` (sorted, unique), read in id-range pages.

    Ids whose node is gone or has no key property are absent from the result (their triples
    are skipped). Nodes in a page but not in ``ids`` (created since, or not in a triple) are ignored.
    """
    names: dict[int, str] = {}
    if not len(ids):
        return names
    wanted = set(ids.tolist())
    for lo in _pages_with(ids, page_size):
        for node_id, label, key in zip(*read_key_page(store, lo, lo + page_size, keys), strict=True):
            if node_id in wanted:
                names[int(node_id)] = entity_label(label, key)
    return names


def _pages_with(ids: np.ndarray, page_size: int) -> list[int]:
    """Start ids of the pages of ``page_size`` that hold at least one of ``ids``."""
    return sorted(set((ids // page_size * page_size).tolist()))


def to_entities(raw: np.ndarray, names: dict[int, str]) -> tuple[list[str], np.ndarray, int]:
    """(entity labels, (n, 3) rows of entity indices, relationships skipped for an unkeyed end node)."""
    if not len(raw):
        return [], raw, 0
    node_ids = np.fromiter(names, dtype=np.int64, count=len(names))
    order = np.argsort(node_ids)
    node_ids = node_ids[order]
    labels = [names[int(i)] for i in node_ids]

    def index_of(column: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(node_ids, column)
        found = (pos < len(node_ids)) & (node_ids[np.minimum(pos, len(node_ids) - 1)] == column)
        return np.where(found, pos, -1)

    mapped = np.stack([index_of(raw[:, 0]), raw[:, 1], index_of(raw[:, 2])], axis=1)
    keyed = (mapped[:, 0] >= 0) & (mapped[:, 2] >= 0)
    return labels, mapped[keyed], int(len(raw) - int(keyed.sum()))


def _check_counts(types: list[str], mapped: np.ndarray, requested: bool) -> dict[str, int]:
    counts = np.bincount(mapped[:, 1], minlength=len(types)) if len(mapped) else np.zeros(len(types), dtype=int)
    per_type = {rel: int(counts[i]) for i, rel in enumerate(types)}
    for rel, n in per_type.items():
        logger.info("exported %d %s triples", n, rel)
    empty = [t for t, c in per_type.items() if c == 0]
    if requested and empty:
        raise ConfigError(f"relation type(s) with no relationships in the graph: {', '.join(empty)}")
    if len(mapped) == 0:
        raise ConfigError("no triples in the graph for " + ", ".join(types), hint="ingest data first")
    return per_type


def export_triples(
    store: GraphStore,
    *,
    relation_types: Iterable[str] | None = None,
    page_size: int = 50_000,
    keys: dict[str, str] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> TripleSet:
    """Read ``(head, relation, tail)`` triples from ``store`` in pages of ``page_size`` head ids.

    Safe while the graph grows (an ingest running alongside): heads are the nodes that existed
    when the export started, and labels/keys are read for exactly the node ids the triples name.
    Raises ConfigError for an unknown relation type or a graph with no triples. ``on_page``
    gets the number of rows of every page (progress bars).
    """
    if page_size <= 0:
        raise ConfigError(f"page size must be positive, got {page_size}")
    requested = list(relation_types) if relation_types is not None else None
    types = resolve_relation_types(store, requested)
    max_id = max_node_id(store)
    raw = read_triple_ids(store, types, max_id, page_size, on_page)
    used = np.unique(raw[:, [0, 2]]) if len(raw) else np.empty(0, dtype=np.int64)
    names = read_node_keys(store, used, page_size, dict(keys or schema.KEYS))
    entities, mapped, skipped = to_entities(raw, names)
    if skipped:
        logger.warning(
            "skipped %d relationships whose end nodes have no key (labels not in kg.foundation.schema.KEYS, "
            "or deleted during the export)",
            skipped,
        )
    per_type = _check_counts(types, mapped, bool(requested))
    stats = {
        "relation_types": types,
        "per_type": per_type,
        "skipped": skipped,
        "page_size": page_size,
        "max_node_id": max_id,
        "created_during_export": int((used > max_id).sum()),
    }
    result = TripleSet.from_parts(entities, types, mapped, stats=stats)
    result.stats["duplicates_dropped"] = int(len(mapped) - result.num_triples)
    return result


# -- files for external trainers ---------------------------------------------------------------


def write_export(
    triples: TripleSet,
    out_dir: Path,
    *,
    fmt: str = "tsv",
    seed: int = 0,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    dim: int = 64,
) -> dict[str, Any]:
    """Write ``triples`` for an external trainer; returns the manifest (also in manifest.json).

    Both formats write ``entities.tsv`` / ``relations.tsv`` (``id<TAB>label``, no header, labels
    escaped: the DGL-KE ``entities.dict`` layout) and integer-id edge files, so names never need
    quoting:

    - ``tsv`` (DGL-KE ``--format udd_hrt``): ``train.tsv``, ``valid.tsv``, ``test.tsv`` with
      ``head_id<TAB>relation_id<TAB>tail_id``, split like ``kg embed train`` (seeded, every test
      entity in training).
    - ``pbg`` (PyTorch-BigGraph): ``edges.tsv`` (all triples, ``lhs<TAB>rel<TAB>rhs`` ids) and
      ``pbg_config.py`` for ``torchbiggraph_import_from_tsv`` + ``torchbiggraph_train``.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_id_map(out_dir / "entities.tsv", triples.entity_labels, header="")
    write_id_map(out_dir / "relations.tsv", triples.relation_labels, header="")
    files: dict[str, int] = {}
    if fmt == "tsv":
        from kg.embeddings.train import split_triples

        parts = split_triples(triples.to_factory(), ratios, seed)
        for name, part in zip(("train", "valid", "test"), parts, strict=True):
            arr = part.mapped_triples.numpy()
            _write_ids(out_dir / f"{name}.tsv", arr)
            files[f"{name}.tsv"] = int(len(arr))
    else:
        _write_ids(out_dir / "edges.tsv", triples.mapped)
        files["edges.tsv"] = triples.num_triples
        (out_dir / "pbg_config.py").write_text(_pbg_config(triples, dim), encoding="utf-8")
    manifest = {
        "format": fmt,
        "num_entities": triples.num_entities,
        "num_relations": triples.num_relations,
        "num_triples": triples.num_triples,
        "files": files,
        "seed": seed if fmt == "tsv" else None,
        "ratios": list(ratios) if fmt == "tsv" else None,
        "relation_types": triples.relation_labels,
        "entity_names": "entities.tsv: id<TAB>Label:key (\\\\, \\t, \\n, \\r escaped)",
        "stats": triples.stats,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return manifest


def _write_ids(path: Path, arr: np.ndarray) -> None:
    np.savetxt(path, np.asarray(arr, dtype=np.int64), fmt="%d", delimiter="\t")


def _pbg_config(triples: TripleSet, dim: int) -> str:
    relations = "\n        ".join(
        f'{{"name": "{i}", "lhs": "all", "rhs": "all", "operator": "translation"}},  # {escape_label(r)}'
        for i, r in enumerate(triples.relation_labels)
    )
    return f"""# PyTorch-BigGraph config written by `kg embed export --format pbg`.
#   torchbiggraph_import_from_tsv --lhs-col=0 --rel-col=1 --rhs-col=2 pbg_config.py edges.tsv
#   torchbiggraph_train pbg_config.py -p edge_paths=data/edges_partitioned
#   torchbiggraph_export_to_tsv pbg_config.py --entities-output entity_embeddings.tsv \\
#       --relation-types-output relation_types_parameters.tsv
#   kg embed import .      # reads entity_embeddings.tsv (names are our entity ids)
# Entity names in edges.tsv are the integer ids of entities.tsv; relation names are ids of relations.tsv.


def get_torchbiggraph_config():
    return dict(
        entity_path="data",
        edge_paths=["data/edges_partitioned"],
        checkpoint_path="model",
        entities={{"all": {{"num_partitions": 1}}}},
        relations=[
        {relations}
        ],
        dynamic_relations=False,
        dimension={int(dim)},
        global_emb=False,
        comparator="dot",
        num_epochs=10,
        num_uniform_negs=1000,
        loss_fn="softmax",
        lr=0.1,
    )
"""


def export_triples_around(
    store: GraphStore, *, users: Iterable[str], products: Iterable[str], relation_types: Iterable[str]
) -> TripleSet:
    """The triples of ``relation_types`` that start at one of ``users`` or start or end at one of ``products``
    (ids): a neighbourhood, read with one query, for a fold-in of a few new entities (``kg serve``)."""
    types = list(relation_types)
    rows = store.query(TRIPLES_AROUND, users=sorted(set(users)), products=sorted(set(products)), types=types)
    index: dict[str, int] = {}
    rel_index = {rel: i for i, rel in enumerate(types)}
    mapped = np.empty((len(rows), 3), dtype=np.int64)
    kept = 0
    for row in rows:
        if row["h_key"] is None or row["t_key"] is None or row["rel"] not in rel_index:
            continue
        head = index.setdefault(entity_label(row["h_label"], row["h_key"]), len(index))
        tail = index.setdefault(entity_label(row["t_label"], row["t_key"]), len(index))
        mapped[kept] = (head, rel_index[row["rel"]], tail)
        kept += 1
    stats = {"relation_types": types, "around": True, "skipped": len(rows) - kept}
    return TripleSet.from_parts(list(index), types, mapped[:kept], stats=stats)
