"""What a segment is worth: the lift of its best sellers over the shop's on held-out purchases.

:func:`segment_lift` takes a split (training events and each measured user's held-out items), every
user's segment for counting best sellers, and each measured user's segment. A segment's top ``top`` are
the products most users of the segment bought or rated in training (ties: more buyers in the whole shop,
then item code); the shop's top ``top`` the same over every user. A measured user is a hit for a list when
one of their held-out items is on it; the lift is the segment list's hit rate over the shop list's, per
segment and over all measured users. Lists are not filtered by what a user already bought (the live split
holds out purchases new to the user, so a member's earlier purchases take room in both lists alike).

:func:`measure_segments` is what ``kg profiles`` runs: the ``live`` split, a seeded sample of at most
``sample`` of its users, each put in the segment whose centroid is nearest the features of their events
before the held-out moment (as ``kg update`` would have placed them then).

>>> from kg.profiles.data import Interactions
>>> rows = [("a", "x", "purchase", 1, None), ("b", "x", "purchase", 1, None), ("b", "y", "purchase", 2, None)]
>>> value = segment_lift(Interactions.from_rows(rows), {0: {1}}, np.array([0, 0]), {0: 0}, top=1)
>>> value.hit_rate, value.global_hit_rate, value.lift
(0.0, 0.0, None)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kg.profiles.data import Interactions, ShopData

__all__ = ["LIFT_SAMPLE", "LIFT_TOP", "SegmentValue", "measure_segments", "segment_lift"]

logger = logging.getLogger(__name__)

#: best sellers compared (segment's vs the shop's)
LIFT_TOP = 10
#: held-out users measured at most (a seeded sample beyond it)
LIFT_SAMPLE = 20_000


@dataclass
class SegmentValue:
    """Hit rates of each segment's top ``top`` and of the shop's top ``top`` on held-out purchases."""

    top: int
    split: str
    #: measured users (held-out purchases) and whether they are a sample of the split's users
    users: int
    sampled: bool
    hit_rate: float
    global_hit_rate: float
    #: hit_rate / global_hit_rate, None where the shop's list has no hit
    lift: float | None
    #: segment id (from 1) -> {"users", "hit_rate", "global_hit_rate", "lift"}
    segments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line for a report."""
        if not self.users:
            return f"segment value: no held-out purchase to measure on ({self.split} split)"
        lift = f"{self.lift:.2f}x" if self.lift is not None else "n/a (no hit for the shop's list)"
        sample = " (a sample)" if self.sampled else ""
        return (
            f"segment value: its top {self.top} hit {self.hit_rate:.1%} of {self.users:,} held-out purchases"
            f"{sample} vs {self.global_hit_rate:.1%} for the shop's top {self.top}: lift {lift} ({self.split} split)"
        )


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b > 0 else None


def _top_rows(counts: np.ndarray, overall: np.ndarray, top: int) -> np.ndarray:
    """Indices of the ``top`` largest ``counts`` (ties: larger ``overall``, then lower index), counts > 0."""
    order = np.lexsort((np.arange(counts.size), -overall, -counts))[:top]
    return order[counts[order] > 0]


def segment_lift(
    train: Interactions,
    test: Mapping[int, set[int]],
    members: np.ndarray,
    measured: Mapping[int, int],
    *,
    top: int = LIFT_TOP,
    split: str = "live",
    sampled: bool = False,
) -> SegmentValue:
    """Lift of segment best sellers over the shop's (see the module docstring).

    ``members``: segment (from 0) of every user code of ``train``, for counting best sellers; ``test``:
    user code -> held-out item codes; ``measured``: user code -> the segment (from 0) they are measured in
    (users of ``test`` not in it are left out). Segment ids in the result count from 1, as in the graph.
    """
    positive = train.matrix()
    overall = np.asarray(positive.sum(axis=0)).ravel()
    in_global = np.zeros(train.n_items, dtype=bool)
    in_global[_top_rows(overall, overall, top)] = True
    n_seg = int(members.max()) + 1 if members.size else 0
    in_segment = np.zeros((n_seg, train.n_items), dtype=bool)
    for s in range(n_seg):
        counts = np.asarray(positive[np.flatnonzero(members == s)].sum(axis=0)).ravel()
        in_segment[s, _top_rows(counts, overall, top)] = True
    users = np.zeros(n_seg, dtype=np.int64)
    hits = np.zeros(n_seg, dtype=np.int64)
    global_hits = np.zeros(n_seg, dtype=np.int64)
    for user, items in test.items():
        seg = measured.get(user)
        if seg is None or not items:
            continue
        held = np.fromiter(items, dtype=np.int64)
        users[seg] += 1
        hits[seg] += bool(in_segment[seg, held].any())
        global_hits[seg] += bool(in_global[held].any())
    total = int(users.sum())
    per = {
        s + 1: {
            "users": int(users[s]),
            "hit_rate": round(hits[s] / users[s], 4),
            "global_hit_rate": round(global_hits[s] / users[s], 4),
            "lift": _ratio(float(hits[s]), float(global_hits[s])),
        }
        for s in range(n_seg)
        if users[s]
    }
    rate = float(hits.sum()) / total if total else 0.0
    global_rate = float(global_hits.sum()) / total if total else 0.0
    return SegmentValue(
        top=top,
        split=split,
        users=total,
        sampled=sampled,
        hit_rate=round(rate, 4),
        global_hit_rate=round(global_rate, 4),
        lift=_ratio(rate, global_rate),
        segments=per,
    )


def measure_segments(
    shop: ShopData,
    features: np.ndarray,
    columns: list[str],
    assignment: np.ndarray,
    vectors: Mapping[str, np.ndarray] | None = None,
    *,
    half_life_days: float = 30.0,
    top: int = LIFT_TOP,
    sample: int = LIFT_SAMPLE,
    seed: int = 0,
) -> SegmentValue:
    """``kg profiles``' segment value: the live split of ``shop``, at most ``sample`` of its users (seeded),
    each measured in the segment whose centroid is nearest their features before their held-out moment.
    ``features`` (one row per user of ``shop``, in ``columns`` as :func:`kg.profiles.segments.build_features`
    makes them) and ``assignment`` are the segmentation's; ``vectors`` the learned user vectors it used
    (learned on every event: the one place the held-out purchase can reach a measured user's segment)."""
    from kg.profiles.frozen import features_in_columns, segment_centroids
    from kg.profiles.interests import compute_interests
    from kg.profiles.recommenders.signals import aspects_before
    from kg.profiles.split import live

    split = live(shop.interactions)
    users = np.asarray(sorted(split.test), dtype=np.int64)
    sampled = users.size > sample
    if sampled:
        users = np.sort(np.random.default_rng(seed).choice(users, size=sample, replace=False))
    if not users.size or not assignment.size:
        return segment_lift(split.train, {}, assignment, {}, top=top, sampled=sampled)
    train = split.train
    chosen = np.zeros(train.n_users, dtype=bool)
    chosen[users] = True
    cutoff = {int(u): split.cutoff_at[int(u)] for u in users}
    mine = ShopData(train.subset(chosen[train.user]), shop.catalogue, aspects_before(shop.aspects, train.users, cutoff))
    interests = compute_interests(mine, half_life_days=half_life_days)
    names = [train.users[u] for u in users]
    before = features_in_columns(names, interests, dict(vectors) if vectors else None, columns)
    centroids = segment_centroids(features, assignment)
    # squared distances without an n x k x d array: |x|^2 - 2 x.c + |c|^2 (|x|^2 is the same for every c)
    dist = (centroids**2).sum(axis=1)[None, :] - 2.0 * (before @ centroids.T)
    nearest = dist.argmin(axis=1)
    measured = {int(u): int(s) for u, s in zip(users.tolist(), nearest.tolist(), strict=True)}
    test = {u: split.test[u] for u in measured}
    logger.info("segment value: %d users measured (%s)", len(test), "sample" if sampled else "all")
    return segment_lift(train, test, assignment, measured, top=top, sampled=sampled)
