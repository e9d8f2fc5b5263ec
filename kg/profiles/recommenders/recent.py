"""Recent-first: the baseline a shop's data scientist brings for repeat behaviour. The user's own viewed,
favourited or carted items (not bought) come first, the most recently looked at first; then everything
else by popularity (the tie rule of every model, :func:`~kg.profiles.recommenders.base.popularity_order`).

>>> from kg.profiles.recommenders.base import recommend, seen_items
>>> train = Interactions.from_rows([("a", "p1", "view", 1, None), ("a", "p2", "cart", 5, None),
...                                 ("b", "p3", "purchase", 1, None), ("c", "p3", "purchase", 2, None)])
>>> model = RecentRecommender().fit(ShopData(train), train)
>>> recommend(model, np.array([0, 1]), seen_items(train), 3).tolist()
[[1, 0, 2], [0, 1, -1]]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender
from kg.profiles.recommenders.signals import LOOKED

__all__ = ["RecentRecommender", "last_looked"]


def last_looked(train: Interactions) -> sparse.csr_matrix:
    """users x items (float32): for each item the user viewed, favourited or carted, ``2 - age / span`` in
    (1, 2], ``age`` the time from its latest such event to the user's newest one, ``span`` the user's time range
    plus 1 ms: the most recently looked-at item scores 2, items never looked at are absent (0)."""
    mask = train.type_mask(LOOKED)
    user, item, at = train.user[mask].astype(np.int64), train.item[mask].astype(np.int64), train.at[mask]
    shape = (train.n_users, train.n_items)
    if not user.size:
        return sparse.csr_matrix(shape, dtype=np.float32)
    newest = np.full(train.n_users, np.iinfo(np.int64).min, dtype=np.int64)
    oldest = np.full(train.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    np.maximum.at(newest, train.user, train.at)
    np.minimum.at(oldest, train.user, train.at)
    key = user * train.n_items + item
    order = np.lexsort((at, key))
    last = np.append(key[order][1:] != key[order][:-1], True)
    pick = order[last]  # each (user, item)'s latest look
    u = user[pick]
    span = (newest[u] - oldest[u] + 1).astype(np.float64)
    value = 2.0 - (newest[u] - at[pick]).astype(np.float64) / span
    return sparse.csr_matrix((value.astype(np.float32), (u, item[pick])), shape=shape)


class RecentRecommender(Recommender):
    """The user's recently looked-at items first (latest look first), then the most popular items."""

    name = "recent"

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> RecentRecommender:
        self._prepare(train)
        self.recent = last_looked(train)
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.recent[users].todense(), dtype=np.float32)
