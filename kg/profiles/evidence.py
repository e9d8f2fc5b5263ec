"""What each kind of reason path needs, looked up for many (user, product) pairs at once.

:class:`~kg.profiles.reasons.Explainer` defines a reason one pair at a time; :class:`PathIndex` answers the
same questions for arrays of pairs with sparse lookups (no Python loop over pairs), so that
``kg profiles`` explains every user's candidates in a few numpy calls. :class:`Evidence` holds the answers.

>>> m = sparse.csr_matrix(np.array([[0, 2], [3, 0]]))
>>> lookup(m, np.array([0, 1, 1]), np.array([1, 0, 1])).tolist()
[2.0, 3.0, 0.0]
>>> expand(sparse.csr_matrix(np.array([[0, 1, 1], [1, 0, 0]])), np.array([1, 0]))
(array([0, 1, 1]), array([0, 1, 2]))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from kg.profiles.data import Catalogue, Interactions

__all__ = ["VIEW_RELS", "Evidence", "PathIndex", "expand", "lookup"]

#: the looked-at edge by its code in :attr:`Evidence.viewed` (0: none); a higher code wins
VIEW_RELS: tuple[str, ...] = ("", "VIEWED", "FAVORITED", "CARTED")


def lookup(matrix: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[p], cols[p]]`` for every p, as float64 (0 where absent)."""
    if rows.size == 0:
        return np.zeros(0)
    return np.asarray(matrix[rows, cols], dtype=np.float64).ravel()


def expand(matrix: sparse.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every stored column of each row in ``rows``: (position in ``rows``, column), row by row."""
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = (ends - starts).astype(np.int64)
    owner = np.repeat(np.arange(rows.size), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, matrix.indices[np.repeat(starts, lengths) + offsets].astype(np.int64)


def _best(owner: np.ndarray, key: np.ndarray, value: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per owner in ``range(n)``: the ``key`` with the largest positive ``value`` (ties: smallest key) and
    that value; -1 and 0 where an owner has none."""
    keep = value > 0
    owner, key, value = owner[keep], key[keep], value[keep]
    order = np.lexsort((key, -value, owner))
    owner, key, value = owner[order], key[order], value[order]
    first = np.ones(owner.size, dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    best_key, best_value = np.full(n, -1, dtype=np.int64), np.zeros(n)
    best_key[owner[first]], best_value[owner[first]] = key[first], value[first]
    return best_key, best_value


def _binary(rows: Sequence[int], cols: Sequence[int], shape: tuple[int, int]) -> sparse.csr_matrix:
    m = sparse.csr_matrix((np.ones(len(rows)), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


@dataclass
class Evidence:
    """Per pair: what each kind of path would cite (-1 or 0 where the pair has no such path)."""

    #: the bought item with the most co-buyers of the product (ties: lowest code), its count, its edge
    source: np.ndarray
    count: np.ndarray
    rated: np.ndarray
    #: code in :data:`VIEW_RELS`
    viewed: np.ndarray
    #: how far above the product's leaf category the liked category is
    depth: np.ndarray
    brand: np.ndarray
    #: index in :attr:`PathIndex.aspects` of the most praised liked aspect
    aspect: np.ndarray
    segment: np.ndarray

    def found(self, kinds: Sequence[str]) -> np.ndarray:
        """pairs x kinds: whether the pair has a path of each kind."""
        has = {
            "copurchase": self.source >= 0,
            "viewed": self.viewed > 0,
            "category": self.depth >= 0,
            "brand": self.brand,
            "aspect": self.aspect >= 0,
            "segment": self.segment,
        }
        return np.column_stack([has[k] for k in kinds])


class PathIndex:
    """The graph a reason may walk, as sparse matrices coded like ``inter``: bought and looked-at items,
    co-purchase counts, kept interests, segments and their popular products."""

    def __init__(
        self,
        inter: Interactions,
        catalogue: Catalogue,
        product_aspects: dict[str, dict[str, tuple[int, float]]],
        *,
        positive: sparse.csr_matrix,
        together: sparse.csr_matrix,
        interests: dict[str, set[tuple[str, str]]],
        segment_of: dict[str, int],
        popular: dict[int, set[str]],
        praise_threshold: float,
    ) -> None:
        self.positive, self.together = positive.tocsr(), together.tocsr()
        shape = (inter.n_users, inter.n_items)
        purchased = inter.matrix(("purchase",))
        self.rated_only = (inter.matrix(("rating",)) - inter.matrix(("rating",)).multiply(purchased)).tocsr()
        self.rated_only.eliminate_zeros()
        looked = sparse.csr_matrix(shape)
        for code, kind in enumerate(("view", "favorite", "cart"), start=1):
            looked = looked.maximum(inter.matrix((kind,)) * code)
        self.looked = looked.tocsr()
        self._catalogue(inter.items, catalogue)
        self._aspects(inter.items, product_aspects, praise_threshold)
        self._interests(inter, interests)
        self._segments(inter, segment_of, popular)

    def _catalogue(self, items: Sequence[str], catalogue: Catalogue) -> None:
        """Each item's category chain (leaf first, -1 padded) and brand, as codes."""
        chains = [catalogue.ancestors(c) if (c := catalogue.category_of.get(p)) else [] for p in items]
        self.categories = {c: n for n, c in enumerate(dict.fromkeys(c for chain in chains for c in chain))}
        self.chain = np.full((len(items), max(map(len, chains), default=0)), -1, dtype=np.int64)
        for i, chain in enumerate(chains):
            self.chain[i, : len(chain)] = [self.categories[c] for c in chain]
        self.brands = {b: n for n, b in enumerate(sorted({b for b in catalogue.brand_of.values()}))}
        self.item_brand = np.asarray([self.brands.get(catalogue.brand_of.get(p, ""), -1) for p in items], np.int64)

    def _aspects(
        self, items: Sequence[str], product_aspects: dict[str, dict[str, tuple[int, float]]], threshold: float
    ) -> None:
        """Items x aspects: the praise of each aspect reviewers praise on the item (above ``threshold``)."""
        self.aspects = sorted({a for per in product_aspects.values() for a in per})
        index = {a: n for n, a in enumerate(self.aspects)}
        rows, cols, vals = [], [], []
        for i, p in enumerate(items):
            for a, (_, praise) in product_aspects.get(p, {}).items():
                if praise > threshold:
                    rows.append(i)
                    cols.append(index[a])
                    vals.append(float(praise))
        self.praise = sparse.csr_matrix((vals, (rows, cols)), shape=(len(items), len(self.aspects)), dtype=np.float64)

    def _interests(self, inter: Interactions, interests: dict[str, set[tuple[str, str]]]) -> None:
        """Users x categories, brands and aspects they are INTERESTED_IN."""
        vocab = {
            "Category": self.categories,
            "Brand": self.brands,
            "Aspect": {a: n for n, a in enumerate(self.aspects)},
        }
        cells: dict[str, tuple[list[int], list[int]]] = {label: ([], []) for label in vocab}
        for user, keys in interests.items():
            u = inter.user_index.get(user)
            if u is None:
                continue
            for label, key in keys:
                col = vocab.get(label, {}).get(key)
                if col is not None:
                    cells[label][0].append(u)
                    cells[label][1].append(col)
        self.likes = {
            label: _binary(*cells[label], (inter.n_users, max(1, len(names)))) for label, names in vocab.items()
        }

    def _segments(self, inter: Interactions, segment_of: dict[str, int], popular: dict[int, set[str]]) -> None:
        """Each user's segment (-1: none) and segments x items popular there (rows by segment id order)."""
        self.segment_ids = sorted(set(popular) | set(segment_of.values()))
        row = {s: n for n, s in enumerate(self.segment_ids)}
        self.user_segment = np.full(inter.n_users, -1, dtype=np.int64)
        for user, segment in segment_of.items():
            u = inter.user_index.get(user)
            if u is not None:
                self.user_segment[u] = row[segment]
        cells = [(row[s], inter.item_index[p]) for s, ps in popular.items() for p in ps if p in inter.item_index]
        self.popular = _binary([r for r, _ in cells], [c for _, c in cells], (max(1, len(row)), inter.n_items))

    def evidence(self, users: np.ndarray, items: np.ndarray) -> Evidence:
        """What each kind of path would cite for the pairs (``users[p]``, ``items[p]``)."""
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        n = users.size
        owner, bought = expand(self.positive, users)
        source, count = _best(owner, bought, lookup(self.together, bought, items[owner]), n)
        rated = np.zeros(n, dtype=bool)
        has = source >= 0
        rated[has] = lookup(self.rated_only, users[has], source[has]) > 0
        depth = np.full(n, -1, dtype=np.int64)
        for d in reversed(range(self.chain.shape[1])):  # the nearest liked category wins
            category = self.chain[items, d]
            ok = category >= 0
            hit = np.zeros(n, dtype=bool)
            hit[ok] = lookup(self.likes["Category"], users[ok], category[ok]) > 0
            depth[hit] = d
        brand = self.item_brand[items]
        liked_brand = np.zeros(n, dtype=bool)
        ok = brand >= 0
        liked_brand[ok] = lookup(self.likes["Brand"], users[ok], brand[ok]) > 0
        owner, aspect = expand(self.likes["Aspect"], users)
        aspect, _ = _best(owner, aspect, lookup(self.praise, items[owner], aspect), n)
        segment = self.user_segment[users]
        popular = np.zeros(n, dtype=bool)
        ok = segment >= 0
        popular[ok] = lookup(self.popular, segment[ok], items[ok]) > 0
        viewed = lookup(self.looked, users, items).astype(np.int64)
        return Evidence(source, count, rated, viewed, depth, liked_brand, aspect, popular)
