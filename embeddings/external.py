"""Import embeddings trained outside kg (PyTorch-BigGraph, DGL-KE) as a run, ready for write-back.

Accepted layout of the import folder (``kg embed import DIR [--maps EXPORT_DIR]``):

- id maps ``entities.tsv`` and ``relations.tsv`` exactly as ``kg embed export`` wrote them
  (``id<TAB>Label:key``), in DIR or in ``--maps``;
- entity vectors, one of:
    * ``entity_embeddings.tsv`` -- ``name<TAB>x1<TAB>x2...`` per entity, name = the integer id of
      entities.tsv (what PyTorch-BigGraph's ``torchbiggraph_export_to_tsv`` writes for our
      ``edges.tsv``) or the ``Label:key`` itself;
    * ``*entity*.npy`` -- a float matrix, row i = entity id i (DGL-KE's ``<data>_<model>_entity.npy``);
- optionally relation vectors: ``relation_embeddings.tsv`` (``name<TAB>x1...``, name = relation id
  or type) or ``*relation*.npy`` (row i = relation id i). PBG's per-operator relation parameters
  are not imported.

Entities without a vector are simply not written; a name that is in no id map is an error.

>>> run = import_embeddings(Path("pbg_out"), settings.runs_dir)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from kg.errors import InputError
from embeddings.runs import RunResult, new_run_id, read_id_map, unescape_label, utc_now
from embeddings.train import versions

__all__ = ["import_embeddings"]

logger = logging.getLogger(__name__)


def _read_vectors_tsv(path: Path, mapping: dict[str, int]) -> tuple[dict[int, int], np.ndarray]:
    """(id -> row, matrix) from ``name<TAB>floats`` lines; names are ids or labels."""
    index: dict[int, int] = {}
    rows: list[np.ndarray] = []
    dim: int | None = None
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            name, _, rest = line.partition("\t")
            try:
                vec = np.array(rest.split("\t"), dtype=np.float32)
            except ValueError as e:
                raise InputError(f"{path.name}:{n}: not a vector of floats: {e}") from e
            if dim is None:
                dim = len(vec)
            elif len(vec) != dim:
                raise InputError(f"{path.name}:{n}: {len(vec)} values, expected {dim}")
            label = unescape_label(name)
            if label in mapping:
                eid = mapping[label]
            elif name.isdigit() and int(name) < len(mapping):
                eid = int(name)
            else:
                raise InputError(f"{path.name}:{n}: unknown name {name!r} (not an id or label of the id map)")
            index[eid] = len(rows)
            rows.append(vec)
    if not rows:
        raise InputError(f"{path} holds no vectors")
    return index, np.stack(rows)


def _dense(index: dict[int, int], matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    dense = np.zeros((size, matrix.shape[1]), dtype=np.float32)
    present = np.zeros(size, dtype=bool)
    for eid, row in index.items():
        dense[eid] = matrix[row]
        present[eid] = True
    return dense, present


def _find(folder: Path, names: list[str], pattern: str) -> Path | None:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob(pattern))
    return found[0] if found else None


def import_embeddings(src: Path, runs_dir: Path, *, maps_dir: Path | None = None, name: str | None = None) -> RunResult:
    """Read externally trained vectors from ``src`` into a new succeeded run under ``runs_dir``."""
    src = Path(src)
    maps = Path(maps_dir) if maps_dir else src
    if not src.is_dir():
        raise InputError(f"not a folder: {src}")
    for f in ("entities.tsv", "relations.tsv"):
        if not (maps / f).is_file():
            raise InputError(f"missing {maps / f}", hint="point --maps at the folder `kg embed export` wrote")
    entity_to_id = read_id_map(maps / "entities.tsv")
    relation_to_id = read_id_map(maps / "relations.tsv")
    if len(set(entity_to_id.values())) != len(entity_to_id) or sorted(entity_to_id.values()) != list(
        range(len(entity_to_id))
    ):
        raise InputError(f"{maps / 'entities.tsv'}: ids are not 0..n-1")

    ent_path = _find(src, ["entity_embeddings.tsv"], "*entity*.npy")
    if ent_path is None:
        raise InputError(f"no entity_embeddings.tsv or *entity*.npy in {src}")
    if ent_path.suffix == ".tsv":
        index, matrix = _read_vectors_tsv(ent_path, entity_to_id)
        entities, present = _dense(index, matrix, len(entity_to_id))
        fmt = "tsv"
    else:
        entities = np.load(ent_path).astype(np.float32)
        if entities.ndim != 2 or entities.shape[0] != len(entity_to_id):
            raise InputError(f"{ent_path.name}: shape {entities.shape}, expected ({len(entity_to_id)}, dim)")
        present = np.ones(len(entity_to_id), dtype=bool)
        fmt = "npy"

    relations = None
    rel_path = _find(src, ["relation_embeddings.tsv"], "*relation*.npy")
    if rel_path is not None and rel_path.suffix == ".tsv":
        rindex, rmatrix = _read_vectors_tsv(rel_path, relation_to_id)
        relations, rpresent = _dense(rindex, rmatrix, len(relation_to_id))
        if not rpresent.all():
            relations = None
            logger.warning("%s does not cover every relation; relation vectors not imported", rel_path.name)
    elif rel_path is not None:
        relations = np.load(rel_path).astype(np.float32)
        if relations.ndim != 2 or relations.shape[0] != len(relation_to_id):
            raise InputError(f"{rel_path.name}: shape {relations.shape}, expected ({len(relation_to_id)}, dim)")

    # keep only entities that got a vector; ids re-numbered densely
    kept = [label for label, i in sorted(entity_to_id.items(), key=lambda kv: kv[1]) if present[i]]
    kept_rows = np.flatnonzero(present)
    run_id = new_run_id()
    run = RunResult(
        run_id=run_id,
        path=Path(runs_dir) / run_id,
        config={
            "model": f"external:{name or src.name}",
            "dim": int(entities.shape[1]),
            "vector_dim": int(entities.shape[1]),
            "source": {"path": str(src.resolve()), "maps": str(maps.resolve()), "format": fmt,
                       "file": ent_path.name, "relations_file": rel_path.name if rel_path else None},
            "num_entities": len(kept),
            "num_relations": len(relation_to_id),
        },
        status="succeeded",
        metrics={"mrr": None, "hits_at_1": None, "hits_at_3": None, "hits_at_10": None, "note": "imported; not evaluated"},
        versions=versions(None),
        entity_to_id={label: j for j, label in enumerate(kept)},
        relation_to_id=dict(relation_to_id) if relations is not None else {},
        entity_embeddings=entities[kept_rows],
        relation_embeddings=relations,
    )
    run.finished_at = utc_now()
    run.save()
    logger.info("imported %d entity vectors (dim %d) from %s as run %s", len(kept), entities.shape[1], src, run_id)
    return run
