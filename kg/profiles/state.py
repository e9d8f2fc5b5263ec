"""What ``kg profiles`` leaves for ``kg update`` in its run folder: the item side of the model, segment
centroids, co-purchase counts, each segment's popular products and a bookmark into the event ledger."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings
from kg.profiles.recommenders.blend import KGRecommender

__all__ = ["STATE_FILE", "STATE_VERSION", "ProfileState", "latest_state", "load_state", "save_state"]

STATE_FILE = "state.pkl"
STATE_VERSION = 1


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


def save_state(run_dir: Path, state: ProfileState) -> Path:
    """Write the state (owner-only) next to the run's other files."""
    path = run_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def load_state(run_dir: Path) -> ProfileState:
    with open(run_dir / STATE_FILE, "rb") as handle:
        state = pickle.load(handle)  # our own file, owner-only, in KG_HOME
    if getattr(state, "version", None) != STATE_VERSION:
        raise ConfigError(f"{run_dir} holds profile state of another version", hint="run kg profiles again")
    return state


def latest_state(settings: Settings) -> tuple[Path, ProfileState] | None:
    """The newest profiles run folder that has a state, with its state; None when there is none."""
    base = settings.home / "profiles"
    if not base.is_dir():
        return None
    for run_dir in sorted((p for p in base.iterdir() if (p / STATE_FILE).exists()), reverse=True):
        return run_dir, load_state(run_dir)
    return None
