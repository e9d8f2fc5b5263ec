"""Item-item cosine on co-occurrence: score(u, j) = sum over the user's items i of cos(i, j).

cos(i, j) = |users who bought i and j| / sqrt(|users of i| * |users of j|); self-similarity is 0.
``neighbours`` keeps only each item's strongest similarities (None: all), which bounds memory on
large catalogues.

>>> from kg.profiles.data import Interactions, ShopData
>>> rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 2, None), ("b", "p1", "purchase", 1, None)]
>>> train = Interactions.from_rows(rows)
>>> m = ItemKNNRecommender().fit(ShopData(train), train)
>>> [round(x, 4) for x in m.scores(np.array([1]))[0].tolist()]  # b bought p1; cos(p1, p2) = 1/sqrt(2*1)
[0.0, 0.7071]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender, positive_matrix

__all__ = ["ItemKNNRecommender", "cosine_similarity", "prune_rows"]


def prune_rows(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep the ``keep`` largest entries of each row."""
    m = matrix.tocsr()
    indptr, indices, data = [0], [], []
    for row in range(m.shape[0]):
        lo, hi = m.indptr[row], m.indptr[row + 1]
        vals, cols = m.data[lo:hi], m.indices[lo:hi]
        if vals.size > keep:
            top = np.argpartition(-vals, keep - 1)[:keep]
            vals, cols = vals[top], cols[top]
        indices.append(cols)
        data.append(vals)
        indptr.append(indptr[-1] + vals.size)

    def cat(parts: list[np.ndarray], dt: type[np.generic]) -> np.ndarray:
        return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)

    return sparse.csr_matrix((cat(data, np.float32), cat(indices, np.int32), np.asarray(indptr)), shape=m.shape)


def cosine_similarity(x: sparse.csr_matrix, neighbours: int | None = None) -> sparse.csr_matrix:
    """Item x item cosine of the columns of a binary users x items matrix, zero diagonal."""
    xc = x.tocsc().astype(np.float32)
    co = (xc.T @ xc).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    norms = np.sqrt(np.asarray(xc.sum(axis=0)).ravel()).astype(np.float32)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    sim = sparse.diags(inv) @ co @ sparse.diags(inv)
    sim = sparse.csr_matrix(sim, dtype=np.float32)
    if neighbours:
        # each item j keeps its strongest neighbours i: prune columns of sim (rows of sim.T)
        sim = prune_rows(sim.T.tocsr(), neighbours).T.tocsr()
    return sim


class ItemKNNRecommender(Recommender):
    """Items that co-occur with what the user bought, by cosine."""

    name = "itemknn"

    def __init__(self, neighbours: int | None = None) -> None:
        super().__init__()
        self.neighbours = neighbours

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> ItemKNNRecommender:
        self._prepare(train)
        self.x = positive_matrix(train)
        self.sim = cosine_similarity(self.x, self.neighbours)
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.x[users] @ self.sim).todense(), dtype=np.float32)
