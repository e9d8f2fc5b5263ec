"""Item-to-next-item transitions: the items that most often follow the user's latest items in other
shoppers' sequences, the baseline a shop's data scientist brings for sequential behaviour.

Each user's training events make a sequence of *moments* (distinct event times), each the set of items
touched then: events at one time have no order (a shop whose times are days, as review dates, writes a
day's items in whatever order its file has), and a run of moments on one item counts once. ``j`` follows
``i`` when it is touched 1 to ``window`` moments after it (never ``i`` itself), counted 1 / moments apart.
P(j | i) = count(i -> j) / count(i -> anything). score(u, j) = sum over the user's ``last`` most recently
touched distinct items (items last touched at one moment share a rank; r = 0 for the newest) of
``decay ** r * P(j | i)``. Items that follow none of them score 0 and fall to the tie rule: the most
popular first.

``validation`` (a split kind of :data:`~kg.profiles.split.SPLITS`; None: no tuning) picks ``window`` and
``last`` among :data:`GRID` by Recall@20 + NDCG@20 on that kind of split carved from the training part, as
the ``kg`` blend tunes; ``kg eval recommend`` passes the split it evaluates.

>>> from kg.profiles.recommenders.base import recommend, seen_items
>>> rows = [("a", "p1", "view", 1, None), ("a", "p2", "view", 2, None), ("b", "p1", "view", 1, None),
...         ("b", "p3", "view", 2, None), ("c", "p1", "view", 1, None), ("c", "p2", "view", 2, None),
...         ("d", "p1", "purchase", 1, None)]
>>> train = Interactions.from_rows(rows)
>>> model = TransitionsRecommender(validation=None).fit(ShopData(train), train)
>>> [train.items[i] for i in recommend(model, np.array([3]), seen_items(train), 2)[0]]  # after p1: p2 twice, p3 once
['p2', 'p3']
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.profiles.data import EVENT_TYPES, Interactions, ShopData
from kg.profiles.metrics import ndcg_at_k, recall_at_k
from kg.profiles.recommenders.base import Recommender, positive_matrix, recommend
from kg.profiles.split import DEFAULT_SPLIT, SPLITS, make_split

__all__ = ["TransitionsRecommender", "moments", "merge_runs", "transition_matrix", "latest_items", "GRID"]

logger = logging.getLogger(__name__)

#: (window, last) pairs the validation tries, the default first (it wins ties)
GRID: tuple[tuple[int, int], ...] = (
    (3, 3),
    (1, 1),
    (1, 3),
    (3, 1),
    (3, 10),
    (10, 3),
    (10, 10),
    (10, 30),
    (30, 10),
    (30, 30),
)
TUNE_K = 20
#: the tuning scores at most this many validation users (a seeded sample; the others train as they are)
MAX_VAL_USERS = 3000


def moments(train: Interactions, types: Sequence[str] = EVENT_TYPES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, moment, item) of every distinct (user, time, item) of ``types`` events, by user, then time;
    ``moment`` numbers each user's distinct event times 0, 1, ... from their first.

    >>> rows = [("a", "p1", "view", 5, None), ("a", "p2", "view", 5, None), ("a", "p1", "cart", 9, None)]
    >>> [v.tolist() for v in moments(Interactions.from_rows(rows))]
    [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    """
    mask = train.type_mask(types)
    user, item, at = train.user[mask].astype(np.int64), train.item[mask].astype(np.int64), train.at[mask]
    order = np.lexsort((item, at, user))
    user, item, at = user[order], item[order], at[order]
    distinct = np.ones(user.size, dtype=bool)
    distinct[1:] = (user[1:] != user[:-1]) | (at[1:] != at[:-1]) | (item[1:] != item[:-1])
    user, item, at = user[distinct], item[distinct], at[distinct]
    fresh = np.ones(user.size, dtype=bool)
    fresh[1:] = (user[1:] != user[:-1]) | (at[1:] != at[:-1])
    return user, _renumber(user, fresh), item


def _renumber(user: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Each row's moment within its user, ``fresh`` marking the rows that start a moment (rows by user)."""
    count = np.cumsum(fresh)
    return count - count[np.searchsorted(user, user, side="left")]


def merge_runs(user: np.ndarray, moment: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`moments` without an item at a moment when the user touched it at the moment before too (a run
    counts once, at its start), moments renumbered so that none is left empty.

    >>> [v.tolist() for v in merge_runs(np.array([0, 0, 0]), np.array([0, 1, 2]), np.array([4, 4, 7]))]
    [[0, 0], [0, 1], [4, 7]]
    """
    if not user.size:
        return user, moment, item
    span, n_items = int(moment.max()) + 2, int(item.max()) + 1
    key = (user * span + moment) * n_items + item
    before = (user * span + moment - 1) * n_items + item  # moment -1 lands on a moment nobody has
    keep = ~np.isin(before, key)
    user, moment, item = user[keep], moment[keep], item[keep]
    fresh = np.ones(user.size, dtype=bool)
    fresh[1:] = (user[1:] != user[:-1]) | (moment[1:] != moment[:-1])
    return user, _renumber(user, fresh), item


def transition_matrix(
    user: np.ndarray, moment: np.ndarray, item: np.ndarray, n_items: int, window: int
) -> sparse.csr_matrix:
    """items x items (float32): row i holds P(j | i), ``j`` touched 1 to ``window`` moments after ``i`` by
    one user (rows as :func:`merge_runs` gives them: consecutive moments), each follow counted 1 / moments
    apart, self-follows not counted.

    >>> m = transition_matrix(np.array([0, 0, 0, 0]), np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3, 2)
    >>> m.toarray().astype(float).round(3).tolist()
    [[0.0, 0.4, 0.6], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    fresh = np.ones(user.size, dtype=bool)
    fresh[1:] = (user[1:] != user[:-1]) | (moment[1:] != moment[:-1])
    start = np.flatnonzero(fresh)
    end = np.append(start[1:], user.size)
    group = np.cumsum(fresh) - 1
    rows, cols, weights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for apart in range(1, window + 1):
        target = group + apart
        valid = target < start.size
        valid[valid] = user[start[target[valid]]] == user[valid]
        source, target = np.flatnonzero(valid), target[valid]
        counts = end[target] - start[target]
        total = int(counts.sum())
        offset = np.repeat(start[target] - (np.cumsum(counts) - counts), counts)
        src, dst = np.repeat(item[source], counts), item[offset + np.arange(total)]
        rows.append(src[src != dst])
        cols.append(dst[src != dst])
        weights.append(np.full(int((src != dst).sum()), 1.0 / apart))
    counts_matrix = sparse.csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items)
    )
    counts_matrix.sum_duplicates()
    total_out = np.asarray(counts_matrix.sum(axis=1)).ravel()
    inverse = np.divide(1.0, total_out, out=np.zeros_like(total_out), where=total_out > 0)
    return sparse.csr_matrix(sparse.diags(inverse) @ counts_matrix, dtype=np.float32)


def latest_items(
    user: np.ndarray, moment: np.ndarray, item: np.ndarray, n_users: int, n_items: int, last: int, decay: float
) -> sparse.csr_matrix:
    """users x items (float32): each user's ``last`` most recently touched distinct items (rows as
    :func:`moments` gives them), weighted ``decay ** r``, r = 0 for the newest; items last touched at one
    moment share r.

    >>> latest_items(np.array([0, 0, 0, 0]), np.array([0, 1, 1, 2]), np.array([2, 0, 1, 2]), 1, 3, 2, 0.5).toarray()
    array([[0.5, 0.5, 1. ]], dtype=float32)
    """
    key = user * n_items + item
    order = np.lexsort((moment, key))  # each (user, item)'s latest moment last
    pick = order[np.append(key[order][1:] != key[order][:-1], True)] if key.size else order
    pick = pick[np.lexsort((-moment[pick], user[pick]))]  # by user, the newest first
    u, when = user[pick], moment[pick]
    fresh = np.ones(u.size, dtype=bool)
    fresh[1:] = (u[1:] != u[:-1]) | (when[1:] != when[:-1])
    rank = _renumber(u, fresh)
    keep = rank < last
    weight = np.power(float(decay), rank[keep]).astype(np.float32)
    return sparse.csr_matrix((weight, (u[keep], item[pick][keep])), shape=(n_users, n_items))


class TransitionsRecommender(Recommender):
    """What other shoppers went on to next from the items the user touched last."""

    name = "transitions"

    def __init__(
        self,
        window: int = 3,
        last: int = 3,
        decay: float = 0.5,
        types: Sequence[str] = EVENT_TYPES,
        validation: str | None = DEFAULT_SPLIT,
    ) -> None:
        """``types``: the event types that make the sequences (default: every behaviour); ``validation``:
        the split kind the tuning of ``window`` and ``last`` carves from the training part (None: none)."""
        super().__init__()
        if window < 1 or last < 1 or not 0.0 < decay <= 1.0:
            raise ConfigError(
                f"transitions: window and last must be >= 1 and decay in (0, 1], got {window}, {last}, {decay}"
            )
        if validation is not None and validation not in SPLITS:
            raise ConfigError(f"unknown validation split {validation!r}; choose one of: {', '.join(SPLITS)}")
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise ConfigError(f"unknown event type(s) {', '.join(unknown)}; choose from: {', '.join(EVENT_TYPES)}")
        self.window, self.last, self.decay, self.types = int(window), int(last), float(decay), tuple(types)
        self.validation_split = validation
        #: what the tuning tried and picked (empty without tuning)
        self.validation: dict[str, Any] = {}

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> TransitionsRecommender:
        if self.validation_split is not None:
            self.window, self.last = self._tune(train, self.validation_split, seed)
        self._fit(train)
        return self

    def _fit(self, train: Interactions) -> None:
        self._prepare(train)
        user, moment, item = moments(train, self.types)
        self.transitions = transition_matrix(*merge_runs(user, moment, item), train.n_items, self.window)
        self.history = latest_items(user, moment, item, train.n_users, train.n_items, self.last, self.decay)

    def _tune(self, train: Interactions, kind: str, seed: int) -> tuple[int, int]:
        """The (window, last) of :data:`GRID` with the best Recall@20 + NDCG@20 on a ``kind`` split of
        ``train`` (at most :data:`MAX_VAL_USERS` users, sampled with ``seed``); the current pair when the
        split evaluates nobody."""
        val = make_split(train, kind)
        if not val.n_evaluated:
            return self.window, self.last
        users = val.evaluated
        if users.size > MAX_VAL_USERS:
            users = np.sort(np.random.default_rng(seed).choice(users, size=MAX_VAL_USERS, replace=False))
            if val.kept is not None:  # only the sampled users held out
                val = val.only(train, users)
        relevant = [val.test[int(u)] for u in users]
        seen = positive_matrix(val.train)
        tried: dict[str, float] = {}
        for window, last in dict.fromkeys(((self.window, self.last), *GRID)):
            trial = TransitionsRecommender(window, last, self.decay, self.types, validation=None)
            trial._fit(val.train)
            ranked = recommend(trial, users, seen, TUNE_K)
            score = recall_at_k(ranked, relevant, TUNE_K).mean() + ndcg_at_k(ranked, relevant, TUNE_K).mean()
            tried[f"window={window} last={last}"] = round(float(score), 6)
        best = max(tried, key=lambda key: tried[key])  # the first of equals: the current pair
        window, last = (int(part.split("=")[1]) for part in best.split())
        self.validation = {"split": val.name, "users": int(users.size), "window": window, "last": last, **tried}
        logger.info("transitions: window %d, last %d (validation recall@20 + ndcg@20: %s)", window, last, tried)
        return window, last

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.history[users] @ self.transitions).todense(), dtype=np.float32)
