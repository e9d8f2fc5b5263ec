"""``kg update``'s :class:`~kg.profiles.pipeline.Learner`: the frozen state of the last ``kg profiles`` run
scores the users given. A user joins the segment whose centroid is nearest their features; the model's item
side is kept and the users' rows are rebuilt from their whole current history."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from kg.foundation.settings import Settings
from kg.ledger import EventLedger
from kg.profiles.data import Interactions, ShopData
from kg.profiles.interests import InterestTable
from kg.profiles.pipeline import ProfileResult, Segments, profile_users
from kg.profiles.recommenders.blend import KGRecommender
from kg.profiles.state import ProfileState
from kg.profiles.steps import user_vectors
from kg.store import GraphStore

__all__ = ["FrozenLearner", "features_in_columns", "nearest_segment", "profile_with_state", "segment_centroids"]


def features_in_columns(
    user_ids: list[str], interests: InterestTable, embeddings: dict[str, np.ndarray] | None, columns: list[str]
) -> np.ndarray:
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


class FrozenLearner:
    """Segments, model and co-purchase counts from ``state``; user vectors only when its segments used them."""

    def __init__(self, store: GraphStore, settings: Settings, state: ProfileState) -> None:
        self.store, self.settings, self.state = store, settings, state

    def vectors(self) -> dict[str, np.ndarray]:
        if not any(c.startswith("emb:") for c in self.state.columns):
            return {}
        vectors, _run = user_vectors(self.store, self.settings, False, None, None)
        return vectors

    def segments(self, shop: ShopData, interests: InterestTable, vectors: dict[str, np.ndarray]) -> Segments:
        inter = shop.interactions
        features = features_in_columns(inter.users, interests, vectors, self.state.columns)
        assignment = (
            nearest_segment(features, self.state.centroids)
            if self.state.centroids.size
            else np.zeros(inter.n_users, dtype=np.int64)
        )
        return Segments(assignment=assignment, label=self.state.segment_label, popular=self.state.popular)

    def model(self, shop: ShopData, segments: Segments) -> KGRecommender:
        return self.state.model.with_users(shop, shop.interactions, segments.assignment)

    def together(self, positive: sparse.csr_matrix) -> sparse.csr_matrix:
        return self.state.together


def _shop_of(
    store: GraphStore, settings: Settings, users: list[str] | None, items: list[str]
) -> tuple[ShopData, int | None]:
    """The events and review mentions of ``users`` (every user when None), coded with ``items`` (events of
    products not in ``items`` are left out); and the newest of those events (those products included).
    For given ``users`` the catalogue is read product by product (:class:`kg.profiles.load.GraphCatalogue`:
    their products now, their candidates' when reasons need them); for every user it is read whole."""
    from kg.profiles.load import GraphCatalogue, load_aspects, load_catalogue

    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        events = ledger.events_between() if users is None else ledger.events_of_users(users)
        rows = [(e.user, e.item, e.type, e.at, e.rating) for e in events]
    known = set(items)
    inter = Interactions.from_rows([r for r in rows if r[1] in known], items=items)
    if users is None:
        shop = ShopData(interactions=inter, catalogue=load_catalogue(store), aspects=load_aspects(store))
    else:
        aspects = load_aspects(store, users=users, products=False)
        catalogue = GraphCatalogue(store, aspects.product_aspects)
        catalogue.require([inter.items[i] for i in np.unique(inter.item).tolist()])
        shop = ShopData(interactions=inter, catalogue=catalogue, aspects=aspects)
    return shop, max((r[3] for r in rows), default=None)


def profile_with_state(
    store: GraphStore,
    settings: Settings,
    state: ProfileState,
    users: list[str] | None = None,
    *,
    as_of_ms: int | None = None,
) -> ProfileResult:
    """The pipeline for ``users`` (every user in the ledger when None) with the frozen ``state``.
    ``as_of_ms`` None: the state's, moved to the newest of these users' events unless ``--as-of`` fixed it."""
    shop, newest = _shop_of(store, settings, users, state.items)
    if as_of_ms is None:
        newest = newest or state.as_of_ms
        as_of_ms = state.as_of_ms if state.as_of_fixed else max(state.as_of_ms, int(newest))
    return profile_users(
        shop,
        FrozenLearner(store, settings, state),
        as_of_ms=as_of_ms,
        half_life_days=state.half_life_days,
        top=state.top,
        k=state.k,
    )
