"""What ``kg profiles`` leaves for ``kg update`` in its run folder: the item side of the model, segment
centroids, co-purchase counts, each segment's popular products and a bookmark into the event ledger.

On disk (``<run>/state/``, format 2): ``state.pkl`` pickles the :class:`ProfileState` with every numeric
array of more than :data:`INLINE_BYTES` (EASE weights, similarities, co-purchase counts, factors; sparse
matrices' parts included) saved beside it as ``arrays/<n>.npy`` and loaded memory-mapped
(``np.load(mmap_mode="c")``), so ``kg update`` reads only the pages the touched users' rows need.
``cursor.json`` holds what each ``kg update`` moves (the ledger bookmark and ``as_of``): an update rewrites
that file only. A run folder of format 1 (one ``state.pkl`` beside ``profiles.json``, kg 0.5 and before) still loads;
the first ``kg update`` rewrites it in format 2. The model carries its tie order
(:attr:`~kg.profiles.recommenders.base.Recommender.tie_order`, popularity at ``kg profiles`` time); a state
pickled before it existed loads with none and ranks ties by item code, as it did.
"""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings
from kg.profiles.recommenders.blend import KGRecommender

__all__ = [
    "INLINE_BYTES",
    "LEGACY_STATE_FILE",
    "latest_run_dir",
    "STATE_DIR",
    "STATE_VERSION",
    "ProfileState",
    "has_state",
    "latest_state",
    "load_state",
    "save_cursor",
    "save_state",
]

STATE_DIR = "state"
#: format 1 (kg 0.5 and before): the whole state in one pickle in the run folder
LEGACY_STATE_FILE = "state.pkl"
STATE_VERSION = 2
#: numeric arrays up to this size stay inside the pickle; larger ones go to memory-mapped ``.npy`` files
INLINE_BYTES = 4096
_PICKLE, _ARRAYS, _CURSOR = "state.pkl", "arrays", "cursor.json"


@dataclass
class ProfileState:
    """What ``kg update`` needs from the last ``kg profiles`` run (item side only: no user data)."""

    run: str
    items: list[str]
    model: KGRecommender  # KGRecommender.without_users()
    together: sparse.csr_matrix
    columns: list[str]
    centroids: np.ndarray
    segment_label: dict[int, str]
    popular: dict[int, set[str]]
    as_of_ms: int
    as_of_fixed: bool
    half_life_days: float
    top: int
    k: int
    bookmark: int
    embeddings_run: str | None = None
    version: int = STATE_VERSION


class _ArrayPickler(pickle.Pickler):
    """Pickles, saving each large numeric array to ``arrays/<n>.npy`` and pickling only its name."""

    def __init__(self, handle: Any, folder: Path) -> None:
        super().__init__(handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder = folder
        self.saved: dict[int, tuple[str, np.ndarray]] = {}  # id -> (name, the array: kept alive while pickling)

    def persistent_id(self, obj: Any) -> str | None:
        if type(obj) not in (np.ndarray, np.memmap) or obj.dtype.hasobject or obj.nbytes <= INLINE_BYTES:
            return None
        if id(obj) not in self.saved:
            name = f"{len(self.saved)}.npy"
            np.save(self.folder / _ARRAYS / name, obj, allow_pickle=False)
            self.saved[id(obj)] = (name, obj)
        return self.saved[id(obj)][0]


class _ArrayUnpickler(pickle.Unpickler):
    """Loads the arrays :class:`_ArrayPickler` saved, memory-mapped copy-on-write (the files never change)."""

    def __init__(self, handle: Any, folder: Path) -> None:
        super().__init__(handle)
        self.folder = folder

    def persistent_load(self, pid: Any) -> np.ndarray:
        name = str(pid)
        if Path(name).name != name or not name.endswith(".npy"):
            raise pickle.UnpicklingError(f"unexpected array reference {name!r}")
        return np.load(self.folder / _ARRAYS / name, mmap_mode="c", allow_pickle=False)


def save_state(run_dir: Path, state: ProfileState) -> Path:
    """Write the state (format 2, owner-only) next to the run's other files; replaces an older one."""
    final = run_dir / STATE_DIR
    tmp = run_dir / f"{STATE_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / _ARRAYS).mkdir(parents=True, mode=0o700)
    tmp.chmod(0o700)
    state.version = STATE_VERSION
    with open(tmp / _PICKLE, "wb") as handle:
        _ArrayPickler(handle, tmp).dump(state)
    _write_cursor(tmp, state)
    for path in tmp.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
    old = run_dir / f"{STATE_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.replace(old)
    tmp.replace(final)
    shutil.rmtree(old, ignore_errors=True)
    (run_dir / LEGACY_STATE_FILE).unlink(missing_ok=True)
    return final


def _write_cursor(folder: Path, state: ProfileState) -> None:
    path = folder / _CURSOR
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"bookmark": int(state.bookmark), "as_of_ms": int(state.as_of_ms)}), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def save_cursor(run_dir: Path, state: ProfileState) -> None:
    """Record what a ``kg update`` moved (bookmark, ``as_of``) without rewriting the frozen arrays; a state
    still in format 1 is rewritten in format 2 instead."""
    if (run_dir / STATE_DIR / _PICKLE).exists():
        _write_cursor(run_dir / STATE_DIR, state)
    else:
        save_state(run_dir, state)


def has_state(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a profile state (either format)."""
    return (run_dir / STATE_DIR / _PICKLE).exists() or (run_dir / LEGACY_STATE_FILE).exists()


def load_state(run_dir: Path) -> ProfileState:
    """The state of ``run_dir``: large arrays memory-mapped (format 2), or read whole (format 1)."""
    folder = run_dir / STATE_DIR
    if (folder / _PICKLE).exists():
        with open(folder / _PICKLE, "rb") as handle:
            state = _ArrayUnpickler(handle, folder).load()  # our own files, owner-only, in KG_HOME
        cursor = json.loads((folder / _CURSOR).read_text(encoding="utf-8"))
        state.bookmark, state.as_of_ms = int(cursor["bookmark"]), int(cursor["as_of_ms"])
    else:
        with open(run_dir / LEGACY_STATE_FILE, "rb") as handle:
            state = pickle.load(handle)  # our own file, owner-only, in KG_HOME
    if getattr(state, "version", None) not in (1, STATE_VERSION):
        raise ConfigError(f"{run_dir} holds profile state of another version", hint="run kg profiles again")
    return state


def latest_state(settings: Settings) -> tuple[Path, ProfileState] | None:
    """The newest profiles run folder that has a state, with its state; None when there is none."""
    newest = latest_run_dir(settings)
    return None if newest is None else (newest, load_state(newest))


def latest_run_dir(settings: Settings) -> Path | None:
    """The newest profiles run folder that has a state (its name is the run id), without loading it."""
    base = settings.home / "profiles"
    runs = [p for p in base.iterdir() if has_state(p)] if base.is_dir() else []
    return max(runs, key=_written_order) if runs else None


def _written_order(run_dir: Path) -> tuple[str, int, str]:
    """Run folders in the order their states were written: the run id's time (to the second), then the state
    file's modification time (two runs within one second), then the name."""
    state = run_dir / STATE_DIR / _PICKLE
    written = state if state.exists() else run_dir / LEGACY_STATE_FILE
    return run_dir.name.split("-", 1)[0], written.stat().st_mtime_ns, run_dir.name
