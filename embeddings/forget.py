"""Forgetting one entity (a person's ``User:<pseudonym>``) in saved runs and exports.

A run directory (``KG_HOME/runs/<id>/``, see :mod:`kg.embeddings.runs`) and an export folder (``kg embed
export DIR``) name entities by label. Forgetting rewrites them so the label is gone:

- the label becomes a tombstone ``User:forgotten-<id>`` (ids stay dense, other rows keep their ids);
- its vector row is zeroed in ``entity_embeddings.npy`` and in every per-entity tensor of ``model.pt``;
- the triples that use it are dropped from ``triples.npz`` and from an export's edge files;
- ``best_model.pt`` (a training checkpoint, normally deleted at the end of a run) is removed.

Every file is written to a temporary name beside it and moved over the original (atomic per file).
Export folders live outside ``KG_HOME``; :func:`record_export` notes each one in
``KG_HOME/exports.json`` so a forget can find them.

>>> forget_entity(Path("/nonexistent"), "User:abc")
0
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from kg.embeddings.runs import escape_label, read_id_map, write_id_map
from kg.foundation.home import private_dir, write_private

__all__ = [
    "forget_entity",
    "forget_in_run",
    "forget_in_export",
    "tombstone",
    "record_export",
    "recorded_exports",
    "EXPORTS_FILE",
]

logger = logging.getLogger(__name__)

#: the record of export folders, relative to ``KG_HOME``
EXPORTS_FILE = "exports.json"
#: export edge files: ``head<TAB>relation<TAB>tail`` integer ids
_EDGE_FILES = ("train.tsv", "valid.tsv", "test.tsv", "edges.tsv")


def tombstone(label: str, index: int) -> str:
    """The label that replaces a forgotten one: its label name, ``forgotten-`` and its id.

    >>> tombstone("User:0123abcd", 7)
    'User:forgotten-7'
    """
    kind = label.split(":", 1)[0] if ":" in label else "Entity"
    return f"{kind}:forgotten-{index}"


def _tmp(path: Path) -> Path:
    """A temporary path beside ``path`` keeping its suffix (numpy appends .npy/.npz otherwise)."""
    return path.with_name(f".{path.stem}.forget-tmp{path.suffix}")


def _rewrite_id_map(path: Path, label: str, *, header: str) -> int | None:
    """Replace ``label`` in an id map file by its tombstone; its id, or None when absent."""
    mapping = read_id_map(path)
    index = mapping.get(label)
    if index is None:
        return None
    labels = [""] * len(mapping)
    for name, i in mapping.items():
        labels[i] = name
    labels[index] = tombstone(label, index)
    tmp = _tmp(path)
    write_id_map(tmp, labels, header=header)
    os.replace(tmp, path)
    return index


def _zero_npy(path: Path, index: int) -> bool:
    array = np.load(path)
    if array.ndim < 1 or index >= array.shape[0]:
        return False
    array[index] = 0
    tmp = _tmp(path)
    np.save(tmp, array)
    os.replace(tmp, path)
    return True


def _drop_triples_npz(path: Path, index: int) -> int:
    """Drop the rows of every (n, 3) array in ``path`` whose head or tail is ``index``; rows dropped."""
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    dropped = 0
    for name, array in arrays.items():
        if array.ndim == 2 and array.shape[1] == 3:
            keep = (array[:, 0] != index) & (array[:, 2] != index)
            dropped += int((~keep).sum())
            arrays[name] = array[keep]
    tmp = _tmp(path)
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return dropped


def _zero_model(path: Path, index: int, num_entities: int) -> bool:
    """Zero row ``index`` of every entity-sized tensor of a saved state_dict (``model.pt``)."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    changed = False
    for name, tensor in state.items():
        if (
            isinstance(tensor, torch.Tensor)
            and tensor.ndim >= 1
            and tensor.shape[0] == num_entities
            and "entity" in name
            and (tensor.is_floating_point() or tensor.is_complex())
        ):
            tensor[index] = 0
            changed = True
    if changed:
        tmp = _tmp(path)
        torch.save(state, tmp)
        os.replace(tmp, path)
    return changed


def forget_in_run(run_dir: Path, label: str) -> list[str]:
    """Forget ``label`` in one run directory; the names of the files rewritten or removed (empty when
    the run never held it)."""
    run_dir = Path(run_dir)
    id_map = run_dir / "entity_to_id.tsv.gz"
    if not id_map.is_file():
        return []
    num_entities = len(read_id_map(id_map))
    index = _rewrite_id_map(id_map, label, header="id\tlabel")
    if index is None:
        return []
    changed = [id_map.name]
    vectors = run_dir / "entity_embeddings.npy"
    if vectors.is_file() and _zero_npy(vectors, index):
        changed.append(vectors.name)
    triples = run_dir / "triples.npz"
    if triples.is_file():
        _drop_triples_npz(triples, index)
        changed.append(triples.name)
    model = run_dir / "model.pt"
    if model.is_file() and _zero_model(model, index, num_entities):
        changed.append(model.name)
    checkpoint = run_dir / "best_model.pt"
    if checkpoint.is_file():
        checkpoint.unlink()
        changed.append(checkpoint.name)
    logger.info("forgot an entity in run %s: %s", run_dir.name, ", ".join(changed))
    return changed


def forget_entity(runs_dir: Path, label: str) -> int:
    """Forget ``label`` (``"User:<pseudonym>"``) in every run under ``runs_dir``; how many runs held it."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return 0
    return sum(1 for child in sorted(runs_dir.iterdir()) if child.is_dir() and forget_in_run(child, label))


def _drop_edge_lines(path: Path, index: int) -> int:
    """Drop ``head<TAB>rel<TAB>tail`` lines whose head or tail is ``index``; lines dropped."""
    kept: list[str] = []
    dropped = 0
    wanted = str(index)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and (parts[0] == wanted or parts[2] == wanted):
                dropped += 1
            else:
                kept.append(line)
    if dropped:
        tmp = _tmp(path)
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return dropped


def _drop_named_lines(path: Path, names: set[str]) -> int:
    """Drop ``name<TAB>...`` lines (vectors an external trainer wrote) whose name is in ``names``."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    kept: list[str] = []
    dropped = 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.split("\t", 1)[0].rstrip("\n") in names:
                dropped += 1
            else:
                kept.append(line)
    if dropped:
        tmp = _tmp(path)
        with opener(tmp, "wt", encoding="utf-8") as handle:
            handle.write("".join(kept))
        os.replace(tmp, path)
    return dropped


def forget_in_export(out_dir: Path, label: str) -> list[str]:
    """Forget ``label`` in a ``kg embed export`` folder: tombstone in ``entities.tsv``, its edges dropped
    from the edge files, and any other ``.tsv`` line named by its label (vectors of an external trainer)
    dropped. The names of the files changed."""
    out_dir = Path(out_dir)
    entities = out_dir / "entities.tsv"
    if not entities.is_file():
        return []
    index = _rewrite_id_map(entities, label, header="")
    changed = [entities.name] if index is not None else []
    for path in sorted(out_dir.iterdir()):
        if not path.is_file() or path.name in ("entities.tsv", "relations.tsv"):
            continue
        if index is not None and path.name in _EDGE_FILES:
            if _drop_edge_lines(path, index):
                changed.append(path.name)
        elif path.name.endswith((".tsv", ".tsv.gz")) and _drop_named_lines(path, {label, escape_label(label)}):
            changed.append(path.name)
    return changed


# -- the record of export folders ------------------------------------------------------------------
def _exports_path(home: Path) -> Path:
    return Path(home) / EXPORTS_FILE


def recorded_exports(home: Path) -> list[Path]:
    """Export folders recorded in ``home/exports.json`` (those that still exist)."""
    path = _exports_path(home)
    try:
        folders = json.loads(path.read_text(encoding="utf-8")).get("folders", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [Path(f) for f in folders if isinstance(f, str) and Path(f).is_dir()]


def record_export(home: Path, out_dir: Path) -> Path:
    """Note ``out_dir`` (absolute) in ``home/exports.json`` so a forget finds it; returns the record's path."""
    path = _exports_path(home)
    private_dir(Path(home), tighten=False)
    folders = [str(f) for f in recorded_exports(home)]
    target = str(Path(out_dir).expanduser().resolve())
    if target not in folders:
        folders.append(target)
    write_private(path, json.dumps({"folders": sorted(folders)}, indent=2) + "\n")
    return path
