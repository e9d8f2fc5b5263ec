"""Interest scores: how much each user cares about each category, brand and review aspect.

The arithmetic, per user (all of it vectorised with numpy / scipy.sparse):

* every event has a weight ``w`` by type (:class:`InterestWeights`: view 1 < favorite 2 < cart 3 < purchase 5);
  a rating event is signed: ``w_rating * (stars - 3) / 2``, stars clamped to 1..5 first, so 1 star gives
  ``-w_rating``, 3 stars 0 and 5 stars ``+w_rating`` (a rating on another scale is clamped, not rescaled;
  a rating event without stars counts 0);
* every event is decayed by its age: ``decay(t) = 0.5 ** ((as_of - t) / half_life_ms)`` -- an event one
  half-life old counts half. ``as_of`` is the given time, else the newest event (interactions and timed
  review mentions). Events and mentions *after* ``as_of`` are ignored (a replay "as of" a past date must
  not see the future);
* an event on product ``p`` adds ``v = w * decay`` to ``p``'s brand (times ``brand_share``) and to ``p``'s
  leaf category (times ``category_share``), and ``v * category_decay ** level`` to the category ``level``
  steps above the leaf (parent 0.5, grandparent 0.25 with the default 0.5). Products without a brand or a
  category add nothing there;
* every review mention adds ``aspect * sentiment * decay(review time)`` to the aspect (time None: decay 1);
* scores are summed per (user, label, key); only positive totals are kept, then the ``top`` best per user
  (ties: label, then key, alphabetically; scores equal to 1e-9 relative count as ties).

>>> shop = ShopData(Interactions.from_rows([("u1", "p1", "purchase", DAY_MS, None)]),
...                 Catalogue(brand_of={"p1": "Acme"}, category_of={"p1": "A > B"}, parent_of={"A > B": "A"}))
>>> compute_interests(shop).by_user("u1")
{('Brand', 'Acme'): 5.0, ('Category', 'A > B'): 5.0, ('Category', 'A'): 2.5}
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.profiles.data import EVENT_TYPES, Catalogue, Interactions, ShopData

__all__ = ["DAY_MS", "LABELS", "InterestWeights", "InterestTable", "compute_interests", "decay", "signed_rating"]

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
#: the node labels an interest points at
LABELS: tuple[str, ...] = ("Category", "Brand", "Aspect")


@dataclass(frozen=True)
class InterestWeights:
    """How much each kind of signal counts (see the module docstring for the arithmetic)."""

    view: float = 1.0
    #: a favourite / wishlist: more than a look, less than a cart
    favorite: float = 2.0
    cart: float = 3.0
    purchase: float = 5.0
    #: times the signed rating (stars - 3) / 2 in [-1, 1]
    rating: float = 4.0
    #: times the mention's sentiment in [-1, 1]
    aspect: float = 2.0
    #: factor per level up the category tree
    category_decay: float = 0.5
    brand_share: float = 1.0
    category_share: float = 1.0

    def validate(self) -> InterestWeights:
        for name in ("view", "favorite", "cart", "purchase", "rating", "aspect", "brand_share", "category_share"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"interest weight {name} must be >= 0, got {getattr(self, name)}; "
                    "hint: use 0 to switch a signal off"
                )
        if not 0 <= self.category_decay <= 1:
            raise ConfigError(
                f"category_decay must be in [0, 1], got {self.category_decay}; "
                "hint: 0.5 halves the score per level up the tree"
            )
        return self

    def per_type(self) -> np.ndarray:
        """Weights indexed like :data:`kg.profiles.data.EVENT_TYPES`."""
        return np.asarray([getattr(self, t) for t in EVENT_TYPES], dtype=np.float64)


def signed_rating(stars: np.ndarray) -> np.ndarray:
    """``(clamp(stars, 1, 5) - 3) / 2``: 1 star -> -1, 3 -> 0, 5 -> +1; NaN (no stars) -> 0.

    >>> signed_rating(np.array([1.0, 3.0, 4.0, 5.0, 10.0, np.nan])).tolist()
    [-1.0, 0.0, 0.5, 1.0, 1.0, 0.0]
    """
    s = (np.clip(np.asarray(stars, dtype=np.float64), 1.0, 5.0) - 3.0) / 2.0
    return np.nan_to_num(s, nan=0.0)


@dataclass
class InterestTable:
    """The kept interest scores: parallel arrays sorted by user, then rank (best first).

    ``users`` are every user seen (also those with no kept interest); ``keys`` are ``(label, key)`` pairs
    sorted by label then key; ``user`` / ``key`` index them per row.
    """

    users: list[str]
    keys: list[tuple[str, str]]
    user: np.ndarray  # int32 per row
    key: np.ndarray  # int32 per row
    score: np.ndarray  # float64 per row
    as_of_ms: int
    half_life_days: float = 30.0
    _starts: np.ndarray | None = field(default=None, repr=False)
    _user_index: dict[str, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.score.shape[0])

    def __iter__(self) -> Iterator[tuple[str, str, str, float]]:
        """Rows ``(user, label, key, score)``."""
        for u, k, s in zip(self.user.tolist(), self.key.tolist(), self.score.tolist(), strict=True):
            label, key = self.keys[k]
            yield self.users[u], label, key, s

    @property
    def rows(self) -> list[tuple[str, str, str, float]]:
        """All rows ``(user, label, key, score)``, by user then rank."""
        return list(self)

    def records(self) -> list[dict[str, object]]:
        """Rows as dicts ``{user, label, key, score}`` (what a graph write takes as a parameter list)."""
        return [{"user": u, "label": lb, "key": k, "score": s} for u, lb, k, s in self]

    def by_user(self, user: str) -> dict[tuple[str, str], float]:
        """One user's kept interests ``{(label, key): score}``, best first; empty when none or unknown."""
        u = self._index().get(user)
        if u is None:
            return {}
        starts = self._row_starts()
        lo, hi = int(starts[u]), int(starts[u + 1])
        return {self.keys[k]: s for k, s in zip(self.key[lo:hi].tolist(), self.score[lo:hi].tolist(), strict=True)}

    def users_with_rows(self) -> set[str]:
        """The users that have at least one row."""
        return {self.users[u] for u in np.unique(self.user).tolist()}

    def vectors(self) -> tuple[list[str], list[tuple[str, str]], sparse.csr_matrix]:
        """``(users, keys, users x keys CSR of scores)`` over every user and every key in the table."""
        m = sparse.csr_matrix((self.score, (self.user, self.key)), shape=(len(self.users), len(self.keys)))
        return list(self.users), list(self.keys), m

    def _row_starts(self) -> np.ndarray:
        if self._starts is None:
            self._starts = np.searchsorted(self.user, np.arange(len(self.users) + 1), side="left")
        return self._starts

    def _index(self) -> dict[str, int]:
        if self._user_index is None:
            self._user_index = {u: i for i, u in enumerate(self.users)}
        return self._user_index


def _item_maps(
    items: list[str], catalogue: Catalogue, category_decay: float
) -> tuple[list[str], sparse.csr_matrix, list[str], sparse.csr_matrix]:
    """items x brands (1 where the item's brand) and items x categories (decay ** level up the tree)."""
    brands: dict[str, int] = {}
    b_rows, b_cols = [], []
    categories: dict[str, int] = {}
    c_rows, c_cols, c_vals = [], [], []
    chains: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        brand = catalogue.brand_of.get(item)
        if brand:
            b_rows.append(i)
            b_cols.append(brands.setdefault(brand, len(brands)))
        leaf = catalogue.category_of.get(item)
        if leaf:
            chain = chains.get(leaf)
            if chain is None:
                chain = chains[leaf] = catalogue.ancestors(leaf)
            for level, cat in enumerate(chain):
                c_rows.append(i)
                c_cols.append(categories.setdefault(cat, len(categories)))
                c_vals.append(category_decay**level)
    n = len(items)
    b = sparse.csr_matrix((np.ones(len(b_rows)), (b_rows, b_cols)), shape=(n, len(brands)))
    c = sparse.csr_matrix((np.asarray(c_vals, dtype=np.float64), (c_rows, c_cols)), shape=(n, len(categories)))
    return list(brands), b, list(categories), c


def decay(at: np.ndarray, as_of: int | np.ndarray, half_life_ms: float) -> np.ndarray:
    """``0.5 ** ((as_of - at) / half_life_ms)`` per event (``as_of``: one time, or one per event): an event one
    half-life old counts half. The recommender's ``viewed`` signal decays with it too.

    >>> decay(np.array([0, DAY_MS]), 2 * DAY_MS, DAY_MS).tolist()
    [0.25, 0.5]
    """
    return np.power(0.5, (np.asarray(as_of, dtype=np.float64) - at.astype(np.float64)) / half_life_ms)


def _aspect_matrix(
    shop: ShopData, user_index: dict[str, int], users: list[str], as_of: int, half_life_ms: float, weight: float
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Aspect mentions as COO parts ``(aspects, user code, aspect code, value)``; unseen users are appended."""
    mentions = shop.aspects.user_mentions
    aspects: dict[str, int] = {}
    rows, cols, sent, times = [], [], [], []
    for user, aspect, sentiment, at in mentions:
        if at is not None and at > as_of:
            continue
        u = user_index.get(user)
        if u is None:
            u = user_index[user] = len(users)
            users.append(user)
        rows.append(u)
        cols.append(aspects.setdefault(aspect, len(aspects)))
        sent.append(float(sentiment))
        times.append(as_of if at is None else int(at))
    dropped = len(mentions) - len(rows)
    if dropped:
        log.info("interests: %d review mentions after as_of ignored", dropped)
    values = weight * np.asarray(sent, dtype=np.float64) * decay(np.asarray(times, dtype=np.int64), as_of, half_life_ms)
    return list(aspects), np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), values


def _default_as_of(shop: ShopData) -> int:
    times = [t for _, _, _, t in shop.aspects.user_mentions if t is not None]
    newest = shop.interactions.newest_at()
    candidates = ([newest] if newest is not None else []) + ([max(times)] if times else [])
    return max(candidates) if candidates else 0


def _top_per_user(scores: sparse.csr_matrix, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positive entries, best ``top`` per user; column order is the tie-break (keys are sorted)."""
    coo = scores.tocoo()
    keep = coo.data > 0
    u, k, s = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64), coo.data[keep]
    # ties within float noise: compare scores at ~9 significant digits
    rounded = np.round(s / s.max(), 9) if s.size else s
    order = np.lexsort((k, -rounded, u))
    u, k, s = u[order], k[order], s[order]
    if u.size:
        first = np.r_[0, np.flatnonzero(np.diff(u)) + 1]
        group_start = np.repeat(first, np.diff(np.r_[first, u.size]))
        rank = np.arange(u.size) - group_start
        keep = rank < top
        u, k, s = u[keep], k[keep], s[keep]
    return u.astype(np.int32), k.astype(np.int32), s


def compute_interests(
    shop: ShopData,
    *,
    as_of_ms: int | None = None,
    half_life_days: float = 30.0,
    weights: InterestWeights | None = None,
    top: int = 20,
) -> InterestTable:
    """Score every user's interest in categories, brands and aspects (arithmetic: module docstring)."""
    if half_life_days <= 0:
        raise ConfigError(f"half-life must be > 0 days, got {half_life_days}; hint: the default is 30")
    if top < 1:
        raise ConfigError(f"--top must be >= 1, got {top}; hint: the default keeps 20 per user")
    w = (weights or InterestWeights()).validate()
    inter: Interactions = shop.interactions
    as_of = int(as_of_ms) if as_of_ms is not None else _default_as_of(shop)
    half_life_ms = half_life_days * DAY_MS

    mask = inter.at <= as_of
    if not mask.all():
        log.info("interests: %d events after as_of=%d ignored", int((~mask).sum()), as_of)
    ev_type = inter.type[mask].astype(np.int64)
    value = w.per_type()[ev_type]
    is_rating = ev_type == EVENT_TYPES.index("rating")
    value[is_rating] *= signed_rating(inter.rating[mask][is_rating])
    value *= decay(inter.at[mask], as_of, half_life_ms)

    users = list(inter.users)
    user_index = dict(inter.user_index)
    aspects, a_rows, a_cols, a_vals = _aspect_matrix(shop, user_index, users, as_of, half_life_ms, w.aspect)
    n_users = len(users)

    ui = sparse.csr_matrix((value, (inter.user[mask], inter.item[mask])), shape=(n_users, inter.n_items))
    brands, item_brand, categories, item_cat = _item_maps(inter.items, shop.catalogue, w.category_decay)
    blocks = {
        "Category": (categories, (ui @ item_cat) * w.category_share),
        "Brand": (brands, (ui @ item_brand) * w.brand_share),
        "Aspect": (aspects, sparse.csr_matrix((a_vals, (a_rows, a_cols)), shape=(n_users, len(aspects)))),
    }
    # columns sorted by (label, key) so the column index is the tie-break order
    keys = sorted((label, key) for label, (names, _) in blocks.items() for key in names)
    col_of = {k: i for i, k in enumerate(keys)}
    parts = []
    for label, (names, m) in blocks.items():
        remap = np.asarray([col_of[(label, n)] for n in names], dtype=np.int64)
        m = sparse.csr_matrix(m).tocoo()
        parts.append((m.row, remap[m.col] if remap.size else m.col, m.data))
    rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
    cols = np.concatenate([p[1] for p in parts]).astype(np.int64)
    data = np.concatenate([p[2] for p in parts]).astype(np.float64)
    scores = sparse.csr_matrix((data, (rows, cols)), shape=(n_users, len(keys)))
    scores.sum_duplicates()
    u, k, s = _top_per_user(scores, top)
    log.info(
        "interests: %d users, %d keys, %d rows kept (as_of=%d, half-life %.1f d)",
        n_users,
        len(keys),
        s.size,
        as_of,
        half_life_days,
    )
    return InterestTable(users=users, keys=keys, user=u, key=k, score=s, as_of_ms=as_of, half_life_days=half_life_days)
