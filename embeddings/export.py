"""Export the interest graph as triples, page by page, and as files for PyTorch-BigGraph / DGL-KE.

Entity names are stable keys ``Label:key`` (key property per label from :data:`kg.schema.KEYS`).
Pages are ranges of internal head-node ids (``cypher/embed_triple_ids.cypher``: ints only); each
node's label and key is read once (``cypher/embed_node_keys.cypher``). Only the id maps and the
integer triple arrays are kept in memory.

>>> triples = export_triples(store)                       # doctest: +SKIP
>>> write_export(triples, Path("out"), fmt="tsv", seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from kg import schema
from kg.errors import ConfigError
from embeddings.config import DEFAULT_RELATION_TYPES
from embeddings.runs import escape_label, write_id_map
from embeddings.triples import TripleSet, entity_label

__all__ = ["export_triples", "graph_relation_types", "resolve_relation_types", "write_export", "FORMATS"]

logger = logging.getLogger(__name__)

#: ``kg embed export --format`` choices
FORMATS: tuple[str, ...] = ("tsv", "pbg")


def graph_relation_types(store: Any) -> list[str]:
    """Relationship types the graph knows."""
    return sorted(str(r["type"]) for r in store.query("embed_relationship_types"))


def resolve_relation_types(store: Any, requested: Iterable[str] | None = None) -> list[str]:
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
            hint="ingest events/products first, or pass --relations",
        )
    return chosen


def export_triples(
    store: Any,
    *,
    relation_types: Iterable[str] | None = None,
    page_size: int = 50_000,
    keys: dict[str, str] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> TripleSet:
    """Read ``(head, relation, tail)`` triples from ``store`` in pages of ``page_size`` head ids.

    Raises ConfigError for an unknown relation type or a graph with no triples. ``on_page``
    gets the number of rows of every page (progress bars).
    """
    if page_size <= 0:
        raise ConfigError(f"page size must be positive, got {page_size}")
    requested = list(relation_types) if relation_types is not None else None
    types = resolve_relation_types(store, requested)
    keys = dict(keys or schema.KEYS)
    rows_max = store.query("embed_max_node_id")
    max_id = rows_max[0]["max_id"] if rows_max else None
    if max_id is None:
        raise ConfigError("the graph is empty: nothing to export", hint="ingest data first")

    from kg import cypher

    # 1. Triples as internal node ids (ints only), page by page of head ids.
    pairs: list[np.ndarray] = []  # (n, 3): head node id, relation index, tail node id
    for rel_id, rel in enumerate(types):
        text = cypher.render("embed_triple_ids", store.dialect, rel=rel)
        for lo in range(0, int(max_id) + 1, page_size):
            page = store.execute(text, {"lo": lo, "hi": lo + page_size})
            heads = page[0]["h"] if page else []
            if not heads:
                continue
            block = np.empty((len(heads), 3), dtype=np.int64)
            block[:, 0] = heads
            block[:, 1] = rel_id
            block[:, 2] = page[0]["t"]
            pairs.append(block)
            if on_page is not None:
                on_page(len(heads))
    raw = np.concatenate(pairs) if pairs else np.empty((0, 3), dtype=np.int64)

    # 2. Label and key of every node that occurs, read once per node (not once per triple).
    used = np.unique(np.concatenate([raw[:, 0], raw[:, 2]])) if len(raw) else np.empty(0, dtype=np.int64)
    index = np.full(int(max_id) + 1, -1, dtype=np.int64)  # internal node id -> entity index
    is_used = np.zeros(int(max_id) + 1, dtype=bool)
    is_used[used] = True
    entities: list[str] = []
    node_keys = cypher.load("embed_node_keys", store.dialect)
    for lo in range(0, int(max_id) + 1, page_size):
        if not np.any((used >= lo) & (used < lo + page_size)):
            continue
        page = store.execute(node_keys, {"lo": lo, "hi": lo + page_size, "keys": keys})
        row = page[0] if page else {"ids": [], "labels": [], "keys": []}
        for node_id, label, key in zip(row["ids"], row["labels"], row["keys"]):
            if is_used[node_id]:
                index[node_id] = len(entities)
                entities.append(entity_label(label, key))

    # 3. Node ids -> entity indices; relationships whose end nodes have no key are skipped.
    mapped = np.stack([index[raw[:, 0]], raw[:, 1], index[raw[:, 2]]], axis=1) if len(raw) else raw
    keyed = (mapped[:, 0] >= 0) & (mapped[:, 2] >= 0) if len(raw) else np.empty(0, dtype=bool)
    skipped = int(len(raw) - int(keyed.sum()))
    mapped = mapped[keyed]
    if len(mapped):  # keep only entities that end up in a triple
        present = np.unique(mapped[:, [0, 2]])
        if len(present) < len(entities):
            renumber = np.full(len(entities), -1, dtype=np.int64)
            renumber[present] = np.arange(len(present))
            entities = [entities[i] for i in present.tolist()]
            mapped = np.stack([renumber[mapped[:, 0]], mapped[:, 1], renumber[mapped[:, 2]]], axis=1)
    counts = np.bincount(mapped[:, 1], minlength=len(types)) if len(mapped) else np.zeros(len(types), dtype=int)
    per_type = {rel: int(counts[i]) for i, rel in enumerate(types)}
    for rel, n in per_type.items():
        logger.info("exported %d %s triples", n, rel)
    if skipped:
        logger.warning("skipped %d relationships whose end nodes have no key (labels not in kg.schema.KEYS)", skipped)
    if requested:
        empty = [t for t, c in per_type.items() if c == 0]
        if empty:
            raise ConfigError(f"relation type(s) with no relationships in the graph: {', '.join(empty)}")
    if len(mapped) == 0:
        raise ConfigError("no triples in the graph for " + ", ".join(types), hint="ingest data first")
    stats = {"relation_types": types, "per_type": per_type, "skipped": skipped, "page_size": page_size}
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
        from embeddings.train import split_triples

        parts = split_triples(triples.to_factory(), ratios, seed)
        for name, part in zip(("train", "valid", "test"), parts):
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
    return f'''# PyTorch-BigGraph config written by `kg embed export --format pbg`.
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
'''
