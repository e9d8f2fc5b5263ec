"""What every recommender shares: the model protocol, seen-item exclusion and batched top-K.

A model has ``name``, ``fit(shop, train, seed) -> self`` and ``scores(users) -> (len(users) x n_items)``
float32, higher is better, ``-inf`` for items it cannot rank. Collaborative models cannot rank items
with no training event at all; models with catalogue signals (``kg``) can.

Seen items: an item is *seen* by a user when the user purchased or rated it in training
(:data:`~profiles.data.POSITIVE_TYPES`). Viewed or carted items are not excluded: buying what one
looked at is the most common purchase.

Ties: items with equal scores are ranked by ``order``, a permutation of the item codes, first wins. Every
model sets :attr:`Recommender.tie_order` when fitted: the more popular item in its training data first
(:func:`popularity_order`), so a sparse scorer whose candidates mostly tie at 0 fills its list with best
sellers rather than with low item codes. Without an order (``None``: a state saved before kg had one) the
lower item code wins.

>>> s = np.array([[0.1, 0.9, 0.5, -np.inf, 0.1]], dtype=np.float32)
>>> top_k(s, sparse.csr_matrix(np.array([[0, 1, 0, 0, 0]])), 3).tolist()
[[2, 0, 4]]
>>> top_k(s, sparse.csr_matrix(np.array([[0, 1, 0, 0, 0]])), 3, order=np.array([4, 3, 2, 1, 0])).tolist()
[[2, 4, 0]]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from scipy import sparse

from kg.profiles.data import EVENT_TYPES, POSITIVE_TYPES, Interactions, ShopData

__all__ = [
    "BATCH_USERS",
    "Recommender",
    "active_items",
    "batches",
    "best_per_row",
    "top_pool",
    "collect_notes",
    "exclude_cold",
    "exclude_seen",
    "item_popularity",
    "note",
    "popularity_order",
    "tie_rank",
    "positive_matrix",
    "recommend",
    "row_minmax",
    "seen_items",
    "top_k",
]

logger = logging.getLogger(__name__)

#: open note collectors (innermost last): see :func:`collect_notes`
_NOTES: list[dict[str, str]] = []


@contextmanager
def collect_notes() -> Iterator[dict[str, str]]:
    """Collect the :func:`note` calls made inside: key -> message, the latest message per key, so a fact
    said by several fits (validation, full) is reported once, in the run's summary."""
    notes: dict[str, str] = {}
    _NOTES.append(notes)
    try:
        yield notes
    finally:
        _NOTES.remove(notes)


def note(key: str, message: str) -> None:
    """A fact about this run worth a line in its summary (e.g. a model limited to the most bought items);
    logged at INFO when nothing collects it."""
    if _NOTES:
        _NOTES[-1][key] = message
    else:
        logger.info("%s", message)


#: users scored at once: bounds memory to BATCH_USERS x n_items float32 per signal
BATCH_USERS = 1024


class Recommender:
    """Base class: subclasses set ``name`` and implement :meth:`fit` and :meth:`_raw_scores`."""

    name: str = "base"
    #: True when the model can score items without training events (catalogue signals)
    scores_cold_items: bool = False
    #: item codes, the winner of a tie first (:func:`popularity_order` of the training data, set by
    #: :meth:`_prepare`); None: lower code first (a class default, so a model pickled without it loads)
    tie_order: np.ndarray | None = None

    def __init__(self) -> None:
        self.n_items = 0
        self.active: np.ndarray = np.zeros(0, dtype=bool)

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> Recommender:
        raise NotImplementedError

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _prepare(self, train: Interactions) -> None:
        self.n_items = train.n_items
        self.active = active_items(train)
        self.tie_order = popularity_order(train)

    def scores(self, users: np.ndarray) -> np.ndarray:
        """(len(users) x n_items) float32; items without training events are -inf unless the model scores them."""
        users = np.asarray(users, dtype=np.int64)
        out = np.asarray(self._raw_scores(users), dtype=np.float32).reshape(users.shape[0], self.n_items)
        return exclude_cold(self, out)

    def parts(self, users: np.ndarray) -> dict[str, np.ndarray]:
        """The raw scores of ``users`` split by signal (they sum to the raw score): one part, the model's own,
        unless a blend overrides this."""
        users = np.asarray(users, dtype=np.int64)
        return {self.name: np.asarray(self._raw_scores(users), dtype=np.float32).reshape(users.shape[0], self.n_items)}


def exclude_cold(model: Recommender, scores: np.ndarray) -> np.ndarray:
    """``scores`` (modified in place) with the items ``model`` cannot rank, those without training events,
    set to -inf unless the model scores cold items."""
    if not model.scores_cold_items:
        scores[:, ~model.active] = -np.inf
    return scores


def seen_items(train: Interactions) -> sparse.csr_matrix:
    """The users x items matrix of *seen* items (purchased or rated, see the module docstring)."""
    return train.matrix(POSITIVE_TYPES).tocsr()


def exclude_seen(scores: np.ndarray, seen: sparse.spmatrix | None) -> np.ndarray:
    """``scores`` (modified in place) with each row's seen items set to -inf; ``seen`` holds one row per row
    of ``scores`` (any non-zero = seen)."""
    if seen is not None and seen.nnz:
        coo = seen.tocoo()
        scores[coo.row, coo.col] = -np.inf
    return scores


def positive_matrix(train: Interactions) -> sparse.csr_matrix:
    """Binary users x items matrix of purchased/rated items (float32)."""
    return train.matrix(POSITIVE_TYPES, binary=True).astype(np.float32)


def item_popularity(train: Interactions) -> np.ndarray:
    """Distinct purchasing/rating users per item (float32): the ``popularity`` model's score."""
    return np.asarray(positive_matrix(train).sum(axis=0), dtype=np.float32).ravel()


def popularity_order(train: Interactions) -> np.ndarray:
    """Item codes, most popular in ``train`` first: by distinct purchasing/rating users (as the
    ``popularity`` model ranks), then distinct users with any event, then lower code.

    >>> train = Interactions.from_rows([("a", "p1", "view", 1, None), ("a", "p2", "purchase", 1, None),
    ...                                 ("b", "p3", "view", 1, None), ("c", "p3", "view", 1, None)])
    >>> popularity_order(train).tolist()
    [1, 2, 0]
    """
    bought = item_popularity(train)
    touched = np.asarray(train.matrix(EVENT_TYPES).sum(axis=0)).ravel()
    return np.lexsort((np.arange(train.n_items), -touched, -bought)).astype(np.int64)


def active_items(train: Interactions) -> np.ndarray:
    """Boolean per item: has at least one training event (any type)."""
    out = np.zeros(train.n_items, dtype=bool)
    out[np.unique(train.item)] = True
    return out


def batches(users: np.ndarray, size: int = BATCH_USERS) -> Iterator[np.ndarray]:
    """Consecutive slices of ``users`` of at most ``size``."""
    for start in range(0, len(users), size):
        yield users[start : start + size]


def row_minmax(scores: np.ndarray) -> np.ndarray:
    """Each row scaled to [0, 1] over its finite entries (constant rows become 0; -inf stays -inf)."""
    s = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(s)
    lo = np.where(finite, s, np.inf).min(axis=1, keepdims=True)
    hi = np.where(finite, s, -np.inf).max(axis=1, keepdims=True)
    span = hi - lo
    span_ok = np.isfinite(span) & (span > 0)
    out = np.where(span_ok, (s - np.where(np.isfinite(lo), lo, 0)) / np.where(span_ok, span, 1), 0.0)
    out = np.where(finite, out, -np.inf)
    return out.astype(np.float32)


def _exact_pool(scores: np.ndarray, kth: np.ndarray, pool: int, rank: np.ndarray | None = None) -> np.ndarray:
    """Rows x ``pool``: the items scoring above each row's ``kth`` value, then those scoring it that come
    first by ``rank`` (each item's place in the tie order; None: the lowest codes) (``scores`` holds at least
    ``pool`` items at or above ``kth`` per row)."""
    tied = scores == kth
    need = pool - (scores > kth).sum(axis=1, keepdims=True)
    if rank is None:
        chosen = tied & (np.cumsum(tied, axis=1) <= need)
    else:  # the ``need`` tied items of smallest rank: ranks are distinct, so a threshold picks exactly them
        key = np.where(tied, rank[None, :], np.iinfo(np.int64).max)
        threshold = np.take_along_axis(np.sort(key, axis=1), np.maximum(need - 1, 0), axis=1)
        chosen = tied & (key <= threshold) & (need > 0)
    take = (scores > kth) | chosen
    return np.nonzero(take)[1].reshape(scores.shape[0], pool)


def tie_rank(order: np.ndarray | None, n_items: int) -> np.ndarray | None:
    """Each item's place in the tie ``order`` (a permutation of item codes; None stays None).

    >>> tie_rank(np.array([2, 0, 1]), 3).tolist()
    [1, 2, 0]
    """
    if order is None:
        return None
    rank = np.empty(n_items, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(n_items)
    return rank


#: arrays of at least this many scores take their pools with ``torch.topk`` when torch is installed (several
#: threads; 6 ms against numpy's argpartition's 45 ms for 256 users x 20,000 items): below, torch's import
#: would cost more than it saves
TOPK_WITH_TORCH = 1_000_000


def top_pool(scores: np.ndarray, pool: int) -> np.ndarray:
    """Rows x ``pool``: indices of ``pool`` largest entries of each row, unordered; which of the entries tied
    with a row's smallest kept value are taken is unspecified (:func:`best_per_row` settles it).

    >>> sorted(top_pool(np.array([[0.1, 0.9, 0.5, 0.7]], dtype=np.float32), 2)[0].tolist())
    [1, 3]
    """
    if scores.size >= TOPK_WITH_TORCH:
        try:
            import torch
        except ImportError:  # torch is the embeddings extra's; numpy does it alone
            pass
        else:
            tensor = torch.from_numpy(np.ascontiguousarray(scores))
            return torch.topk(tensor, pool, dim=1, sorted=False).indices.numpy()
    n_items = scores.shape[1]
    return np.argpartition(scores, n_items - pool, axis=1)[:, n_items - pool :]


def best_per_row(scores: np.ndarray, pool: int, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``pool`` best finite items of each row of ``scores``, best first: (row, item) of each, row by row.
    Ties go to the item first in ``order`` (a permutation of the item codes; None: lower item code first):
    only where a tie crosses the pool's edge are the tied items looked at, the rest is one partition."""
    n_rows, n_items = scores.shape
    rank = tie_rank(order, n_items)
    if pool < n_items:
        picked = top_pool(scores, pool)
        kth = np.take_along_axis(scores, picked, axis=1).min(axis=1, keepdims=True)
        # where argpartition left out an item tied with the pool's last, pick those ties by the tie order
        left_out = (scores == kth).sum(axis=1) > (np.take_along_axis(scores, picked, axis=1) == kth).sum(axis=1)
        redo = np.flatnonzero(left_out & np.isfinite(kth[:, 0]))
        if redo.size:
            picked[redo] = _exact_pool(scores[redo], kth[redo], pool, rank)
    else:
        picked = np.broadcast_to(np.arange(n_items), (n_rows, n_items))
    rows = np.repeat(np.arange(n_rows), picked.shape[1])
    items = picked.ravel()
    values = scores[rows, items]
    keep = np.isfinite(values)
    rows, items, values = rows[keep], items[keep], values[keep]
    by = np.lexsort((items if rank is None else rank[items], -values, rows))
    return rows[by], items[by]


def top_k(scores: np.ndarray, seen: sparse.csr_matrix | None, k: int, order: np.ndarray | None = None) -> np.ndarray:
    """Best ``k`` item codes per row, seen and -inf items excluded, ties to the item first in ``order``
    (None: lower item code first, see :func:`best_per_row`); -1 pads.

    ``seen`` holds one row per row of ``scores`` (any non-zero = seen); neither is modified.
    """
    n_rows, n_items = scores.shape
    out = np.full((n_rows, k), -1, dtype=np.int64)
    if min(k, n_items) == 0 or n_rows == 0:
        return out
    s = exclude_seen(np.array(scores, dtype=np.float32, copy=True), seen)
    rows, items = best_per_row(s, min(k, n_items), order)
    rank = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
    out[rows, rank] = items
    return out


def recommend(
    model: Recommender, users: np.ndarray, seen: sparse.csr_matrix | None, k: int, batch: int = BATCH_USERS
) -> np.ndarray:
    """Top-k item codes for ``users`` (rows of ``seen`` are looked up by user code), in user batches; ties
    to the more popular item in the model's training data (:attr:`Recommender.tie_order`)."""
    users = np.asarray(users, dtype=np.int64)
    order = getattr(model, "tie_order", None)
    parts = [np.zeros((0, k), dtype=np.int64)]
    for chunk in batches(users, batch):
        parts.append(top_k(model.scores(chunk), seen[chunk] if seen is not None else None, k, order))
    return np.concatenate(parts)
