"""Most-bought items first: the number of distinct users who purchased or rated each item in training.

>>> from kg.profiles.data import Interactions, ShopData
>>> train = Interactions.from_rows([("a", "p1", "purchase", 1, None), ("b", "p2", "purchase", 1, None),
...                                 ("c", "p2", "rating", 1, 5.0)])
>>> PopularityRecommender().fit(ShopData(train), train).scores(np.array([0])).tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender, item_popularity

__all__ = ["PopularityRecommender", "item_popularity"]


class PopularityRecommender(Recommender):
    """The same ranking for everyone: items by how many users bought or rated them."""

    name = "popularity"

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> PopularityRecommender:
        self._prepare(train)
        self.popularity = item_popularity(train)
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, (users.shape[0], self.n_items)).copy()
