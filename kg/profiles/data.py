"""The shop in memory: integer-coded events, the catalogue and review aspects, as the profile and
recommender code reads them.

Everything downstream (interests, segments, recommenders, evaluation) works on a :class:`ShopData`;
:mod:`kg.profiles.load` builds one from the event ledger and the graph, tests build one by hand with
:meth:`Interactions.from_rows`.

>>> shop = Interactions.from_rows([("u1", "p1", "purchase", 1_000, None), ("u1", "p2", "rating", 2_000, 5.0)])
>>> shop.users, shop.items, shop.n_events
(['u1'], ['p1', 'p2'], 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

__all__ = ["EVENT_TYPES", "POSITIVE_TYPES", "Interactions", "Catalogue", "AspectSignals", "ShopData"]

#: ledger event types, in the order of their integer code
EVENT_TYPES: tuple[str, ...] = ("view", "cart", "purchase", "rating", "favorite")  # new types go last
#: the types that make an item "bought" for recommendation and evaluation (distinct items per user)
POSITIVE_TYPES: tuple[str, ...] = ("purchase", "rating")


@dataclass
class Interactions:
    """Events as parallel arrays, users and items coded by their index in ``users`` / ``items``.

    ``type`` indexes :data:`EVENT_TYPES`; ``at`` is epoch ms; ``rating`` is NaN where the event has none.
    """

    users: list[str]
    items: list[str]
    user: np.ndarray  # int32, per event
    item: np.ndarray  # int32, per event
    type: np.ndarray  # int8, per event
    at: np.ndarray  # int64, per event
    rating: np.ndarray  # float32, per event (NaN: none)
    user_index: dict[str, int] = field(default_factory=dict, repr=False)
    item_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.user_index:
            self.user_index = {u: i for i, u in enumerate(self.users)}
        if not self.item_index:
            self.item_index = {p: i for i, p in enumerate(self.items)}

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, str, str, int, float | None]], *, items: Sequence[str] = ()
    ) -> Interactions:
        """Build from ``(user, item, type, at_ms, rating)`` rows (types as in :data:`EVENT_TYPES`).
        ``items`` adds products with no events (they still take part in ranking when asked)."""
        users: dict[str, int] = {}
        item_ids: dict[str, int] = {p: i for i, p in enumerate(dict.fromkeys(items))}
        codes = {t: i for i, t in enumerate(EVENT_TYPES)}
        u_col, i_col, t_col, at_col, r_col = [], [], [], [], []
        for user, item, kind, at, rating in rows:
            u_col.append(users.setdefault(user, len(users)))
            i_col.append(item_ids.setdefault(item, len(item_ids)))
            t_col.append(codes[kind])
            at_col.append(int(at))
            r_col.append(np.nan if rating is None else float(rating))
        return cls(
            users=list(users),
            items=list(item_ids),
            user=np.asarray(u_col, dtype=np.int32),
            item=np.asarray(i_col, dtype=np.int32),
            type=np.asarray(t_col, dtype=np.int8),
            at=np.asarray(at_col, dtype=np.int64),
            rating=np.asarray(r_col, dtype=np.float32),
        )

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_events(self) -> int:
        return int(self.user.shape[0])

    def type_mask(self, types: Sequence[str]) -> np.ndarray:
        """Boolean mask of the events whose type is one of ``types``."""
        codes = [EVENT_TYPES.index(t) for t in types]
        return np.isin(self.type, np.asarray(codes, dtype=np.int8))

    def subset(self, mask: np.ndarray) -> Interactions:
        """The events where ``mask`` is true; user and item codes (and lists) are kept as they are."""
        return Interactions(
            users=self.users,
            items=self.items,
            user=self.user[mask],
            item=self.item[mask],
            type=self.type[mask],
            at=self.at[mask],
            rating=self.rating[mask],
            user_index=self.user_index,
            item_index=self.item_index,
        )

    def matrix(self, types: Sequence[str] = POSITIVE_TYPES, *, binary: bool = True) -> sparse.csr_matrix:
        """users x items matrix of the given event types: 1 per (user, item) when ``binary``, else counts."""
        mask = self.type_mask(types)
        data = np.ones(int(mask.sum()), dtype=np.float32)
        m = sparse.csr_matrix((data, (self.user[mask], self.item[mask])), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def newest_at(self) -> int | None:
        """Time of the newest event (epoch ms), or None when there are none."""
        return int(self.at.max()) if self.n_events else None


@dataclass
class Catalogue:
    """Products' brand, leaf category and links; categories' parents (``path -> parent path``)."""

    brand_of: dict[str, str] = field(default_factory=dict)
    category_of: dict[str, str] = field(default_factory=dict)
    parent_of: dict[str, str] = field(default_factory=dict)
    title_of: dict[str, str] = field(default_factory=dict)
    also_bought: list[tuple[str, str]] = field(default_factory=list)

    def require(self, products: Sequence[str]) -> None:
        """Make sure the rows of ``products`` are here before they are looked up: a catalogue read whole
        has them all; one read product by product (:class:`kg.profiles.load.GraphCatalogue`) fetches them."""

    def ancestors(self, category: str) -> list[str]:
        """``category`` and every category above it, nearest first (cycles are cut).

        >>> Catalogue(parent_of={"A > B": "A"}).ancestors("A > B")
        ['A > B', 'A']
        """
        chain, seen = [], set()
        node: str | None = category
        while node is not None and node not in seen:
            chain.append(node)
            seen.add(node)
            node = self.parent_of.get(node)
        return chain


@dataclass
class AspectSignals:
    """What reviews say: each user's aspect mentions, and each product's aspect aggregates."""

    #: (user, aspect, sentiment in [-1, 1], review time epoch ms or None)
    user_mentions: list[tuple[str, str, float, int | None]] = field(default_factory=list)
    #: product -> aspect -> (mentions, mean sentiment score)
    product_aspects: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict)


@dataclass
class ShopData:
    """Everything the profile code needs about one shop."""

    interactions: Interactions
    catalogue: Catalogue = field(default_factory=Catalogue)
    aspects: AspectSignals = field(default_factory=AspectSignals)
