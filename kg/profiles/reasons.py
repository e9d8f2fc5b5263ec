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
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from kg.profiles.cypher import PATH_STEP
from kg.profiles.data import EVENT_TYPES, ShopData
from kg.profiles.evidence import VIEW_RELS, Evidence, PathIndex

if TYPE_CHECKING:
    from kg.store import GraphStore

__all__ = [
    "Reason",
    "Choices",
    "day",
    "Explainer",
    "KINDS",
    "out",
    "back",
    "COLLABORATIVE",
    "together_counts",
    "top_partners",
    "path_exists",
]

#: signals that say "people who bought what you bought also bought this"
COLLABORATIVE = ("copurchase", "itemknn", "ease", "mf", "gnn", "kge")
_BEHAVIOUR_REL = {
    "purchase": "PURCHASED",
    "rating": "RATED",
    "cart": "CARTED",
    "view": "VIEWED",
    "favorite": "FAVORITED",
}


def day(at_ms: int) -> str:
    """The day of an event time (epoch ms, UTC) as reasons write it.

    >>> day(1_718_323_200_000)
    '14 Jun 2024'
    """
    d = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
class Choices:
    """The reason path chosen for each pair (``users[p]``, ``items[p]``) by :meth:`Explainer.choose`."""

    users: np.ndarray
    items: np.ndarray
    #: index in :data:`KINDS` of the path kind, -1 where the pair has no path
    kind: np.ndarray
    #: the collaborative signal a co-purchase path stands for (index in ``names``; -1: ``"copurchase"``)
    signal: np.ndarray
    names: Sequence[str]
    evidence: Evidence

    @property
    def explained(self) -> np.ndarray:
        return self.kind >= 0


@dataclass
class Explainer:
    """Finds a reason (a real graph path) for (user, product) pairs.

    ``interests``: user -> {(label, key)} as written to INTERESTED_IN; ``segment_of``: user -> segment id;
    ``popular``: segment id -> product ids written as POPULAR_IN; ``segment_label``: segment id -> label.
    The per-pair methods (:meth:`explain` and the kinds it tries) define the reasons; :meth:`choose` and
    :meth:`reason` find the same ones for many pairs at once.
    """

    shop: ShopData
    positive: sparse.csr_matrix
    together: sparse.csr_matrix
    interests: dict[str, set[tuple[str, str]]]
    segment_of: dict[str, int] = field(default_factory=dict)
    popular: dict[int, set[str]] = field(default_factory=dict)
    segment_label: dict[int, str] = field(default_factory=dict)
    praise_threshold: float = 0.05

    @cached_property
    def _edges(self) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]:
        """(user, item) -> the bought edge (PURCHASED wins over RATED) and the looked-at edge (CARTED wins
        over FAVORITED over VIEWED)."""
        inter = self.shop.interactions
        bought: dict[tuple[int, int], str] = {}
        looked: dict[tuple[int, int], str] = {}
        for kinds, edges in ((("rating", "purchase"), bought), (("view", "favorite", "cart"), looked)):
            for kind in kinds:
                mask = inter.type == EVENT_TYPES.index(kind)
                for u, i in zip(inter.user[mask].tolist(), inter.item[mask].tolist(), strict=True):
                    edges[(u, i)] = _BEHAVIOUR_REL[kind]
        return bought, looked

    @cached_property
    def _looked_at(self) -> dict[tuple[int, int, str], int]:
        """(user, item, looked-at edge) -> the time (epoch ms) of the user's latest such event on the item."""
        inter = self.shop.interactions
        latest: dict[tuple[int, int, str], int] = {}
        for kind in ("view", "favorite", "cart"):
            mask = inter.type == EVENT_TYPES.index(kind)
            rel = _BEHAVIOUR_REL[kind]
            for u, i, at in zip(
                inter.user[mask].tolist(), inter.item[mask].tolist(), inter.at[mask].tolist(), strict=True
            ):
                latest[(u, i, rel)] = max(at, latest.get((u, i, rel), at))
        return latest

    @cached_property
    def index(self) -> PathIndex:
        """The graph as sparse matrices, for :meth:`choose`."""
        return PathIndex(
            self.shop.interactions,
            self.shop.catalogue,
            self.shop.aspects.product_aspects,
            positive=self.positive,
            together=self.together,
            interests=self.interests,
            segment_of=self.segment_of,
            popular=self.popular,
            praise_threshold=self.praise_threshold,
        )

    def _title(self, product: str) -> str:
        title = self.shop.catalogue.title_of.get(product)
        return f"'{title}'" if title else product

    def _names(self, u: int, i: int) -> tuple[str, str]:
        """The user's and the product's ids."""
        return self.shop.interactions.users[u], self.shop.interactions.items[i]

    # -- the reasons, one per kind of path --------------------------------------------------------------
    def _copurchase(self, signal: str, u: int, best: int, i: int, count: int, rel: str) -> Reason:
        inter = self.shop.interactions
        user, source, target = inter.users[u], inter.items[best], inter.items[i]
        text = f"bought {self._title(source)}; {count} shopper{'s' if count != 1 else ''} bought both"
        return Reason(
            signal,
            text,
            [f"User:{user}", f"Product:{source}", f"Product:{target}"],
            [out(rel), out("BOUGHT_TOGETHER")],
            together=(source, target, count),
        )

    def _category(self, signal: str, u: int, i: int, depth: int) -> Reason:
        user, product = self._names(u, i)
        chain = self.shop.catalogue.ancestors(self.shop.catalogue.category_of[product])  # leaf first
        down = list(reversed(chain[: depth + 1]))  # from the liked category down to the leaf
        return Reason(
            signal,
            f"interested in {chain[depth]}",
            [f"User:{user}", *(f"Category:{c}" for c in down), f"Product:{product}"],
            [out("INTERESTED_IN"), *([back("SUBCATEGORY_OF")] * depth), back("IN_CATEGORY")],
        )

    def _brand(self, signal: str, u: int, i: int) -> Reason:
        user, product = self._names(u, i)
        brand = self.shop.catalogue.brand_of[product]
        return _via(signal, f"likes brand {brand}", user, f"Brand:{brand}", product, ("INTERESTED_IN", "HAS_BRAND"))

    def _aspect(self, signal: str, u: int, i: int, name: str) -> Reason:
        user, product = self._names(u, i)
        text = f"cares about '{name}', which reviewers praise here"
        return _via(signal, text, user, f"Aspect:{name}", product, ("INTERESTED_IN", "HAS_ASPECT"))

    def _viewed(self, signal: str, u: int, i: int, rel: str, at: int) -> Reason:
        user, product = self._names(u, i)
        verb = {"CARTED": "put it in the cart", "FAVORITED": "saved it as a favourite"}.get(rel, "viewed it")
        return Reason(signal, f"you {verb} on {day(at)}", [f"User:{user}", f"Product:{product}"], [out(rel)])

    def _segment(self, signal: str, u: int, i: int, segment: int) -> Reason:
        user, product = self._names(u, i)
        label = self.segment_label.get(segment)  # sizes are never part of a label; "no clear interest" adds nothing
        name = (
            f"segment {segment}"
            if not label or label.startswith("no clear interest")
            else f"segment {segment}: {label}"
        )
        text = f"popular with shoppers like you ({name})"
        return _via(signal, text, user, f"Segment:{segment}", product, ("IN_SEGMENT", "POPULAR_IN"))

    # -- one pair at a time: the definition -------------------------------------------------------------
    def collaborative(
        self, u: int, i: int, signal: str, column: np.ndarray | None = None, bought: np.ndarray | None = None
    ) -> Reason | None:
        """``column``: co-purchase counts of the user's ``bought`` items with ``i`` (computed when absent)."""
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
        return self._copurchase(signal, u, best, i, count, self._edges[0].get((u, best), "PURCHASED"))

    def brand(self, u: int, i: int, signal: str = "brand") -> Reason | None:
        user, product = self._names(u, i)
        brand = self.shop.catalogue.brand_of.get(product)
        if brand is None or ("Brand", brand) not in self.interests.get(user, ()):
            return None
        return self._brand(signal, u, i)

    def category(self, u: int, i: int, signal: str = "category") -> Reason | None:
        user, product = self._names(u, i)
        leaf = self.shop.catalogue.category_of.get(product)
        if leaf is None:
            return None
        liked = self.interests.get(user, set())
        for depth, category in enumerate(self.shop.catalogue.ancestors(leaf)):  # leaf first
            if ("Category", category) in liked:
                return self._category(signal, u, i, depth)
        return None

    def aspect(self, u: int, i: int, signal: str = "aspect") -> Reason | None:
        user, product = self._names(u, i)
        aspects = self.shop.aspects.product_aspects.get(product, {})
        liked = [key for label, key in self.interests.get(user, ()) if label == "Aspect"]
        praised = sorted(
            (a for a in liked if aspects.get(a, (0, 0.0))[1] > self.praise_threshold), key=lambda a: (-aspects[a][1], a)
        )
        return self._aspect(signal, u, i, praised[0]) if praised else None

    def viewed(self, u: int, i: int, signal: str = "viewed") -> Reason | None:
        """The user looked at (or carted) the product, and when they last did (recommended products are
        never bought ones)."""
        rel = self._edges[1].get((u, i))
        return None if rel is None else self._viewed(signal, u, i, rel, self._looked_at[(u, i, rel)])

    def segment(self, u: int, i: int, signal: str = "segment") -> Reason | None:
        user, product = self._names(u, i)
        segment = self.segment_of.get(user)
        if segment is None or product not in self.popular.get(segment, ()):
            return None
        return self._segment(signal, u, i, segment)

    def explain(
        self,
        u: int,
        i: int,
        order: Sequence[str],
        *,
        column: np.ndarray | None = None,
        bought: np.ndarray | None = None,
    ) -> Reason | None:
        """The first signal in ``order`` (strongest first) that has a path; then any other that has one. A path
        through the shopper's own history (bought, viewed, interests) comes before the segment's popularity,
        which explains only what nothing personal leads to."""
        tried: set[str] = set()
        for signal in [*(s for s in order if s != "segment"), *KINDS]:
            kind = "copurchase" if signal in COLLABORATIVE else signal
            if kind in tried:
                continue
            tried.add(kind)
            if kind == "copurchase":
                reason = self.collaborative(u, i, signal, column, bought)
            elif kind in KINDS:
                reason = getattr(self, kind)(u, i, signal)
            else:  # popularity and unknown signals: explained by another path or not at all
                continue
            if reason is not None:
                return reason
        return None

    # -- many pairs at once -----------------------------------------------------------------------------
    def choose(self, users: np.ndarray, items: np.ndarray, strength: np.ndarray, names: Sequence[str]) -> Choices:
        """The path :meth:`explain` takes for each pair (``users[p]``, ``items[p]``), found for all pairs at
        once; ``strength`` (pairs x ``names``) holds each signal's share of the pair's score, so a pair's
        ``order`` is its signals with a positive share, strongest first (ties: first in ``names``)."""
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        strength = np.asarray(strength, dtype=np.float64).reshape(users.size, len(names))
        evidence = self.index.evidence(users, items)
        position = _positions(strength)
        rank = np.where(evidence.found(KINDS), _kind_ranks(position, names), _NEVER)
        chosen = np.where(rank.min(axis=1) < _NEVER, rank.argmin(axis=1), -1)
        collaborative = [s for s, name in enumerate(names) if name in COLLABORATIVE]
        signal = np.full(users.size, -1, dtype=np.int64)
        if collaborative:
            lead = position[:, collaborative]
            picked = np.asarray(collaborative)[lead.argmin(axis=1)]
            signal = np.where(lead.min(axis=1) < _NEVER, picked, -1)
        return Choices(users, items, chosen, signal, list(names), evidence)

    def reason(self, choices: Choices, p: int) -> Reason | None:
        """The reason :meth:`choose` found for pair ``p`` (None where it found none)."""
        kind = int(choices.kind[p])
        if kind < 0:
            return None
        u, i, ev = int(choices.users[p]), int(choices.items[p]), choices.evidence
        name = KINDS[kind]
        if name == "copurchase":
            signal = choices.names[s] if (s := int(choices.signal[p])) >= 0 else name
            rel = "RATED" if ev.rated[p] else "PURCHASED"
            return self._copurchase(signal, u, int(ev.source[p]), i, int(ev.count[p]), rel)
        if name == "viewed":
            return self._viewed(name, u, i, VIEW_RELS[int(ev.viewed[p])], int(ev.viewed_at[p]))
        if name == "category":
            return self._category(name, u, i, int(ev.depth[p]))
        if name == "brand":
            return self._brand(name, u, i)
        if name == "aspect":
            return self._aspect(name, u, i, self.index.aspects[int(ev.aspect[p])])
        segment = self.index.segment_ids[int(self.index.user_segment[u])]
        return self._segment(name, u, i, segment)


#: the kinds of path a reason can walk, in the order tried after the pair's own signals
KINDS = ("copurchase", "viewed", "category", "brand", "aspect", "segment")
_NEVER = np.iinfo(np.int64).max


def _positions(strength: np.ndarray) -> np.ndarray:
    """pairs x signals: each signal's place in its pair's order (strongest first, ties: first column);
    :data:`_NEVER` for signals without a positive share."""
    order = np.argsort(-strength, axis=1, kind="stable")
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.broadcast_to(np.arange(strength.shape[1]), order.shape), axis=1)
    return np.where(strength > 0, position, _NEVER)


def _kind_ranks(position: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """pairs x :data:`KINDS`: when :meth:`Explainer.explain` tries each kind of path, given the places of
    the signals ``names`` (``position``); kinds no signal leads to come after all signals, in their order,
    and the segment's popularity (the last of :data:`KINDS`) after every personal kind."""
    rank = np.tile(len(names) + np.arange(len(KINDS)), (position.shape[0], 1))
    for s, name in enumerate(names):
        kind = "copurchase" if name in COLLABORATIVE else name
        if kind in KINDS and kind != "segment":
            k = KINDS.index(kind)
            rank[:, k] = np.minimum(rank[:, k], position[:, s])
    return rank


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
