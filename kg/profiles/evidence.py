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

from kg.profiles.data import EVENT_TYPES, Catalogue, Interactions

__all__ = ["VIEW_RELS", "Evidence", "PathIndex", "expand", "looked_at", "lookup"]

#: the looked-at edge by its code in :attr:`Evidence.viewed` (0: none); a higher code wins
VIEW_RELS: tuple[str, ...] = ("", "VIEWED", "FAVORITED", "CARTED")
_LOOK_OF = {"VIEWED": "view", "FAVORITED": "favorite", "CARTED": "cart"}


def looked_at(inter: Interactions) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """users x items: the code in :data:`VIEW_RELS` of each pair's looked-at edge (the highest the user has),
    and the time (epoch ms, float64) of the user's latest event of that type on the item.

    >>> inter = Interactions.from_rows([("a", "p", "cart", 5, None), ("a", "p", "view", 9, None),
    ...                                 ("a", "p", "cart", 7, None), ("a", "q", "purchase", 9, None)])
    >>> code, at = looked_at(inter)
    >>> code.toarray().tolist(), at.toarray().tolist()
    ([[3.0, 0.0]], [[7.0, 0.0]])
    """
    codes = np.zeros(len(EVENT_TYPES), dtype=np.int64)
    for code, rel in enumerate(VIEW_RELS[1:], start=1):
        codes[EVENT_TYPES.index(_LOOK_OF[rel])] = code
    code = codes[inter.type]
    keep = code > 0
    user, item, code, at = inter.user[keep], inter.item[keep], code[keep], inter.at[keep]
    key = user.astype(np.int64) * max(1, inter.n_items) + item
    order = np.lexsort((at, code, key))  # per pair: the highest code last, its latest time last
    last = order[np.append(key[order][1:] != key[order][:-1], True)] if order.size else order
    shape = (inter.n_users, inter.n_items)
    rows, cols = user[last], item[last]
    return (
        sparse.csr_matrix((code[last].astype(np.float64), (rows, cols)), shape=shape),
        sparse.csr_matrix((at[last].astype(np.float64), (rows, cols)), shape=shape),
    )


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
    #: time (epoch ms) of the user's latest event of that type on the product (where ``viewed`` > 0)
    viewed_at: np.ndarray
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
    co-purchase counts, kept interests, segments and their popular products.

    Categories, brands and aspects are coded by the users' interests (a product's category no user likes
    can never be a reason); a product's category chain, brand and praised aspects are looked up the first
    time :meth:`evidence` meets the product (``catalogue.require`` fetches them where the catalogue is read
    product by product, as ``kg update`` does), so a batch of pairs costs what its products need."""

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
        purchased = inter.matrix(("purchase",))
        self.rated_only = (inter.matrix(("rating",)) - inter.matrix(("rating",)).multiply(purchased)).tocsr()
        self.rated_only.eliminate_zeros()
        self.looked, self.looked_at = looked_at(inter)
        self.items, self.catalogue, self.product_aspects = inter.items, catalogue, product_aspects
        self.praise_threshold = praise_threshold
        self._interests(inter, interests)
        self._segments(inter, segment_of, popular)
        #: per item: its category chain (leaf first, codes in :attr:`categories`, -1 where no one likes the
        #: category or past the chain's end) and brand code; rows filled by :meth:`_products`
        self.chain = np.full((inter.n_items, 0), -1, dtype=np.int64)
        self.item_brand = np.full(inter.n_items, -1, dtype=np.int64)
        self._coded = np.zeros(inter.n_items, dtype=bool)
        self._praise: tuple[list[int], list[int], list[float]] = ([], [], [])
        self.praise = sparse.csr_matrix((inter.n_items, len(self.aspects)), dtype=np.float64)

    def _interests(self, inter: Interactions, interests: dict[str, set[tuple[str, str]]]) -> None:
        """Users x categories, brands and aspects they are INTERESTED_IN (each coded in sorted order)."""
        names: dict[str, set[str]] = {"Category": set(), "Brand": set(), "Aspect": set()}
        for keys in interests.values():
            for label, key in keys:
                if label in names:
                    names[label].add(key)
        vocab = {label: {key: n for n, key in enumerate(sorted(keys))} for label, keys in names.items()}
        self.categories, self.brands = vocab["Category"], vocab["Brand"]
        self.aspects = sorted(names["Aspect"])
        cells: dict[str, tuple[list[int], list[int]]] = {label: ([], []) for label in vocab}
        for user, keys in interests.items():
            u = inter.user_index.get(user)
            if u is None:
                continue
            for label, key in keys:
                if label in vocab:
                    cells[label][0].append(u)
                    cells[label][1].append(vocab[label][key])
        self.likes = {
            label: _binary(*cells[label], (inter.n_users, max(1, len(codes)))) for label, codes in vocab.items()
        }

    def _products(self, items: np.ndarray) -> None:
        """Code the category chain, brand and praised aspects of the ``items`` not coded yet."""
        new = np.unique(items[~self._coded[items]])
        if new.size == 0:
            return
        names = [self.items[int(i)] for i in new]
        self.catalogue.require(names)
        cat, aspect_code = self.catalogue, {a: n for n, a in enumerate(self.aspects)}
        rows, cols, vals = self._praise
        praised = len(vals)
        for i, p in zip(new.tolist(), names, strict=True):
            chain = cat.ancestors(leaf) if (leaf := cat.category_of.get(p)) else []
            if len(chain) > self.chain.shape[1]:
                wider = np.full((self.chain.shape[0], len(chain)), -1, dtype=np.int64)
                wider[:, : self.chain.shape[1]] = self.chain
                self.chain = wider
            self.chain[i, : len(chain)] = [self.categories.get(c, -1) for c in chain]
            self.item_brand[i] = self.brands.get(cat.brand_of.get(p, ""), -1)
            for a, (_, praise) in self.product_aspects.get(p, {}).items():
                if praise > self.praise_threshold and a in aspect_code:
                    rows.append(i)
                    cols.append(aspect_code[a])
                    vals.append(float(praise))
        self._coded[new] = True
        if len(vals) > praised:
            self.praise = sparse.csr_matrix((vals, (rows, cols)), shape=self.praise.shape, dtype=np.float64)

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
        self._products(items)
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
        viewed_at = lookup(self.looked_at, users, items).astype(np.int64)
        return Evidence(source, count, rated, viewed, viewed_at, depth, liked_brand, aspect, popular)
