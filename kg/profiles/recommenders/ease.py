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
    """EASE's B from the item Gram matrix X^T X (float32 out). X^T X + lambda I is symmetric positive
    definite, so P is its Cholesky inverse, in float32 (a sixth of the time of a float64 LU inverse at
    8,000 items, entries within 1e-6 of it relative to the largest); float64 if float32 finds it not
    positive definite.

    >>> b = ease_weights(np.array([[2.0, 1.0], [1.0, 2.0]]), 1.0)
    >>> bool(np.allclose(b, [[0.0, 1 / 3], [1 / 3, 0.0]]))
    True
    """
    from scipy.linalg import lapack

    p = np.zeros((0, 0))
    for dtype, factor, invert in (
        (np.float32, lapack.spotrf, lapack.spotri),
        (np.float64, lapack.dpotrf, lapack.dpotri),
    ):
        g: np.ndarray = np.array(gram, dtype=dtype, copy=True)
        g[np.diag_indices_from(g)] += np.asarray(lam, dtype=dtype)
        c, info = factor(g, lower=False, overwrite_a=True)
        if info == 0:
            p, info = invert(c, lower=False, overwrite_c=True)
        if info == 0:
            break
    else:
        from kg.foundation.errors import ConfigError

        raise ConfigError(f"EASE: the item Gram matrix plus {lam} I is not positive definite", hint="raise ease_lam")
    upper = np.triu(p)
    p = upper + np.triu(upper, 1).T  # the inverse is symmetric; LAPACK fills one triangle
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
