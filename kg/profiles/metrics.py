"""Top-K ranking metrics with binary relevance.

``ranked`` is a (users x K) array of item codes, best first, where -1 pads a list shorter than K;
``relevant`` holds each user's held-out items. Per-user values are returned; average them yourself.

- recall@K = hits in the top K / |relevant|  (not / min(K, |relevant|): with one held-out item,
  as in leave-last-out, both are the same)
- ndcg@K = DCG / ideal DCG, DCG = sum over hits of 1 / log2(rank + 1), rank starting at 1;
  the ideal puts min(K, |relevant|) hits first
- hit@K = 1 when at least one relevant item is in the top K
- coverage@K = distinct items recommended to anyone / number of items ranked

>>> ranked = np.array([[3, 1, 2], [0, -1, -1]])
>>> relevant = [{1, 4}, {5}]
>>> recall_at_k(ranked, relevant, 3).tolist()
[0.5, 0.0]
>>> round(float(ndcg_at_k(ranked, relevant, 3)[0]), 4)  # (1/log2 3) / (1 + 1/log2 3)
0.3869
>>> hit_at_k(ranked, relevant, 2).tolist()
[1.0, 0.0]
>>> coverage_at_k(ranked, 3, n_items=10)
0.4
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["recall_at_k", "ndcg_at_k", "hit_at_k", "coverage_at_k", "hits_matrix"]


def hits_matrix(ranked: np.ndarray, relevant: Sequence[set[int]], k: int) -> np.ndarray:
    """Boolean (users x k): is the item at each of the first k ranks relevant."""
    top = np.asarray(ranked)[:, :k]
    out = np.zeros(top.shape, dtype=bool)
    for row, (items, rel) in enumerate(zip(top, relevant, strict=True)):
        if rel:
            out[row] = [int(i) in rel for i in items]
    return out


def recall_at_k(ranked: np.ndarray, relevant: Sequence[set[int]], k: int) -> np.ndarray:
    """Per user: relevant items in the top k / number of relevant items (0 when none are relevant)."""
    hits = hits_matrix(ranked, relevant, k).sum(axis=1)
    sizes = np.asarray([len(r) for r in relevant], dtype=np.float64)
    return np.divide(hits, sizes, out=np.zeros_like(sizes), where=sizes > 0)


def ndcg_at_k(ranked: np.ndarray, relevant: Sequence[set[int]], k: int) -> np.ndarray:
    """Per user: binary NDCG with log2 discounts."""
    hits = hits_matrix(ranked, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    ideal = cumulative[np.minimum([len(r) for r in relevant], k)]
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def hit_at_k(ranked: np.ndarray, relevant: Sequence[set[int]], k: int) -> np.ndarray:
    """Per user: 1.0 when any relevant item is in the top k."""
    return np.asarray(hits_matrix(ranked, relevant, k).any(axis=1), dtype=np.float64)


def coverage_at_k(ranked: np.ndarray, k: int, *, n_items: int) -> float:
    """Distinct items in anyone's top k / ``n_items`` (padding -1 ignored)."""
    if n_items <= 0:
        return 0.0
    top = np.asarray(ranked)[:, :k]
    return float(np.unique(top[top >= 0]).size / n_items)
