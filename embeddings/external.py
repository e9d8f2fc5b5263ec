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

Entities without a vector are simply not written; a name that is in no id map, or a vector with
NaN or inf, is an :class:`~kg.foundation.errors.InputError` naming the file and line.

>>> run = read_external_run(Path("pbg_out"), settings.runs_dir)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from kg.embeddings.runs import TRAINED, RunResult, new_run_id, read_id_map, unescape_label, utc_now
from kg.embeddings.train import versions
from kg.foundation.errors import InputError

__all__ = ["read_external_run", "read_id_maps", "read_entity_vectors", "read_relation_vectors"]

logger = logging.getLogger(__name__)


def _parse_vector(path: Path, n: int, rest: str) -> np.ndarray:
    """The floats of line ``n``; InputError for text or NaN/inf."""
    try:
        vec = np.array(rest.split("\t"), dtype=np.float32)
    except ValueError as e:
        raise InputError(
            f"{path.name}:{n}: not a vector of floats: {e}", hint="each line is name<TAB>x1<TAB>x2..."
        ) from e
    if not np.isfinite(vec).all():
        raise InputError(
            f"{path.name}:{n}: the vector holds NaN or inf",
            hint="the external trainer diverged; retrain it (lower learning rate) or drop the line",
        )
    return vec


def _entity_id(path: Path, n: int, name: str, mapping: dict[str, int]) -> int:
    label = unescape_label(name)
    if label in mapping:
        return mapping[label]
    if name.isdigit() and int(name) < len(mapping):
        return int(name)
    raise InputError(
        f"{path.name}:{n}: unknown name {name!r} (not an id or label of the id map)",
        hint="import vectors trained on the files `kg embed export` wrote (--maps that folder)",
    )


def _read_vectors_tsv(path: Path, mapping: dict[str, int]) -> tuple[dict[int, int], np.ndarray]:
    """(id -> row, matrix) from ``name<TAB>floats`` lines; names are ids or labels."""
    index: dict[int, int] = {}
    rows: list[np.ndarray] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            name, _, rest = line.partition("\t")
            vec = _parse_vector(path, n, rest)
            if rows and len(vec) != len(rows[0]):
                raise InputError(f"{path.name}:{n}: {len(vec)} values, expected {len(rows[0])}")
            index[_entity_id(path, n, name, mapping)] = len(rows)
            rows.append(vec)
    if not rows:
        raise InputError(f"{path} holds no vectors")
    return index, np.stack(rows)


def _load_matrix(path: Path, rows: int, labels: dict[str, int]) -> np.ndarray:
    """A (rows, dim) float32 matrix from ``path`` (.npy); InputError for a wrong shape or NaN/inf."""
    try:
        matrix = np.load(path).astype(np.float32)
    except (ValueError, OSError) as e:
        raise InputError(f"{path.name}: not a readable .npy matrix: {e}") from e
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise InputError(f"{path.name}: shape {matrix.shape}, expected ({rows}, dim)")
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if len(bad):
        names = {i: label for label, i in labels.items()}
        raise InputError(
            f"{path.name}: {len(bad)} row(s) hold NaN or inf (first: row {int(bad[0])}, "
            f"{names.get(int(bad[0]), '?')!r})",
            hint="the external trainer diverged; retrain it (lower learning rate)",
        )
    return matrix


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


def read_id_maps(maps: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(entity label -> id, relation type -> id) from ``entities.tsv`` / ``relations.tsv`` in ``maps``."""
    for f in ("entities.tsv", "relations.tsv"):
        if not (maps / f).is_file():
            raise InputError(f"missing {maps / f}", hint="point --maps at the folder `kg embed export` wrote")
    entity_to_id = read_id_map(maps / "entities.tsv")
    relation_to_id = read_id_map(maps / "relations.tsv")
    if sorted(entity_to_id.values()) != list(range(len(entity_to_id))):
        raise InputError(f"{maps / 'entities.tsv'}: ids are not 0..n-1")
    return entity_to_id, relation_to_id


def read_entity_vectors(src: Path, entity_to_id: dict[str, int]) -> tuple[np.ndarray, np.ndarray, Path]:
    """(vectors, which ids have one, the file read) from entity_embeddings.tsv or *entity*.npy."""
    path = _find(src, ["entity_embeddings.tsv"], "*entity*.npy")
    if path is None:
        raise InputError(
            f"no entity_embeddings.tsv or *entity*.npy in {src}",
            hint="PyTorch-BigGraph: torchbiggraph_export_to_tsv; DGL-KE: the saved *_entity.npy",
        )
    if path.suffix == ".tsv":
        index, matrix = _read_vectors_tsv(path, entity_to_id)
        vectors, present = _dense(index, matrix, len(entity_to_id))
        return vectors, present, path
    vectors = _load_matrix(path, len(entity_to_id), entity_to_id)
    return vectors, np.ones(len(entity_to_id), dtype=bool), path


def read_relation_vectors(src: Path, relation_to_id: dict[str, int]) -> tuple[np.ndarray | None, Path | None]:
    """Relation vectors (row = relation id) when ``src`` has a file covering every relation, else None."""
    path = _find(src, ["relation_embeddings.tsv"], "*relation*.npy")
    if path is None:
        return None, None
    if path.suffix != ".tsv":
        return _load_matrix(path, len(relation_to_id), relation_to_id), path
    index, matrix = _read_vectors_tsv(path, relation_to_id)
    vectors, present = _dense(index, matrix, len(relation_to_id))
    if not present.all():
        logger.warning("%s does not cover every relation; relation vectors not imported", path.name)
        return None, path
    return vectors, path


def read_external_run(src: Path, runs_dir: Path, *, maps_dir: Path | None = None, name: str | None = None) -> RunResult:
    """Read externally trained vectors from ``src`` into a new run (status ``trained``) under ``runs_dir``.

    Entities without a vector are left out (ids re-numbered densely). InputError names the file
    (and line) of anything unreadable, unknown or not finite.
    """
    src = Path(src)
    maps = Path(maps_dir) if maps_dir else src
    if not src.is_dir():
        raise InputError(f"not a folder: {src}")
    entity_to_id, relation_to_id = read_id_maps(maps)
    entities, present, ent_path = read_entity_vectors(src, entity_to_id)
    relations, rel_path = read_relation_vectors(src, relation_to_id)
    kept = [label for label, i in sorted(entity_to_id.items(), key=lambda kv: kv[1]) if present[i]]
    run_id = new_run_id()
    run = RunResult(
        run_id=run_id,
        path=Path(runs_dir) / run_id,
        config={
            "model": f"external:{name or src.name}",
            "dim": int(entities.shape[1]),
            "vector_dim": int(entities.shape[1]),
            "source": {
                "path": str(src.resolve()),
                "maps": str(maps.resolve()),
                "format": ent_path.suffix[1:],
                "file": ent_path.name,
                "relations_file": rel_path.name if rel_path else None,
            },
            "num_entities": len(kept),
            "num_relations": len(relation_to_id),
        },
        status=TRAINED,
        metrics={
            "mrr": None,
            "hits_at_1": None,
            "hits_at_3": None,
            "hits_at_10": None,
            "note": "imported; not evaluated",
        },
        versions=versions(None),
        entity_to_id={label: j for j, label in enumerate(kept)},
        relation_to_id=dict(relation_to_id) if relations is not None else {},
        entity_embeddings=entities[np.flatnonzero(present)],
        relation_embeddings=relations,
        finished_at=utc_now(),
    )
    run.save()
    logger.info("imported %d entity vectors (dim %d) from %s as run %s", len(kept), entities.shape[1], src, run_id)
    return run
