"""``kg update``: profiles that follow new events without a full recompute.

``kg profiles`` leaves a *state* in its run folder: the recommender's item side (weights, item-item
similarities, EASE weights, item factors; no user row, no user id), the segment centroids in feature
space, the co-purchase counts and what each segment's popular products are, and a bookmark into the
event ledger. :func:`update_profiles` then touches only the users whose events arrived after the
bookmark (new users included):

- interest scores: recomputed from the user's whole history, exactly as ``kg profiles`` computes them
  (same decay, weights and top-N; ``as_of`` moves to the newest event unless ``--as-of`` fixed it);
- segment: the segment whose centroid is nearest the user's features (``kg profiles`` re-clusters);
- recommendations: the frozen item side scores the user's whole current history (MF user factors folded
  in with the ALS user step), with reasons that are paths in the graph, as in ``kg profiles``.

For a touched user the result equals what the same frozen model gives when every user is rebuilt from
scratch (:func:`rebuild_with_state`, tested). Products first seen after ``kg profiles`` are not scored
until the next ``kg profiles`` (their similar items come from ``kg update``'s embedding fold-in).
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.ledger import EventLedger
from kg.foundation.locks import writer_lock
from kg.foundation.settings import Settings
from kg.store import GraphStore
from kg.profiles.data import Interactions, ShopData
from kg.profiles.steps import day, recommend_with_reasons, stored_score, user_vectors

__all__ = ["ProfileState", "save_state", "load_state", "latest_state", "update_profiles", "update_embeddings",
           "UpdateReport",
           "features_in_columns", "nearest_segment", "segment_centroids", "rebuild_with_state"]

logger = logging.getLogger(__name__)

STATE_FILE = "state.pkl"
STATE_VERSION = 1


@dataclass
class ProfileState:
    """What ``kg update`` needs from the last ``kg profiles`` run (item side only: no user data)."""

    run: str
    items: list[str]
    model: Any  # KGRecommender.without_users()
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


def features_in_columns(user_ids: list[str], interests: Any, embeddings: dict[str, np.ndarray] | None,
                        columns: list[str]) -> np.ndarray:
    """Segment features of ``user_ids`` laid out in ``columns`` (``"Label:key"`` then ``"emb:i"``), each
    block L2-normalised as :func:`kg.profiles.segments.build_features` does."""
    key_cols = [c for c in columns if not c.startswith("emb:")]
    emb_dim = len(columns) - len(key_cols)
    index = {c: i for i, c in enumerate(key_cols)}
    block = np.zeros((len(user_ids), len(key_cols)), dtype=np.float32)
    row_of = {u: i for i, u in enumerate(user_ids)}
    for user, label, key, score in interests.rows:
        r, c = row_of.get(user), index.get(f"{label}:{key}")
        if r is not None and c is not None:
            block[r, c] = score
    out = [_l2(block)]
    if emb_dim:
        emb = np.zeros((len(user_ids), emb_dim), dtype=np.float32)
        for i, u in enumerate(user_ids):
            vec = (embeddings or {}).get(u)
            if vec is not None and len(vec) == emb_dim:
                emb[i] = vec
        out.append(_l2(emb))
    return np.hstack(out)


def _l2(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def segment_centroids(features: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """Mean feature row of each segment (segments 0..k-1)."""
    k = int(assignment.max()) + 1 if assignment.size else 0
    return np.vstack([features[assignment == s].mean(axis=0) for s in range(k)]) if k else np.zeros((0, 0))


def nearest_segment(features: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) per row; ties to the lower index."""
    d = ((features[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)


def _interactions(rows: list[tuple[str, str, str, int, float | None]], items: list[str]) -> Interactions:
    """Events coded with the state's items; events of products the state does not know are left out."""
    known = set(items)
    kept = [r for r in rows if r[1] in known]
    inter = Interactions.from_rows(kept, items=items)
    return inter


def _subset_shop(store: GraphStore, settings: Settings, users: list[str] | None, items: list[str]
                 ) -> tuple[ShopData, int | None]:
    """The events and review mentions of ``users`` (every user when None), coded with ``items``; and the
    newest of those events (products the state does not know included)."""
    from kg.profiles.load import load_aspects, load_catalogue

    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        events = ledger.events_between() if users is None else ledger.events_of_users(users)
        rows = [(e.user, e.item, e.type, e.at, e.rating) for e in events]
    aspects = load_aspects(store, users=users)
    shop = ShopData(interactions=_interactions(rows, items), catalogue=load_catalogue(store), aspects=aspects)
    return shop, max((r[3] for r in rows), default=None)


@dataclass
class UpdateReport:
    """What one ``kg update`` changed."""

    run: str | None
    users_updated: int = 0
    new_users: int = 0
    interests: int = 0
    recommendations: int = 0
    segments_changed: int = 0
    events_seen: int = 0
    as_of: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    embeddings: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"embeddings: {line}" for part in self.embeddings.values() for line in part.get("lines", [])]
        if not self.users_updated:
            return out + [self.note or "nothing to update: no new events since the last kg profiles / kg update"]
        total = sum(self.seconds.values())
        return out + [f"updated {self.users_updated:,} users ({self.new_users:,} new) from {self.events_seen:,} events "
                f"in {total:.2f} s: {self.interests:,} interests, {self.recommendations:,} recommendations, "
                f"{self.segments_changed:,} changed segment (run {self.run}, as of {self.as_of})",
                "stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())]


def _compute_for_users(store: GraphStore, settings: Settings, state: ProfileState, users: list[str] | None,
                       as_of_ms: int | None) -> tuple[ShopData, Any, np.ndarray, list[dict[str, Any]],
                                                      list[dict[str, Any]], set[tuple[str, str, int]]]:
    """Interests, segments and recommendations of ``users`` with the frozen state. ``as_of_ms`` None: the
    state's, moved to the newest of these users' events unless ``--as-of`` fixed it."""
    from kg.profiles.interests import compute_interests
    from kg.profiles.reasons import Explainer

    shop, newest = _subset_shop(store, settings, users, state.items)
    inter = shop.interactions
    if as_of_ms is None:
        newest = newest or state.as_of_ms
        as_of_ms = state.as_of_ms if state.as_of_fixed else max(state.as_of_ms, int(newest))
    interests = compute_interests(shop, as_of_ms=as_of_ms, half_life_days=state.half_life_days, top=state.top)
    vectors: dict[str, np.ndarray] = {}
    if any(c.startswith("emb:") for c in state.columns):
        vectors, _run = user_vectors(store, settings, False, None, None)
    features = features_in_columns(inter.users, interests, vectors, state.columns)
    assignment = nearest_segment(features, state.centroids) if state.centroids.size else np.zeros(
        inter.n_users, dtype=np.int64)
    model = state.model.with_users(shop, inter, assignment)
    keys: dict[str, set[tuple[str, str]]] = {}
    for user, label, key, _score in interests.rows:
        keys.setdefault(user, set()).add((label, key))
    explainer = Explainer(shop=shop, positive=inter.matrix(), together=state.together, interests=keys,
                          segment_of={u: int(assignment[i]) + 1 for i, u in enumerate(inter.users)},
                          popular=state.popular, segment_label=state.segment_label)
    recs, _reasons, together = recommend_with_reasons(model, explainer, inter, state.k)
    interest_rows = [{"user": u, "label": label, "key": key, "score": stored_score(score)}
                     for u, label, key, score in interests.rows]
    return shop, interests, assignment, interest_rows, recs, together


def rebuild_with_state(store: GraphStore, settings: Settings, users: list[str] | None = None, *, as_of_ms: int
                       ) -> dict[str, Any]:
    """What the frozen state gives when ``users`` (every user when None: all events loaded from scratch)
    are rebuilt, without writing: interests, segment and recommendations per user. The reference
    :func:`update_profiles` is tested against."""
    found = latest_state(settings)
    if found is None:
        raise ConfigError("no profiles yet", hint="run kg profiles first")
    _dir, state = found
    shop, _i, assignment, interest_rows, recs, _t = _compute_for_users(store, settings, state, users, as_of_ms)
    return {"interests": interest_rows, "recommendations": recs,
            "segments": {u: int(assignment[i]) + 1 for i, u in enumerate(shop.interactions.users)}}


def update_embeddings(store: GraphStore, settings: Settings, *, progress: Any = None) -> dict[str, Any]:
    """New users and products get vectors without a retrain: fold-in for entities with triples, text for
    products with none (``kg.embeddings.fold_in`` / ``kg.embeddings.text_cold_start``). Nothing when the graph
    has no trained embeddings."""
    from kg.embeddings.runs import last_write

    if last_write(settings.runs_dir, settings.graph) is None:
        return {}
    from kg.embeddings import fold_in, text_cold_start

    done: dict[str, Any] = {}
    folded = fold_in(store, settings, progress=progress)
    done["fold_in"] = {**folded.as_dict(), "lines": folded.lines() if folded.total_entities else []}
    texts = text_cold_start(store, settings, progress=progress)
    done["text"] = {**texts.as_dict(), "lines": texts.lines() if texts.products else []}
    return done


def update_profiles(store: GraphStore, settings: Settings, *, progress: Any = None,
                    embeddings: bool = True) -> UpdateReport:
    """Bring the profiles of users with new events (and new users) up to date; see the module docstring.
    First (``embeddings``) new users and products get vectors by fold-in or from their text."""
    from kg.profiles.writeback import write_interests, write_recommendations

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    vectors = update_embeddings(store, settings, progress=progress) if embeddings else {}
    if vectors:
        seconds["embeddings"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
    found = latest_state(settings)
    if found is None:
        return UpdateReport(run=None, embeddings=vectors,
                            note="no profiles yet: run kg profiles first (kg update keeps them current)")
    run_dir, state = found
    if not settings.ledger_path.exists():
        return UpdateReport(run=state.run, embeddings=vectors, note="no events yet")
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        bookmark = ledger.last_batch()
        touched = sorted(ledger.users_touched_since(state.bookmark))
    if not touched:
        return UpdateReport(run=state.run, embeddings=vectors, seconds=seconds)
    seconds["find"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    shop, interests, assignment, interest_rows, recs, together = _compute_for_users(
        store, settings, state, touched, None)
    as_of = int(interests.as_of_ms)
    seconds["compute"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    users = shop.interactions.users
    before = {row["user"]: row["segment"] for row in store.query("profiles_segment_of_users", users=users)}
    membership = [{"user": u, "segment": int(assignment[i]) + 1} for i, u in enumerate(users)]
    with writer_lock(settings, what="kg update"):
        updated_at = int(time.time() * 1000)
        n_interests = write_interests(store, interest_rows, users, run=state.run, updated_at=updated_at)
        store.write("profiles_user_edges_clear", users, identifiers={"rel": "IN_SEGMENT"})
        store.write("profiles_membership_write", membership, run=state.run)
        store.write("profiles_together_add", [{"source": s, "target": t, "count": c} for s, t, c in together],
                    run=state.run)
        n_recs = write_recommendations(store, recs, users, run=state.run)
        store.query("profiles_segment_sizes")
    seconds["write"] = round(time.perf_counter() - clock, 3)
    state.bookmark = bookmark
    state.as_of_ms = as_of
    save_state(run_dir, state)
    return UpdateReport(run=state.run, embeddings=vectors, users_updated=len(users),
                        new_users=sum(1 for u in users if u not in before),
                        interests=n_interests, recommendations=n_recs,
                        segments_changed=sum(1 for m in membership if before.get(m["user"]) not in (None, m["segment"])),
                        events_seen=shop.interactions.n_events, as_of=day(as_of), seconds=seconds)
