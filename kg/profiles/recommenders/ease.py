"""EASE (Steck 2019): a closed-form linear item-item autoencoder with a zero diagonal.

B = I - P diag(1 / diag(P)), P = (X^T X + lambda I)^-1; score(u) = x_u B. Dense in items: on
catalogues larger than ``max_items`` only the ``max_items`` most bought items are modelled (the
rest score -inf), which bounds memory at max_items^2 floats.

>>> from kg.profiles.data import Interactions, ShopData
>>> rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 2, None), ("b", "p1", "purchase", 1, None),
...         ("c", "p3", "purchase", 1, None)]
>>> train = Interactions.from_rows(rows)
>>> s = EASERecommender(lam=1.0).fit(ShopData(train), train).scores(np.array([1]))[0]
>>> int(np.argmax(np.where([False, True, True], s, -np.inf)))  # b bought p1: p2 (co-bought) beats p3
1
"""

from __future__ import annotations

import logging

import numpy as np

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender, note, positive_matrix

__all__ = ["EASERecommender", "ease_weights"]

logger = logging.getLogger(__name__)


def ease_weights(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE's B from the item Gram matrix X^T X (float64 in, float32 out)."""
    g = np.array(gram, dtype=np.float64, copy=True)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b.astype(np.float32)


class EASERecommender(Recommender):
    """Linear item-item model, closed form, L2 weight ``lam``."""

    name = "ease"

    def __init__(self, lam: float = 200.0, max_items: int = 8000) -> None:
        super().__init__()
        self.lam, self.max_items = float(lam), int(max_items)

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> EASERecommender:
        self._prepare(train)
        x = positive_matrix(train)
        counts = np.asarray(x.sum(axis=0)).ravel()
        cols = np.flatnonzero(counts > 0)
        if cols.size > self.max_items:
            note("ease.max_items", f"ease: modelling the {self.max_items:,} most bought of {cols.size:,} items")
            cols = np.sort(cols[np.argsort(-counts[cols], kind="stable")[: self.max_items]])
        self.cols = cols
        self.x = x[:, cols].tocsr()
        gram = (self.x.T @ self.x).toarray()
        self.b = ease_weights(gram, self.lam)
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        out = np.full((users.shape[0], self.n_items), -np.inf, dtype=np.float32)
        if self.cols.size:
            out[:, self.cols] = np.asarray(self.x[users] @ self.b, dtype=np.float32)
        return out
