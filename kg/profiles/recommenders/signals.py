"""The explainable signals the ``kg`` blend mixes, each a users x items score scaled to [0, 1] per user.

==============  =====================================================================================
signal          meaning (what the lead's reason path shows)
==============  =====================================================================================
``copurchase``  item-item cosine: an item the user bought is bought together with this one
``ease``        EASE linear item model on what the user bought (co-purchase, learned weights)
``mf``          implicit ALS factors (users who buy like this user bought it)
``gnn``         LightGCN embeddings (torch_geometric) of the purchase graph; up to GNN_MAX_PAIRS pairs
``brand``       the user bought, rated, carted, favourited or viewed items of this brand
``category``    the user interacted with this category, or a parent of it (parents count half)
``aspect``      the user mentioned, positively, an aspect that reviewers praise on this product
``segment``     popular in the user's segment (only when segments are given)
``popularity``  popular overall (log of distinct buyers)
``viewed``      the user viewed, favourited or carted this item (recently, often) and has not bought it
``sequence``    other shoppers went on to this item from the items the user touched last (transitions)
==============  =====================================================================================

Behaviour weights for brand/category affinity: purchase and rating 1, cart 0.5, favorite 0.4, view 0.25. Every
signal is scaled per user over the items the user has not bought: min 0, max 1 (a flat row is 0).

``viewed`` knows recency and intensity (:func:`looked_scores`): ``log(1 + sum w_type x decay(age))`` over the
user's views (w 1), favourites (2) and carts (3) of the item, as the interests weigh them, decayed with the
interests' half-life arithmetic (:func:`kg.profiles.interests.decay`), the age counted from the user's newest
event. Its half-life (``view_half_life`` days) is the interests' 30 days unless the blend's tuning picks
another of :data:`VIEW_HALF_LIVES`. Bought items stay out of it, as out of every signal (see
:mod:`kg.profiles.recommenders.base`): a repeat purchase is never recommended.

``sequence`` is the item-to-next-item model of :mod:`kg.profiles.recommenders.transitions` (moments are
distinct event times, unordered within; ``j`` follows ``i`` 1 to ``window`` moments later, weighted 1 /
distance; P(j | i)), scored from the user's ``last`` most recent distinct items weighted
:data:`SEQUENCE_DECAY` ``** rank``: sparse items x items on the item side, a few items per user on the user
side (:func:`sequence_history`). ``(window, last)`` is :data:`SEQUENCE_SHAPE` unless the blend's tuning picks
another of :data:`SEQUENCE_SHAPES`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from kg.profiles.data import EVENT_TYPES, AspectSignals, Interactions, ShopData
from kg.profiles.interests import DAY_MS, InterestWeights, decay
from kg.profiles.recommenders.base import active_items, positive_matrix
from kg.profiles.recommenders.ease import EASERecommender
from kg.profiles.recommenders.itemknn import cosine_similarity
from kg.profiles.recommenders.mf import MFRecommender
from kg.profiles.recommenders.transitions import latest_items, merge_runs, moments, transition_matrix

__all__ = [
    "SIGNALS",
    "SignalModel",
    "aspects_before",
    "TYPE_WEIGHTS",
    "fold_in_als",
    "LOOKED",
    "looked_scores",
    "VIEW_HALF_LIFE",
    "VIEW_HALF_LIVES",
    "LEARNED",
    "SEQUENCE_SHAPE",
    "SEQUENCE_SHAPES",
    "SEQUENCE_DECAY",
    "sequence_history",
    "sequence_follows",
    "sequence_parts",
]

logger = logging.getLogger(__name__)

SIGNALS: tuple[str, ...] = (
    "copurchase",
    "ease",
    "mf",
    "gnn",
    "brand",
    "category",
    "aspect",
    "segment",
    "popularity",
    "viewed",
    "sequence",
)
#: the signals whose item side costs a real fit (an inverse, a factorisation, training): a model may take
#: them over from another fit of the same users and items (:meth:`SignalModel.fit`'s ``learned``)
LEARNED: tuple[str, ...] = ("ease", "mf", "gnn")
#: the LightGCN signal is left out above this many bought (user, item) pairs (its CPU time grows with them)
GNN_MAX_PAIRS = 300_000
#: how much one event of each type says about a user's brand/category interest
TYPE_WEIGHTS: dict[str, float] = {"view": 0.25, "favorite": 0.4, "cart": 0.5, "purchase": 1.0, "rating": 1.0}
#: weight of a category's parent relative to the category itself (grandparents: squared, ...)
PARENT_DECAY = 0.5
#: the event types the ``viewed`` signal counts
LOOKED: tuple[str, ...] = ("view", "favorite", "cart")
#: the ``viewed`` signal's half-life in days unless tuned: the interests' default
VIEW_HALF_LIFE = 30.0
#: the half-lives (days) the ``kg`` blend's tuning tries for the ``viewed`` signal, the default first
VIEW_HALF_LIVES: tuple[float, ...] = (VIEW_HALF_LIFE, 1.0, 7.0, 365.0)
#: the least an event counts of its weight, however old: every looked-at item stays above those never looked at
DECAY_FLOOR = 2.0**-20
#: the ``sequence`` signal's (window, last) unless tuned: the transitions baseline's default
SEQUENCE_SHAPE: tuple[int, int] = (3, 3)
#: the (window, last) pairs the ``kg`` blend's tuning tries for the ``sequence`` signal, the default first
SEQUENCE_SHAPES: tuple[tuple[int, int], ...] = (SEQUENCE_SHAPE, (1, 1), (1, 3), (3, 10), (10, 10))
#: weight of the user's r-th latest item in the ``sequence`` signal: ``SEQUENCE_DECAY ** r``
SEQUENCE_DECAY = 0.5


def sequence_follows(train: Interactions, window: int) -> sparse.csr_matrix:
    """items x items (float32): P(j | i) of :func:`~kg.profiles.recommenders.transitions.transition_matrix`,
    ``j`` touched 1 to ``window`` moments after ``i`` by one user (events of one time are unordered).

    >>> rows = [("a", "p1", "view", 1, None), ("a", "p2", "view", 2, None), ("b", "p1", "view", 1, None)]
    >>> sequence_follows(Interactions.from_rows(rows), 3).toarray().tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    return sequence_parts(train, [(window, 1)])[(window, 1)][0]


def sequence_history(train: Interactions, last: int) -> sparse.csr_matrix:
    """users x items (float32): each user's ``last`` most recently touched distinct items, weighted
    ``SEQUENCE_DECAY ** r`` (r = 0 for the newest; items of one moment share r).

    >>> rows = [("a", "p1", "view", 1, None), ("a", "p2", "view", 2, None), ("a", "p3", "view", 2, None)]
    >>> sequence_history(Interactions.from_rows(rows), 2).toarray().tolist()
    [[0.5, 1.0, 1.0]]
    """
    user, moment, item = moments(train)
    return latest_items(user, moment, item, train.n_users, train.n_items, last, SEQUENCE_DECAY)


def sequence_parts(
    train: Interactions, shapes: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[sparse.csr_matrix, sparse.csr_matrix]]:
    """(:func:`sequence_follows`, :func:`sequence_history`) for each (window, last) of ``shapes``, the
    moments found once and each window's and each last's matrix built once."""
    steps = moments(train)
    runs = merge_runs(*steps)
    follows = {w: transition_matrix(*runs, train.n_items, w) for w in dict.fromkeys(w for w, _ in shapes)}
    history = {
        n: latest_items(*steps, train.n_users, train.n_items, n, SEQUENCE_DECAY)
        for n in dict.fromkeys(n for _, n in shapes)
    }
    return {(w, n): (follows[w], history[n]) for w, n in shapes}


def looked_scores(train: Interactions, half_life_days: float = VIEW_HALF_LIFE) -> sparse.csr_matrix:
    """users x items (float32): ``log(1 + sum w x decay)`` over each user's views, favourites and carts of each
    item, weights as :class:`~kg.profiles.interests.InterestWeights` (view 1, favorite 2, cart 3), each event
    decayed by its age before the user's newest event (any type) with ``half_life_days``, at least
    :data:`DECAY_FLOOR`.

    >>> day = DAY_MS
    >>> train = Interactions.from_rows([("a", "p1", "view", 0, None), ("a", "p2", "view", 30 * day, None),
    ...                                 ("a", "p1", "cart", 0, None), ("a", "p3", "purchase", 30 * day, None)])
    >>> np.expm1(looked_scores(train).toarray()).round(3).tolist()
    [[2.0, 1.0, 0.0]]
    """
    n_users, n_items = train.n_users, train.n_items
    newest = np.full(n_users, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(newest, train.user, train.at)
    mask = train.type_mask(LOOKED)
    weights = InterestWeights()
    per_type = np.asarray([getattr(weights, t) if t in LOOKED else 0.0 for t in EVENT_TYPES], dtype=np.float64)
    user, item = train.user[mask], train.item[mask]
    value = per_type[train.type[mask]] * np.maximum(
        decay(train.at[mask], newest[user], half_life_days * DAY_MS), DECAY_FLOOR
    )
    m = sparse.csr_matrix((value, (user, item)), shape=(n_users, n_items))
    m.sum_duplicates()
    m.data = np.log1p(m.data)
    return m.astype(np.float32)


def aspects_before(aspects: AspectSignals, users: Sequence[str], cutoff_at: dict[int, int]) -> AspectSignals:
    """``aspects`` without the mentions a user made at or after their cutoff (users by code in ``users``);
    mentions without a time are dropped for users that have a cutoff. Product aggregates are kept."""
    if not cutoff_at:
        return aspects
    by_name = {users[u]: at for u, at in cutoff_at.items()}
    kept = [m for m in aspects.user_mentions if m[0] not in by_name or (m[3] is not None and m[3] < by_name[m[0]])]
    return AspectSignals(user_mentions=kept, product_aspects=aspects.product_aspects)


def fold_in_als(x: sparse.csr_matrix, item_factors: np.ndarray, regularization: float, alpha: float) -> np.ndarray:
    """User factors for the rows of ``x`` given frozen item factors: the ALS user step
    ``(Y'Y + Y_u' (C_u - I) Y_u + reg I)^-1 Y_u' C_u 1`` with confidence ``C = 1 + alpha`` on bought items.

    >>> y = np.eye(2, dtype=np.float32)
    >>> fold_in_als(sparse.csr_matrix(np.array([[1.0, 0.0]])), y, 0.0, 1.0).round(3).tolist()
    [[1.0, 0.0]]
    """
    y = np.asarray(item_factors, dtype=np.float64)
    gram = y.T @ y
    eye = np.eye(y.shape[1])
    out = np.zeros((x.shape[0], y.shape[1]), dtype=np.float32)
    for u in range(x.shape[0]):
        items = x.indices[x.indptr[u] : x.indptr[u + 1]]
        if items.size == 0:
            continue
        yu = y[items]
        a = gram + alpha * yu.T @ yu + regularization * eye
        b = (1.0 + alpha) * yu.sum(axis=0)
        out[u] = np.linalg.solve(a, b)
    return out


def propagated_users(x: sparse.csr_matrix, item_emb: np.ndarray) -> np.ndarray:
    """LightGCN user vectors for the rows of ``x`` from frozen item vectors: a user's vector is built from its
    items' by propagation, so one step over the user's bought items (their degree-normalised mean) stands
    in for the trained one.

    >>> propagated_users(sparse.csr_matrix(np.array([[1.0, 1.0], [0.0, 0.0]])), np.eye(2, dtype=np.float32)).tolist()
    [[0.5, 0.5], [0.0, 0.0]]
    """
    degree = np.asarray(x.sum(axis=1)).ravel()
    mean = sparse.diags(np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)) @ x
    return np.asarray(mean @ item_emb, dtype=np.float32)


def _one_hot(values: Sequence[str | None]) -> tuple[sparse.csr_matrix, list[str]]:
    names = sorted({v for v in values if v})
    index = {n: i for i, n in enumerate(names)}
    rows = [r for r, v in enumerate(values) if v]
    cols = [index[v] for v in values if v]
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(values), len(names)))
    return m, names


def _finite_range(s: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's smallest and largest finite value (``finite``: where ``s`` is); a row without any gets
    non-finite bounds. NaN-skipping reductions when no entry is infinite (the usual case: one pass each)."""
    if np.isinf(s).any():
        return (
            np.where(finite, s, np.inf).min(axis=1, keepdims=True),
            np.where(finite, s, -np.inf).max(axis=1, keepdims=True),
        )
    with np.errstate(invalid="ignore"):
        return np.fmin.reduce(s, axis=1, keepdims=True), np.fmax.reduce(s, axis=1, keepdims=True)


def _scaled_nonnegative_sparse(rows: sparse.csr_matrix, seen: sparse.coo_matrix) -> np.ndarray | None:
    """:meth:`SignalModel.scaled` of a sparse signal with values >= 0, without scoring every item densely:
    each row's unseen minimum is 0 (an item it never touched), so the row is divided by its unseen maximum
    (the same float32 division as the dense path, hence the same bits). None when some row has a value on
    every unseen item (then its minimum is not 0: the dense path applies)."""
    m = sparse.csr_matrix(rows, dtype=np.float32, copy=True)
    n_rows, n_items = m.shape
    if seen.nnz:
        mask = sparse.csr_matrix((np.ones(seen.nnz, dtype=np.float32), (seen.row, seen.col)), shape=m.shape)
        mask.data[:] = 1.0  # duplicates summed: one is enough
        m = m - m.multiply(mask)
        m.eliminate_zeros()
        unseen = n_items - np.asarray(mask.getnnz(axis=1))
    else:
        unseen = np.full(n_rows, n_items)
    if m.nnz and (m.data < 0).any() or (np.asarray(m.getnnz(axis=1)) >= unseen).any():
        return None
    hi = np.asarray(m.max(axis=1).todense(), dtype=np.float32).ravel()
    row_of = np.repeat(np.arange(n_rows), np.diff(m.indptr))
    span = hi[row_of]
    m.data = np.where(span > 0, m.data / np.where(span > 0, span, np.float32(1)), np.float32(0)).astype(np.float32)
    return np.asarray(m.todense(), dtype=np.float32)


def _scaled_finite(s: np.ndarray, seen: sparse.coo_matrix) -> np.ndarray:
    """:meth:`SignalModel.scaled` of a float32 batch without an infinite or NaN score, in place: each row
    scaled to [0, 1] over its unseen entries (a flat row is 0), seen entries 0.

    >>> _scaled_finite(np.array([[1.0, 3.0, 5.0]], np.float32), sparse.coo_matrix(([1.0], ([0], [2])), shape=(1, 3)))
    array([[0., 1., 0.]], dtype=float32)
    """
    s[seen.row, seen.col] = np.nan
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce(s, axis=1, keepdims=True)
        hi = np.fmax.reduce(s, axis=1, keepdims=True)
        span = np.where(np.isfinite(hi - lo) & (hi - lo > 0), hi - lo, np.inf).astype(s.dtype)
        lo = np.where(np.isfinite(lo), lo, 0).astype(s.dtype)
        if lo.any():
            s -= lo
        s /= span
    s[seen.row, seen.col] = 0.0
    return s


#: a (users x labels) by (items x labels)' product is one dense matrix product when the item side has at
#: most this many cells (16 MB of float32): 3 ms instead of 22 ms for 256 users, 20,000 items and 16 brands
DENSE_LABEL_CELLS = 4_000_000


def through_labels(user_labels: sparse.csr_matrix, item_labels: sparse.csr_matrix) -> np.ndarray:
    """users x items (float32): ``user_labels @ item_labels.T``, each user's affinity to each item's labels
    (brands, categories, aspects).

    >>> through_labels(sparse.csr_matrix(np.array([[2.0, 0.0]])), sparse.csr_matrix(np.eye(2))).tolist()
    [[2.0, 0.0]]
    """
    if item_labels.shape[0] * item_labels.shape[1] <= DENSE_LABEL_CELLS:
        product = user_labels.toarray().astype(np.float32, copy=False) @ item_labels.toarray().astype(np.float32).T
        return np.ascontiguousarray(product, dtype=np.float32)
    return np.asarray((user_labels @ item_labels.T).todense(), dtype=np.float32)


def _rowmax_scale(m: np.ndarray) -> np.ndarray:
    hi = m.max(axis=1, keepdims=True) if m.shape[1] else np.zeros((m.shape[0], 1), np.float32)
    return np.divide(m, hi, out=np.zeros_like(m), where=hi > 0)


class SignalModel:
    """Fits every signal on the training interactions; :meth:`normalized` scores user batches."""

    #: the ``viewed`` signal's half-life in days (a class default, so a model pickled before it loads)
    view_half_life: float = VIEW_HALF_LIFE
    #: the ``sequence`` signal's (window, last)
    sequence_shape: tuple[int, int] = SEQUENCE_SHAPE

    def __init__(
        self,
        signals: Sequence[str] = SIGNALS,
        *,
        ease_lam: float = 200.0,
        mf_factors: int = 0,
        neighbours: int | None = None,
        view_half_life: float = VIEW_HALF_LIFE,
        sequence_shape: tuple[int, int] = SEQUENCE_SHAPE,
    ) -> None:
        self.wanted = tuple(signals)
        self.ease_lam, self.mf_factors, self.neighbours = ease_lam, mf_factors, neighbours
        self.view_half_life = float(view_half_life)
        self.sequence_shape = (int(sequence_shape[0]), int(sequence_shape[1]))

    # -- fitting -------------------------------------------------------------------------------------
    def fit(
        self,
        shop: ShopData,
        train: Interactions,
        seed: int = 0,
        user_segment: np.ndarray | None = None,
        *,
        learned: SignalModel | None = None,
        refresh: np.ndarray | None = None,
    ) -> SignalModel:
        """Fit every wanted signal on ``train``. ``learned``: a model of the same users and items fitted on
        part of ``train`` (the blend's validation fit, which lacks the held-out events of the users in
        ``refresh``): its :data:`LEARNED` signals are taken over instead of fitted again, their user side
        rebuilt from ``train`` where it differs (EASE reads every user's whole history; the ``refresh``
        users' MF and LightGCN rows are folded in with the learned item side, as :meth:`with_users` does)."""
        self.n_users, self.n_items = train.n_users, train.n_items
        self.x = positive_matrix(train)
        self.active = active_items(train)
        self.available: list[str] = []
        weights = np.asarray([TYPE_WEIGHTS[t] for t in EVENT_TYPES], dtype=np.float32)[train.type]
        w = sparse.csr_matrix((weights, (train.user, train.item)), shape=(self.n_users, self.n_items))
        w.sum_duplicates()
        w.data = np.log1p(w.data)
        self.w = w
        for name in self.wanted:
            if learned is not None and name in LEARNED:
                took = self._take_over(name, learned, train, np.zeros(0, np.int64) if refresh is None else refresh)
            else:
                took = getattr(self, f"_fit_{name}")(shop, train, seed, user_segment)
            if took:
                self.available.append(name)
        return self

    def _take_over(self, name: str, learned: SignalModel, train: Interactions, refresh: np.ndarray) -> bool:
        """Signal ``name`` (one of :data:`LEARNED`) from ``learned``'s fit; see :meth:`fit`."""
        import copy

        if name not in learned.available:
            return False
        if learned.n_users != self.n_users or learned.n_items != self.n_items:
            from kg.foundation.errors import ConfigError

            raise ConfigError("a learned signal model must know the same users and items")
        part = copy.copy(getattr(learned, name))
        part._prepare(train)  # cold items and ties as the whole training part has them
        if name == "ease":
            part.x = self.x[:, part.cols].tocsr()
        elif name == "mf":
            part.user_factors = np.array(part.user_factors, copy=True)
            if refresh.size:
                part.user_factors[refresh] = fold_in_als(
                    self.x[refresh], part.item_factors, part.regularization, part.alpha
                )
        else:
            part.user_emb = np.array(part.user_emb, copy=True)
            if refresh.size:
                part.user_emb[refresh] = propagated_users(self.x[refresh], part.item_emb)
        setattr(self, name, part)
        return True

    def _fit_copurchase(self, shop, train, seed, user_segment) -> bool:
        neighbours = self.neighbours or (None if self.n_items <= 5000 else 200)
        self.sim = cosine_similarity(self.x, neighbours)
        return bool(self.sim.nnz)

    def _fit_ease(self, shop, train, seed, user_segment) -> bool:
        self.ease = EASERecommender(lam=self.ease_lam).fit(shop, train, seed)
        return bool(self.x.nnz)

    def _fit_mf(self, shop, train, seed, user_segment) -> bool:
        self.mf = MFRecommender(factors=self.mf_factors).fit(shop, train, seed)
        return bool(self.x.nnz)

    def _fit_gnn(self, shop, train, seed, user_segment) -> bool:
        if not self.x.nnz or self.x.nnz > GNN_MAX_PAIRS:
            if self.x.nnz:
                logger.info("kg blend: %d bought pairs > %d, LightGCN signal left out", self.x.nnz, GNN_MAX_PAIRS)
            return False
        from kg.profiles.recommenders.gnn import LightGCNRecommender

        self.gnn = LightGCNRecommender().fit(shop, train, seed)
        return True

    def _fit_brand(self, shop, train, seed, user_segment) -> bool:
        self.item_brand, self.brands = _one_hot([shop.catalogue.brand_of.get(i) for i in train.items])
        self.user_brand = (self.w @ self.item_brand).tocsr()
        return bool(self.brands)

    def _fit_category(self, shop, train, seed, user_segment) -> bool:
        cat = shop.catalogue
        index: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for item, name in enumerate(train.items):
            leaf = cat.category_of.get(name)
            for depth, node in enumerate(cat.ancestors(leaf) if leaf else []):
                rows.append(item)
                cols.append(index.setdefault(node, len(index)))
                vals.append(PARENT_DECAY**depth)
        self.categories = list(index)
        self.item_category = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(self.n_items, len(index))
        )
        self.user_category = (self.w @ self.item_category).tocsr()
        return bool(index)

    def _fit_aspect(self, shop, train, seed, user_segment) -> bool:
        aspects = shop.aspects
        names = sorted(
            {a for _, a, _, _ in aspects.user_mentions} | {a for per in aspects.product_aspects.values() for a in per}
        )
        index = {a: i for i, a in enumerate(names)}
        self.aspects = names
        ur, uc, uv = [], [], []
        for user, aspect, sentiment, _ in aspects.user_mentions:
            u = train.user_index.get(user)
            if u is not None and sentiment > 0:
                ur.append(u)
                uc.append(index[aspect])
                uv.append(float(sentiment))
        self.user_aspect = sparse.csr_matrix((np.asarray(uv, np.float32), (ur, uc)), shape=(self.n_users, len(names)))
        pr, pc, pv = [], [], []
        for product, per in aspects.product_aspects.items():
            i = train.item_index.get(product)
            for aspect, (mentions, mean) in per.items() if i is not None else ():
                if mean > 0 and mentions > 0:
                    pr.append(i)
                    pc.append(index[aspect])
                    pv.append(float(np.log1p(mentions) * mean))
        self.item_aspect = sparse.csr_matrix((np.asarray(pv, np.float32), (pr, pc)), shape=(self.n_items, len(names)))
        return bool(self.user_aspect.nnz and self.item_aspect.nnz)

    def _fit_segment(self, shop, train, seed, user_segment) -> bool:
        self.user_segment = None
        if user_segment is None:
            return False
        seg = np.asarray(user_segment, dtype=np.int64)
        if seg.shape[0] != self.n_users:
            from kg.foundation.errors import ConfigError

            raise ConfigError(f"user_segment has {seg.shape[0]} entries for {self.n_users} users")
        valid = seg >= 0
        n_seg = int(seg.max()) + 1 if valid.any() else 0
        member = sparse.csr_matrix(
            (np.ones(int(valid.sum()), np.float32), (seg[valid], np.flatnonzero(valid))), shape=(n_seg, self.n_users)
        )
        counts = np.asarray((member @ self.x).todense(), dtype=np.float32)
        self.segment_pop = _rowmax_scale(np.log1p(counts))
        self.user_segment = seg
        return n_seg > 0

    def _fit_popularity(self, shop, train, seed, user_segment) -> bool:
        pop = np.log1p(np.asarray(self.x.sum(axis=0), dtype=np.float32).ravel())
        self.popularity = pop / pop.max() if pop.size and pop.max() > 0 else pop
        return bool(self.x.nnz)

    def _fit_viewed(self, shop, train, seed, user_segment) -> bool:
        self.viewed = looked_scores(train, self.view_half_life)
        return bool(self.viewed.nnz)

    def _fit_sequence(self, shop, train, seed, user_segment) -> bool:
        self.follows, self.latest = sequence_parts(train, [self.sequence_shape])[self.sequence_shape]
        return bool(self.follows.nnz)

    # -- users after fitting -------------------------------------------------------------------------
    #: attributes that hold one row per user (everything else describes items and stays frozen)
    USER_STATE = ("x", "w", "user_brand", "user_category", "user_aspect", "user_segment", "viewed", "latest")

    def without_users(self) -> SignalModel:
        """A copy holding only the item side (weights, similarities, factors of items): what ``kg update``
        keeps between runs. No user id or user row is left in it."""
        import copy

        frozen = copy.copy(self)
        for name in self.USER_STATE:
            setattr(frozen, name, None)
        frozen.n_users = 0
        if hasattr(self, "mf"):
            frozen.mf = copy.copy(self.mf)
            frozen.mf.user_factors = None
        if hasattr(self, "ease"):
            frozen.ease = copy.copy(self.ease)
            frozen.ease.x = None
        if hasattr(self, "gnn"):
            frozen.gnn = copy.copy(self.gnn)
            frozen.gnn.user_emb = None
        return frozen

    def with_users(self, shop: ShopData, train: Interactions, user_segment: np.ndarray | None = None) -> SignalModel:
        """A copy whose user rows are rebuilt from ``train`` (coded with this model's items, users 0..m-1),
        the item side frozen: every signal of those users is what the frozen model gives for their whole
        current history. MF user factors are folded in with the closed-form ALS user step."""
        import copy

        if train.n_items != self.n_items:
            from kg.foundation.errors import ConfigError

            raise ConfigError(f"the interactions know {train.n_items} items, the model {self.n_items}")
        fresh = copy.copy(self)
        fresh.n_users = train.n_users
        fresh.x = positive_matrix(train)
        weights = np.asarray([TYPE_WEIGHTS[t] for t in EVENT_TYPES], dtype=np.float32)[train.type]
        w = sparse.csr_matrix((weights, (train.user, train.item)), shape=(train.n_users, self.n_items))
        w.sum_duplicates()
        w.data = np.log1p(w.data)
        fresh.w = w
        if "brand" in self.available:
            fresh.user_brand = (w @ self.item_brand).tocsr()
        if "category" in self.available:
            fresh.user_category = (w @ self.item_category).tocsr()
        if "aspect" in self.available:
            index = {a: i for i, a in enumerate(self.aspects)}
            ur, uc, uv = [], [], []
            for user, aspect, sentiment, _ in shop.aspects.user_mentions:
                u, a = train.user_index.get(user), index.get(aspect)
                if u is not None and a is not None and sentiment > 0:
                    ur.append(u)
                    uc.append(a)
                    uv.append(float(sentiment))
            fresh.user_aspect = sparse.csr_matrix(
                (np.asarray(uv, np.float32), (ur, uc)), shape=(train.n_users, len(self.aspects))
            )
        if "segment" in self.available:
            seg = (
                np.full(train.n_users, -1, dtype=np.int64)
                if user_segment is None
                else np.asarray(user_segment, dtype=np.int64)
            )
            fresh.user_segment = seg
        if "viewed" in self.available:
            fresh.viewed = looked_scores(train, self.view_half_life)
        if "sequence" in self.available:
            fresh.latest = sequence_history(train, self.sequence_shape[1])
        if hasattr(self, "ease"):
            fresh.ease = copy.copy(self.ease)
            fresh.ease.x = fresh.x[:, self.ease.cols].tocsr()
        if hasattr(self, "mf"):
            fresh.mf = copy.copy(self.mf)
            fresh.mf.user_factors = fold_in_als(fresh.x, self.mf.item_factors, self.mf.regularization, self.mf.alpha)
        if hasattr(self, "gnn"):
            fresh.gnn = copy.copy(self.gnn)
            fresh.gnn.user_emb = propagated_users(fresh.x, self.gnn.item_emb)
        return fresh

    # -- scoring -------------------------------------------------------------------------------------
    def raw(self, name: str, users: np.ndarray) -> np.ndarray:
        """Unscaled scores of one signal for a user batch (float32, -inf where it cannot score)."""
        n = users.shape[0]
        if name == "copurchase":
            return np.asarray((self.x[users] @ self.sim).todense(), dtype=np.float32)
        if name == "ease":
            return self.ease.scores(users)
        if name == "mf":
            return self.mf.scores(users)
        if name == "gnn":
            return self.gnn.scores(users)
        if name == "brand":
            return through_labels(self.user_brand[users], self.item_brand)
        if name == "category":
            return through_labels(self.user_category[users], self.item_category)
        if name == "aspect":
            return through_labels(self.user_aspect[users], self.item_aspect)
        if name == "segment":
            assert self.user_segment is not None  # "segment" is available only with user segments
            seg = self.user_segment[users]
            out = np.zeros((n, self.n_items), dtype=np.float32)
            ok = (seg >= 0) & (seg < self.segment_pop.shape[0])
            out[ok] = self.segment_pop[seg[ok]]
            return out
        if name == "popularity":
            return np.broadcast_to(self.popularity, (n, self.n_items)).copy()
        if name == "viewed":
            return np.asarray(self.viewed[users].todense(), dtype=np.float32)
        if name == "sequence":
            return np.asarray(self._sequence_rows(users).todense(), dtype=np.float32)
        raise KeyError(name)

    def _sequence_rows(self, users: np.ndarray) -> sparse.csr_matrix:
        """The ``sequence`` signal of ``users``, sparse: their latest items' follow-on probabilities."""
        return (self.latest[users] @ self.follows).tocsr()

    def normalized(self, users: np.ndarray, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Each available signal (or ``names``) for ``users``, scaled to [0, 1] per user over unbought items."""
        users = np.asarray(users, dtype=np.int64)
        seen = self.x[users].tocoo()
        return {name: self.scaled(name, users, seen) for name in (names if names is not None else self.available)}

    def scaled(self, name: str, users: np.ndarray, seen: sparse.coo_matrix | None = None) -> np.ndarray:
        """One signal for ``users`` scaled to [0, 1] per user over unbought items (``seen``: their bought rows)."""
        seen = self.x[users].tocoo() if seen is None else seen
        if name == "viewed":  # a few items per user; ``sequence`` rows reach half the items: dense is faster
            fast = _scaled_nonnegative_sparse(self.viewed[users], seen)
            if fast is not None:
                return fast
        s = self.raw(name, users)
        if np.isfinite(s).all():  # the usual case: fewer passes over the batch, the same numbers
            return _scaled_finite(s, seen)
        s[seen.row, seen.col] = np.nan
        finite = np.isfinite(s)
        lo, hi = _finite_range(s, finite)
        with np.errstate(invalid="ignore"):
            span = np.where(np.isfinite(hi - lo) & (hi - lo > 0), hi - lo, np.inf)
            s -= np.where(np.isfinite(lo), lo, 0).astype(s.dtype)  # in place: s is this call's own array
            s /= span
        s[~finite] = 0.0
        return s.astype(np.float32, copy=False)
