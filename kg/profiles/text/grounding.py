"""What a text may be grounded on: each subject's facts read from the graph, and the shop's names.

A subject is a user (their interests with shares, segment, latest behaviour, recommendations and totals),
a segment (its label's interests with how many members hold them, size, best sellers, lift when known) or a
recommendation's reason (the product and the stored reason). :func:`read_users` and :func:`read_segments` read
them in batches (``UNWIND $ids``) as plain records; :func:`user_facts`, :func:`segment_facts` and
:func:`reason_facts` turn a record into the :class:`~kg.profiles.text.facts.Facts` a prompt shows and a
checker holds a sentence to. Facts name people by nothing at all (not even their pseudonym) and hold no
review text: only catalogue names, scores, counts and dates.

>>> product = Product("P1", "Acme Kettle", "Home > Kitchen", "Acme")
>>> facts = reason_facts(Reason(user="u1", rank=1, product=product, reason="likes brand Acme"))
>>> facts.lines
("product: 'Acme Kettle' (category Home > Kitchen, brand Acme)", 'reason: likes brand Acme')
>>> sorted(facts.names("category"))
['Home', 'Home > Kitchen', 'Kitchen']
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kg.profiles.text.cypher import (
    TEXT_NAMES,
    TEXT_PROFILED_USERS,
    TEXT_PROFILES_RUN,
    TEXT_SEGMENT_INTERESTS,
    TEXT_SEGMENT_POPULAR,
    TEXT_SEGMENTS,
    TEXT_SHOP_LANGUAGE,
    TEXT_USER_COUNTS,
    TEXT_USER_INTERESTS,
    TEXT_USER_RECENT,
    TEXT_USER_RECOMMENDED,
    TEXT_USER_SEGMENT,
)
from kg.profiles.text.facts import Facts
from kg.store import GraphStore, batched

__all__ = [
    "Activity",
    "Interest",
    "Product",
    "Reason",
    "SegmentGround",
    "SegmentRef",
    "UserGround",
    "catalogue_names",
    "profiled_users",
    "profiles_run",
    "read_segments",
    "read_users",
    "reason_facts",
    "segment_facts",
    "shop_language",
    "user_facts",
]

logger = logging.getLogger(__name__)

#: what a user's facts list at most: interests, latest behaviour, recommendations
TOP_INTERESTS = 5
RECENT = 3
RECOMMENDED = 3
#: best sellers a segment's facts list
BEST_SELLERS = 3
#: users read per batch of queries
USERS_PER_READ = 500
#: behaviour edges as a person reads them, strongest first (a review is purchased and rated at once)
_ACTIONS = ("PURCHASED", "RATED", "CARTED", "FAVORITED", "VIEWED")
_VERBS = {
    "PURCHASED": "purchased",
    "RATED": "rated",
    "CARTED": "put in the cart",
    "FAVORITED": "saved as a favourite",
    "VIEWED": "viewed",
}
_REASON_DATE = re.compile(r"\b(\d{1,2} [A-Z][a-z]{2} \d{4})\b")
_REASON_SEGMENT = re.compile(r"\(segment \d+(?:: (.+))?\)$")
_REASON_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])")


# -- records ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Product:
    """A product as a text names it: its title, else what it is (category, brand)."""

    id: str
    title: str | None
    category: str | None  # the leaf category's path
    brand: str | None

    @property
    def name(self) -> str:
        """``'Acme Kettle'``, or ``a product in Home > Kitchen by Acme`` when it has no title."""
        if self.title:
            return f"'{self.title}'"
        parts = [f"in {self.category}" if self.category else "", f"by {self.brand}" if self.brand else ""]
        return " ".join(["a product", *(p for p in parts if p)])

    def described(self) -> str:
        """Its name with its category and brand: ``'Acme Kettle' (category Home > Kitchen, brand Acme)``."""
        if not self.title:
            return self.name
        parts = [f"category {self.category}" if self.category else "", f"brand {self.brand}" if self.brand else ""]
        extra = ", ".join(p for p in parts if p)
        return f"{self.name} ({extra})" if extra else self.name


@dataclass(frozen=True)
class Interest:
    """One interest: ``kind`` Category, Brand or Aspect; ``key`` a category's path or the name; ``share`` of
    the user's interest mass (0..1), or for a segment the share of its members holding it."""

    kind: str
    key: str
    share: float


@dataclass(frozen=True)
class Activity:
    """The user's latest behaviour on a product: what they did (strongest first) and the day."""

    actions: tuple[str, ...]
    product: Product
    date: str | None

    @property
    def what(self) -> str:
        return " and ".join(_VERBS.get(a, a.lower()) for a in self.actions)


@dataclass(frozen=True)
class SegmentRef:
    """A user's segment as the graph holds it."""

    id: int
    label: str
    size: int
    name: str | None = None


@dataclass(frozen=True)
class Reason:
    """One recommendation with its stored reason (a path in the graph, as text)."""

    user: str
    rank: int
    product: Product
    reason: str
    path: tuple[str, ...] = ()  # the nodes it walks, "Label:key", user first


@dataclass(frozen=True)
class UserGround:
    """What the graph holds about one user, read for a text."""

    user: str
    interests: tuple[Interest, ...] = ()
    segment: SegmentRef | None = None
    recent: tuple[Activity, ...] = ()
    recommendations: tuple[Reason, ...] = ()
    counts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SegmentGround:
    """What the graph holds about one segment, read for its name and description."""

    id: int
    label: str
    size: int
    total: int  # users in all segments
    interests: tuple[Interest, ...] = ()  # share: of the segment's members holding it
    best_sellers: tuple[tuple[Product, float], ...] = ()  # (product, share of members who bought it)
    lift: float | None = None


# -- reading ---------------------------------------------------------------------------------------------
def profiled_users(store: GraphStore) -> list[str]:
    """Every user kg profiles put in a segment (pseudonyms, sorted)."""
    return [row["user"] for row in store.query(TEXT_PROFILED_USERS)]


def profiles_run(store: GraphStore) -> str | None:
    """The profiles run the graph's segments come from (None before ``kg profiles``)."""
    rows = store.query(TEXT_PROFILES_RUN)
    return str(rows[0]["run"]) if rows and rows[0]["run"] is not None else None


def shop_language(store: GraphStore) -> str:
    """The language most of the shop's reviews are written in (``en`` when there are none)."""
    rows = store.query(TEXT_SHOP_LANGUAGE)
    return str(rows[0]["lang"]) if rows else "en"


def catalogue_names(store: GraphStore) -> dict[str, set[str]]:
    """The shop's names per entity kind (product titles, brands, category paths and names, aspects, segment
    labels and names): what a sentence could mention, supported or not."""
    names: dict[str, set[str]] = defaultdict(set)
    for kind, label, prop in (
        ("product", "Product", "title"),
        ("brand", "Brand", "name"),
        ("category", "Category", "path"),
        ("category", "Category", "name"),
        ("aspect", "Aspect", "name"),
        ("segment", "Segment", "label"),
        ("segment", "Segment", "name"),
    ):
        rows = store.query(TEXT_NAMES, identifiers={"label": label, "prop": prop})
        names[kind].update(str(row["name"]) for row in rows)
    return dict(names)


def _product(row: Mapping[str, Any]) -> Product:
    return Product(str(row["product"]), row.get("title") or None, row.get("category"), row.get("brand"))


def _grouped(rows: Iterable[dict[str, Any]], key: str = "user") -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def _interests(rows: Sequence[dict[str, Any]]) -> tuple[Interest, ...]:
    """The strongest interests with each one's share of the user's positive scores."""
    total = sum(max(float(r.get("score") or 0.0), 0.0) for r in rows)
    if total <= 0:
        return ()
    return tuple(
        Interest(str(r["label"]), str(r["key"]), round(max(float(r["score"] or 0.0), 0.0) / total, 4))
        for r in rows[:TOP_INTERESTS]
    )


def _recent(rows: Sequence[dict[str, Any]]) -> tuple[Activity, ...]:
    """One activity per product and moment (a review is purchased and rated at once), newest first."""
    merged: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in rows:
        merged.setdefault((row["product"], row.get("last_at")), []).append(row)
    out = []
    for same in merged.values():
        actions = sorted({r["type"] for r in same}, key=lambda t: _ACTIONS.index(t) if t in _ACTIONS else 9)
        out.append(Activity(tuple(actions), _product(same[0]), same[0].get("last_date")))
    return tuple(out[:RECENT])


def read_users(store: GraphStore, users: Sequence[str], *, batch: int = USERS_PER_READ) -> Iterator[UserGround]:
    """Each of ``users`` (pseudonyms) as the graph holds them, read ``batch`` users per query; users not in
    the graph are skipped."""
    for chunk in batched(users, batch):
        interests = _grouped(store.query(TEXT_USER_INTERESTS, ids=chunk))
        segments = {row["user"]: row for row in store.query(TEXT_USER_SEGMENT, ids=chunk)}
        counts = {row["user"]: row for row in store.query(TEXT_USER_COUNTS, ids=chunk)}
        recent = _grouped(store.query(TEXT_USER_RECENT, ids=chunk, limit=4 * RECENT))
        recommended = _grouped(store.query(TEXT_USER_RECOMMENDED, ids=chunk))
        for user in chunk:
            if user not in counts:
                continue
            seg = segments.get(user)
            yield UserGround(
                user=user,
                interests=_interests(interests.get(user, [])),
                segment=(
                    SegmentRef(int(seg["segment"]), str(seg["label"]), int(seg["size"] or 0), seg.get("name"))
                    if seg
                    else None
                ),
                recent=_recent(recent.get(user, [])),
                recommendations=tuple(
                    Reason(user, int(r["rank"]), _product(r), str(r["reason"] or ""), tuple(r.get("path") or ()))
                    for r in recommended.get(user, [])
                ),
                counts={k: v for k, v in counts[user].items() if k != "user"},
            )


def read_segments(store: GraphStore, *, lifts: Mapping[int, float | None] | None = None) -> list[SegmentGround]:
    """Every segment with its label's interests, size, best sellers, and ``lifts`` (segment id -> lift of
    its best sellers over the shop's, from the profiles report: the graph does not keep it)."""
    interests = _grouped(store.query(TEXT_SEGMENT_INTERESTS), "segment")
    popular = _grouped(store.query(TEXT_SEGMENT_POPULAR, limit=BEST_SELLERS), "segment")
    out = []
    for row in store.query(TEXT_SEGMENTS):
        seg, size = int(row["segment"]), int(row["size"] or 0)
        order = list(row.get("top_interests") or [])
        held = sorted(interests.get(seg, []), key=lambda r: order.index(r["key"]) if r["key"] in order else 99)
        out.append(
            SegmentGround(
                id=seg,
                label=str(row["label"]),
                size=size,
                total=int(row["total"] or 0),
                interests=tuple(
                    Interest(str(r["label"]), str(r["key"]), round(int(r["users"]) / size, 4) if size else 0.0)
                    for r in held
                ),
                best_sellers=tuple((_product(r), float(r["share"] or 0.0)) for r in popular.get(seg, [])),
                lift=(lifts or {}).get(seg),
            )
        )
    return out


# -- facts -----------------------------------------------------------------------------------------------
class _Collect:
    """The names, numbers and dates a subject's fact lines state, gathered as the lines are written."""

    def __init__(self) -> None:
        self.entities: dict[str, set[str]] = defaultdict(set)
        self.numbers: set[float] = set()
        self.dates: set[str] = set()

    def category(self, path: str | None) -> None:
        """A category path, every ancestor's path and each level's own name."""
        if not path:
            return
        levels = [p.strip() for p in path.split(">")]
        for i in range(len(levels)):
            self.entities["category"].add(" > ".join(levels[: i + 1]))
            self.entities["category"].add(levels[i])

    def product(self, product: Product) -> None:
        if product.title:
            self.entities["product"].add(product.title)
        if product.brand:
            self.entities["brand"].add(product.brand)
        self.category(product.category)

    def interest(self, interest: Interest) -> None:
        if interest.kind == "Category":
            self.category(interest.key)
        elif interest.kind in ("Brand", "Aspect"):
            self.entities[interest.kind.lower()].add(interest.key)
        self.numbers.add(interest.share)

    def reason(self, reason: Reason) -> None:
        """What a stored reason names: the nodes of its path (categories, brands, aspects, a segment), the
        titles it quotes (a product bought with this one), its numbers and its day (``14 Jun 2024``)."""
        text = reason.reason
        for node in reason.path[1:-1]:
            label, _, key = node.partition(":")
            if label == "Category":
                self.category(key)
            elif label in ("Brand", "Aspect"):
                self.entities[label.lower()].add(key)
            elif label == "Segment" and key.isdigit():
                self.numbers.add(float(key))
        segment = _REASON_SEGMENT.search(text)
        if segment and segment.group(1):
            self.entities["segment"].add(segment.group(1))
        if any(node.startswith("Product:") for node in reason.path[1:-1]):
            self.entities["product"].update(re.findall(r"'([^']+)'", text))
        for match in _REASON_DATE.finditer(text):
            self.dates.add(datetime.strptime(match.group(1), "%d %b %Y").replace(tzinfo=UTC).date().isoformat())
        rest = _REASON_SEGMENT.sub("", _REASON_DATE.sub("", text))
        self.numbers.update(float(n) for n in _REASON_NUMBER.findall(rest))

    def date(self, day: str | None) -> None:
        if day:
            self.dates.add(str(day)[:10])

    def facts(self, subject: str, key: str, lines: Sequence[str], language: str) -> Facts:
        return Facts(
            subject=subject,  # type: ignore[arg-type]
            key=key,
            lines=tuple(lines),
            entities={k: frozenset(v) for k, v in self.entities.items()},
            numbers=frozenset(self.numbers),
            dates=frozenset(self.dates),
            language=language,
        )


def _interest_text(interest: Interest) -> str:
    return f"{interest.kind.lower()} {interest.key}"


def user_facts(ground: UserGround, *, language: str = "en") -> Facts:
    """The facts of one user: interests with shares, segment, totals, latest behaviour, recommendations."""
    c = _Collect()
    lines = []
    if ground.interests:
        for i in ground.interests:
            c.interest(i)
        lines.append(
            "interests (share of this shopper's interest): "
            + ", ".join(f"{_interest_text(i)} {i.share:.0%}" for i in ground.interests)
        )
    if ground.segment:
        seg = ground.segment
        c.entities["segment"].update(n for n in (seg.label, seg.name) if n)
        c.numbers.update({float(seg.id), float(seg.size)})
        named = f", named '{seg.name}'" if seg.name and seg.name != seg.label else ""
        lines.append(f"segment: '{seg.label}' (segment {seg.id}{named}, {seg.size:,} shoppers)")
    counts = ground.counts
    if counts.get("events"):
        parts = [f"{int(counts['events']):,} events on {int(counts.get('products') or 0):,} products"]
        parts.append(f"{int(counts.get('purchases') or 0):,} purchases")
        parts.append(f"{int(counts.get('reviews') or 0):,} reviews")
        c.numbers.update(float(counts.get(k) or 0) for k in ("events", "products", "purchases", "reviews"))
        span = ""
        if counts.get("first_date") and counts.get("last_date"):
            c.date(counts["first_date"])
            c.date(counts["last_date"])
            span = f", from {counts['first_date']} to {counts['last_date']}"
        lines.append("activity: " + ", ".join(parts) + span)
    for act in ground.recent:
        c.product(act.product)
        c.date(act.date)
        lines.append(f"recent: {act.what} {act.product.described()} on {act.date or 'an unknown day'}")
    for rec in ground.recommendations[:RECOMMENDED]:
        c.product(rec.product)
        c.reason(rec)
        lines.append(f"recommended: {rec.product.described()}, because: {rec.reason}")
    return c.facts("user", ground.user, lines, language)


def segment_facts(ground: SegmentGround, *, language: str = "en") -> Facts:
    """The facts of one segment: label, size and share of profiled users, shared interests, best sellers."""
    c = _Collect()
    c.entities["segment"].add(ground.label)
    share = ground.size / ground.total if ground.total else 0.0
    c.numbers.update({float(ground.id), float(ground.size), float(ground.total), round(share, 4)})
    lines = [
        f"segment: '{ground.label}' (segment {ground.id})",
        f"size: {ground.size:,} shoppers, {share:.0%} of the {ground.total:,} profiled shoppers",
    ]
    if ground.interests:
        for i in ground.interests:
            c.interest(i)
            c.numbers.add(round(i.share * ground.size))
        lines.append(
            "shared interests: "
            + ", ".join(f"{_interest_text(i)} (held by {i.share:.0%} of the segment)" for i in ground.interests)
        )
    if ground.best_sellers:
        for product, bought in ground.best_sellers:
            c.product(product)
            c.numbers.add(round(bought, 4))
        lines.append(
            "most bought: "
            + ", ".join(f"{p.described()} bought by {s:.0%} of the segment" for p, s in ground.best_sellers)
        )
    if ground.lift is not None:
        c.numbers.add(round(ground.lift, 2))
        lines.append(f"lift: its most bought items were bought {ground.lift:.2f} times as often as the shop's")
    return c.facts("segment", str(ground.id), lines, language)


def reason_facts(reason: Reason, *, language: str = "en") -> Facts:
    """The facts of one recommendation: the product (category, brand) and its stored reason."""
    c = _Collect()
    c.product(reason.product)
    c.reason(reason)
    lines = [f"product: {reason.product.described()}", f"reason: {reason.reason}"]
    return c.facts("reason", f"{reason.user}|{reason.product.id}", lines, language)
