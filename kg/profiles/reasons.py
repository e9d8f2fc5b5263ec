"""Reasons for recommendations that are real paths in the graph.

Each reason is a short text plus the nodes it walks (``"Label:key"``, first the user, last the product)
and the edges between them written like Cypher (``-[:INTERESTED_IN]->``, ``<-[:HAS_BRAND]-``), so an
analyst can read it and a test can match it. The explainer only proposes paths whose every edge exists
in the graph once ``kg profiles`` has written its results: behaviour edges, catalogue edges, and the
derived ``INTERESTED_IN``, ``IN_SEGMENT``, ``POPULAR_IN`` and ``BOUGHT_TOGETHER`` edges of the same run.

>>> out("PURCHASED"), back("HAS_BRAND")
('-[:PURCHASED]->', '<-[:HAS_BRAND]-')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from kg.profiles.cypher import PATH_STEP
from kg.profiles.data import EVENT_TYPES, ShopData

if TYPE_CHECKING:
    from kg.store import GraphStore

__all__ = ["Reason", "Explainer", "out", "back", "COLLABORATIVE", "together_counts", "top_partners", "path_exists"]

#: signals that say "people who bought what you bought also bought this"
COLLABORATIVE = ("copurchase", "itemknn", "ease", "mf", "gnn", "kge")
_BEHAVIOUR_REL = {
    "purchase": "PURCHASED",
    "rating": "RATED",
    "cart": "CARTED",
    "view": "VIEWED",
    "favorite": "FAVORITED",
}


def out(rel: str) -> str:
    """An edge walked along its direction."""
    return f"-[:{rel}]->"


def back(rel: str) -> str:
    """An edge walked against its direction."""
    return f"<-[:{rel}]-"


@dataclass(frozen=True)
class Reason:
    """Why a product is recommended: text, the signal it comes from, and its path in the graph."""

    signal: str
    text: str
    path: list[str]
    path_types: list[str]
    #: (source product, target product, count) when the path uses a BOUGHT_TOGETHER edge
    together: tuple[str, str, int] | None = None


def _via(signal: str, text: str, user: str, node: str, product: str, rels: tuple[str, str]) -> Reason:
    """A two-edge reason: the user ``-[rels[0]]->`` ``node`` ``<-[rels[1]]-`` the product."""
    return Reason(signal, text, [f"User:{user}", node, f"Product:{product}"], [out(rels[0]), back(rels[1])])


def together_counts(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """items x items: distinct users who bought/rated both (diagonal removed)."""
    binary = matrix.copy().tocsr()
    binary.data[:] = 1.0
    counts = (binary.T @ binary).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts


def top_partners(counts: sparse.csr_matrix, items: Sequence[str], per_item: int = 20) -> list[dict[str, object]]:
    """Each item's ``per_item`` strongest co-purchase partners as rows ``{source, target, count}``."""
    rows: list[dict[str, object]] = []
    for i in range(counts.shape[0]):
        start, end = counts.indptr[i], counts.indptr[i + 1]
        if start == end:
            continue
        cols, vals = counts.indices[start:end], counts.data[start:end]
        order = np.lexsort((cols, -vals))[:per_item]
        rows += [{"source": items[i], "target": items[int(cols[j])], "count": int(vals[j])} for j in order]
    return rows


@dataclass
class Explainer:
    """Finds a reason (a real graph path) for (user, product) pairs.

    ``interests``: user -> {(label, key)} as written to INTERESTED_IN; ``segment_of``: user -> segment id;
    ``popular``: segment id -> product ids written as POPULAR_IN; ``segment_label``: segment id -> label.
    """

    shop: ShopData
    positive: sparse.csr_matrix
    together: sparse.csr_matrix
    interests: dict[str, set[tuple[str, str]]]
    segment_of: dict[str, int] = field(default_factory=dict)
    popular: dict[int, set[str]] = field(default_factory=dict)
    segment_label: dict[int, str] = field(default_factory=dict)
    praise_threshold: float = 0.05
    _rel_of: dict[tuple[int, int], str] = field(default_factory=dict, init=False, repr=False)
    _looked: dict[tuple[int, int], str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        inter = self.shop.interactions
        # the behaviour edge each (user, item) has: PURCHASED wins over RATED (both are positive)
        for kind in ("rating", "purchase"):
            mask = inter.type == EVENT_TYPES.index(kind)
            for u, i in zip(inter.user[mask].tolist(), inter.item[mask].tolist(), strict=True):
                self._rel_of[(u, i)] = _BEHAVIOUR_REL[kind]
        for kind in ("view", "favorite", "cart"):  # CARTED wins over FAVORITED over VIEWED
            mask = inter.type == EVENT_TYPES.index(kind)
            for u, i in zip(inter.user[mask].tolist(), inter.item[mask].tolist(), strict=True):
                self._looked[(u, i)] = _BEHAVIOUR_REL[kind]

    def _title(self, product: str) -> str:
        title = self.shop.catalogue.title_of.get(product)
        return f"'{title}'" if title else product

    def _names(self, u: int, i: int) -> tuple[str, str]:
        """The user's and the product's ids."""
        return self.shop.interactions.users[u], self.shop.interactions.items[i]

    def collaborative(
        self, u: int, i: int, signal: str, column: np.ndarray | None = None, bought: np.ndarray | None = None
    ) -> Reason | None:
        """``column``: co-purchase counts of the user's ``bought`` items with ``i`` (computed when absent)."""
        inter = self.shop.interactions
        if bought is None:
            bought = self.positive.indices[self.positive.indptr[u] : self.positive.indptr[u + 1]]
        if bought.size == 0:
            return None
        if column is None:
            column = self.together[bought, :][:, [i]].toarray().ravel()
        if column.max(initial=0) <= 0:
            return None
        pick = int(np.lexsort((bought, -column))[0])
        best, count = int(bought[pick]), int(column[pick])
        user, source, target = inter.users[u], inter.items[best], inter.items[i]
        rel = self._rel_of.get((u, best), "PURCHASED")
        text = f"bought {self._title(source)}; {count} shopper{'s' if count != 1 else ''} bought both"
        return Reason(
            signal,
            text,
            [f"User:{user}", f"Product:{source}", f"Product:{target}"],
            [out(rel), out("BOUGHT_TOGETHER")],
            together=(source, target, count),
        )

    def brand(self, u: int, i: int, signal: str = "brand") -> Reason | None:
        user, product = self._names(u, i)
        brand = self.shop.catalogue.brand_of.get(product)
        if brand is None or ("Brand", brand) not in self.interests.get(user, ()):
            return None
        return _via(signal, f"likes brand {brand}", user, f"Brand:{brand}", product, ("INTERESTED_IN", "HAS_BRAND"))

    def category(self, u: int, i: int, signal: str = "category") -> Reason | None:
        user, product = self._names(u, i)
        leaf = self.shop.catalogue.category_of.get(product)
        if leaf is None:
            return None
        chain = self.shop.catalogue.ancestors(leaf)  # leaf first
        liked = self.interests.get(user, set())
        for depth, category in enumerate(chain):
            if ("Category", category) in liked:
                down = list(reversed(chain[: depth + 1]))  # from the liked category down to the leaf
                return Reason(
                    signal,
                    f"interested in {category}",
                    [f"User:{user}", *(f"Category:{c}" for c in down), f"Product:{product}"],
                    [out("INTERESTED_IN"), *([back("SUBCATEGORY_OF")] * depth), back("IN_CATEGORY")],
                )
        return None

    def aspect(self, u: int, i: int, signal: str = "aspect") -> Reason | None:
        user, product = self._names(u, i)
        aspects = self.shop.aspects.product_aspects.get(product, {})
        liked = [key for label, key in self.interests.get(user, ()) if label == "Aspect"]
        praised = sorted(
            (a for a in liked if aspects.get(a, (0, 0.0))[1] > self.praise_threshold), key=lambda a: (-aspects[a][1], a)
        )
        if not praised:
            return None
        name = praised[0]
        text = f"cares about '{name}', which reviewers praise here"
        return _via(signal, text, user, f"Aspect:{name}", product, ("INTERESTED_IN", "HAS_ASPECT"))

    def viewed(self, u: int, i: int, signal: str = "viewed") -> Reason | None:
        """The user looked at (or carted) the product and has not bought it yet."""
        rel = self._looked.get((u, i))
        if rel is None:
            return None
        user, product = self._names(u, i)
        verb = {"CARTED": "put it in the cart", "FAVORITED": "saved it as a favourite"}.get(rel, "viewed it")
        return Reason(signal, f"{verb} and has not bought it yet", [f"User:{user}", f"Product:{product}"], [out(rel)])

    def segment(self, u: int, i: int, signal: str = "segment") -> Reason | None:
        user, product = self._names(u, i)
        segment = self.segment_of.get(user)
        if segment is None or product not in self.popular.get(segment, ()):
            return None
        label = self.segment_label.get(segment)  # sizes are never part of a label; "no clear interest" adds nothing
        name = (
            f"segment {segment}"
            if not label or label.startswith("no clear interest")
            else f"segment {segment}: {label}"
        )
        text = f"popular with shoppers like you ({name})"
        return _via(signal, text, user, f"Segment:{segment}", product, ("IN_SEGMENT", "POPULAR_IN"))

    def explain(
        self,
        u: int,
        i: int,
        order: Sequence[str],
        *,
        column: np.ndarray | None = None,
        bought: np.ndarray | None = None,
    ) -> Reason | None:
        """The first signal in ``order`` (strongest first) that has a path; then any other that has one."""
        tried: set[str] = set()
        for signal in [*order, *_FALLBACKS]:
            kind = "copurchase" if signal in COLLABORATIVE else signal
            if kind in tried:
                continue
            tried.add(kind)
            if kind == "copurchase":
                reason = self.collaborative(u, i, signal, column, bought)
            elif kind in _FALLBACKS:
                reason = getattr(self, kind)(u, i, signal)
            else:  # popularity and unknown signals: explained by another path or not at all
                continue
            if reason is not None:
                return reason
        return None

    def copurchase_block(self, u: int, items: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The user's bought items and their co-purchase counts with ``items`` (bought x items), looked
        up once for several candidates."""
        bought = self.positive.indices[self.positive.indptr[u] : self.positive.indptr[u + 1]]
        block = (
            self.together[bought, :][:, list(items)].toarray()
            if bought.size and len(items)
            else np.zeros((bought.size, len(items)))
        )
        return bought, block

    def explain_user(self, u: int, items: Sequence[int], orders: Sequence[Sequence[str]]) -> list[Reason | None]:
        """Reasons for several products of one user (the co-purchase lookups done once)."""
        bought, block = self.copurchase_block(u, items)
        return [
            self.explain(u, int(i), order, column=block[:, j], bought=bought)
            for j, (i, order) in enumerate(zip(items, orders, strict=True))
        ]


_FALLBACKS = ("copurchase", "viewed", "category", "brand", "aspect", "segment")


def _node(text: str) -> tuple[str, object]:
    from kg.foundation.schema import key_of

    label, _, key = text.partition(":")
    key_of(label)  # unknown labels raise
    return label, int(key) if label == "Segment" else key


def path_exists(store: GraphStore, path: Sequence[str], path_types: Sequence[str]) -> bool:
    """Whether every step of a stored reason path is an edge in the graph (in the direction written)."""
    from kg.foundation.schema import key_of

    if len(path) != len(path_types) + 1:
        return False
    for (a_label, a), step, (b_label, b) in zip(map(_node, path[:-1]), path_types, map(_node, path[1:]), strict=True):
        forward = step.startswith("-[:") and step.endswith("]->")
        backward = step.startswith("<-[:") and step.endswith("]-")
        if not (forward or backward):
            return False
        rel = step.strip("<->[]:")
        if not forward:
            a_label, a, b_label, b = b_label, b, a_label, a
        rows = store.query(
            PATH_STEP,
            a=a,
            b=b,
            identifiers={
                "a_label": a_label,
                "a_key": key_of(a_label),
                "rel": rel,
                "b_label": b_label,
                "b_key": key_of(b_label),
            },
        )
        if not rows or int(rows[0]["n"]) < 1:
            return False
    return True
