"""One pipeline for ``kg profiles`` and ``kg update``: interest scores, segments and recommendations with
reasons for the users of a shop.

:func:`profile_users` runs the stages in order for every user of the shop it is given; a :class:`Learner`
says where the segments and the model come from: learned from this shop (:class:`kg.profiles.fresh.FreshLearner`,
``kg profiles``, every user) or the frozen state of the last run (:class:`kg.profiles.frozen.FrozenLearner`,
``kg update``, only the users with new events).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy import sparse

from kg.foundation.progress import Progress, step_reporter
from kg.profiles.data import ShopData
from kg.profiles.interests import InterestTable, compute_interests
from kg.profiles.reasons import Explainer
from kg.profiles.recommenders.blend import KGRecommender
from kg.profiles.steps import RecommendationRow, Together, recommend_with_reasons, stored_score

__all__ = ["InterestScorer", "Learner", "ProfileResult", "Segments", "Stages", "interest_keys", "profile_users"]

logger = logging.getLogger(__name__)

_say = step_reporter(logger)

#: one interest as written to the graph: user, label, key, score
InterestRow = dict[str, str | float]


@dataclass
class Stages:
    """Seconds per stage of a run (from the previous lap) and a line per stage begun, logged and passed to
    ``progress`` unless ``announce`` is off."""

    progress: Progress | None = None
    announce: bool = True
    seconds: dict[str, float] = field(default_factory=dict)
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    def say(self, message: str) -> None:
        if self.announce:
            _say(self.progress, message)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._clock, 3)
        self._clock = now


@dataclass
class Segments:
    """Each user's segment (``assignment``: by user index, ids from 0) and, by segment id from 1 as in the
    graph, each segment's label and popular products."""

    assignment: np.ndarray
    label: dict[int, str]
    popular: dict[int, set[str]]

    def segment_of(self, users: Sequence[str]) -> dict[str, int]:
        """User id -> segment id (from 1); ``users`` in the order of ``assignment``."""
        return {u: int(self.assignment[i]) + 1 for i, u in enumerate(users)}


class Learner(Protocol):
    """Where a pipeline's vectors, segments, model and co-purchase counts come from."""

    def vectors(self) -> dict[str, np.ndarray]:
        """Learned user vectors (user id -> vector) that segment features include; may be empty."""
        ...

    def segments(self, shop: ShopData, interests: InterestTable, vectors: dict[str, np.ndarray]) -> Segments: ...

    def model(self, shop: ShopData, segments: Segments) -> KGRecommender:
        """The recommender scoring the users of ``shop`` by their index there."""
        ...

    def together(self, positive: sparse.csr_matrix) -> sparse.csr_matrix:
        """Item x item co-purchase counts that reasons cite (``positive``: the shop's bought or rated items)."""
        ...


class InterestScorer(Protocol):
    """The interests stage: :func:`~kg.profiles.interests.compute_interests` (the local engine) or one with its
    signature and results (``kg profiles --engine spark``: :class:`kg.profiles.spark.SparkStages`)."""

    def __call__(self, shop: ShopData, *, as_of_ms: int | None, half_life_days: float, top: int) -> InterestTable: ...


def interest_keys(interests: InterestTable) -> dict[str, set[tuple[str, str]]]:
    """User -> the ``(label, key)`` pairs of their kept interests, as written to INTERESTED_IN."""
    keys: dict[str, set[tuple[str, str]]] = {}
    for user, label, key, _score in interests.rows:
        keys.setdefault(user, set()).add((label, key))
    return keys


@dataclass
class ProfileResult:
    """What the pipeline computed for the users of ``shop``; nothing is written yet."""

    shop: ShopData
    interests: InterestTable
    segments: Segments
    model: KGRecommender
    explainer: Explainer
    recommendations: list[RecommendationRow]
    #: recommendations counted by the kind of path stored
    reasons: dict[str, int]
    #: the co-purchase pairs the reasons cite
    together: set[Together]

    @property
    def users(self) -> list[str]:
        return self.shop.interactions.users

    @property
    def interest_rows(self) -> list[InterestRow]:
        """The interests as written to the graph (scores to 6 significant digits)."""
        return [
            {"user": u, "label": label, "key": key, "score": stored_score(score)}
            for u, label, key, score in self.interests.rows
        ]

    def interest_rows_of(self, users: Sequence[str]) -> list[InterestRow]:
        """The :attr:`interest_rows` of ``users``, made when asked (a shop's rows need not all be held)."""
        return [
            {"user": user, "label": label, "key": key, "score": stored_score(score)}
            for user in users
            for (label, key), score in self.interests.by_user(user).items()
        ]

    def segment_of(self) -> dict[str, int]:
        """User id -> segment id (from 1)."""
        return self.segments.segment_of(self.users)


def profile_users(
    shop: ShopData,
    learner: Learner,
    *,
    as_of_ms: int | None,
    half_life_days: float,
    top: int,
    k: int,
    stages: Stages | None = None,
    score_interests: InterestScorer = compute_interests,
) -> ProfileResult:
    """Interest scores (the ``top`` per user, decayed with ``half_life_days`` up to ``as_of_ms``), a segment
    and ``k`` recommendations with reasons for every user of ``shop``. ``stages`` times the stages
    ``interests``, ``embeddings``, ``segments`` and ``recommend``; ``score_interests`` computes the interests
    (the local engine unless given). It runs first, before the learner is asked for anything, so a learner may
    take what it computed (``--engine spark``: the co-purchase counts, counted in the same session)."""
    stages = stages or Stages(announce=False)
    inter = shop.interactions
    stages.say(f"interest scores of {inter.n_users:,} users")
    interests = score_interests(shop, as_of_ms=as_of_ms, half_life_days=half_life_days, top=top)
    stages.lap("interests")

    vectors = learner.vectors()
    stages.lap("embeddings")

    stages.say("segments")
    segments = learner.segments(shop, interests, vectors)
    stages.lap("segments")

    stages.say("recommendations")
    model = learner.model(shop, segments)
    positive = inter.matrix()
    explainer = Explainer(
        shop=shop,
        positive=positive,
        together=learner.together(positive),
        interests=interest_keys(interests),
        segment_of=segments.segment_of(inter.users),
        popular=segments.popular,
        segment_label=segments.label,
    )
    rows, reasons, together = recommend_with_reasons(model, explainer, inter, k)
    stages.lap("recommend")
    return ProfileResult(
        shop=shop,
        interests=interests,
        segments=segments,
        model=model,
        explainer=explainer,
        recommendations=rows,
        reasons=reasons,
        together=together,
    )
