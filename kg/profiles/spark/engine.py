"""The Spark stages of ``kg profiles --engine spark``, as the pipeline calls them.

:class:`SparkStages` is the pipeline's interests stage (:func:`kg.profiles.pipeline.profile_users` calls it as it
would call :func:`~kg.profiles.interests.compute_interests`): it brings the lake's Parquet mirror up to the ledger
(``kg lake sync``), starts a Spark session (:mod:`kg.profiles.spark.session`), computes the decayed interests
(:mod:`kg.profiles.spark.interests`) and, in the same session, the co-purchase counts
(:mod:`kg.profiles.spark.together`), and stops the session, so that the stages after it (segments,
recommendations, write-back) run locally without a driver JVM beside them. The learner takes the counts from it
(:meth:`SparkStages.together`, ``FreshLearner(count_together=...)``) where it would count them itself. It records
what ran where and for how long (:meth:`SparkStages.summary`, in the run's report).

>>> stages = SparkStages(settings, master="local[2]")                                # doctest: +SKIP
>>> learner = FreshLearner(store, settings, count_together=stages.together)          # doctest: +SKIP
>>> profile_users(shop, learner, ..., score_interests=stages)                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy import sparse

from kg.foundation.settings import Settings
from kg.ledger.parquet_mirror import sync_events
from kg.profiles.data import ShopData
from kg.profiles.interests import InterestTable
from kg.profiles.spark.frames import read_events
from kg.profiles.spark.interests import spark_interests
from kg.profiles.spark.session import spark_session
from kg.profiles.spark.together import spark_together

__all__ = ["SPARK_STAGES", "SparkStages"]

logger = logging.getLogger(__name__)

#: the stages of ``kg profiles`` that run on Spark so far
SPARK_STAGES: tuple[str, ...] = ("interests", "co-purchase counts")


@dataclass
class SparkStages:
    """The interests stage and the co-purchase counts on Spark, in one session (see the module docstring).
    ``mirror``: the lake's folder (default ``KG_HOME/lake/<graph>/events``); ``bookmark``: the ledger batch the
    shop was loaded at, to note a mirror that holds newer events (an ingest that ran meanwhile: ``kg update``
    takes those)."""

    settings: Settings
    master: str | None = None
    mirror: Path | None = None
    bookmark: int | None = None
    #: seconds per step of the last call: lake sync, Spark start, interests, co-purchase counts
    seconds: dict[str, float] = field(default_factory=dict)
    #: the master the session ran on, the mirror read, and facts said once
    ran_on: str = ""
    mirror_read: str = ""
    notes: list[str] = field(default_factory=list)
    #: the co-purchase counts of the last call (items x items in the shop's item order)
    counts: sparse.csr_matrix | None = field(default=None, repr=False)

    def __call__(self, shop: ShopData, *, as_of_ms: int | None, half_life_days: float, top: int) -> InterestTable:
        clock = time.perf_counter()
        synced = sync_events(self.settings, self.mirror)
        self.mirror_read = synced.path
        if self.bookmark is not None and synced.to_batch > self.bookmark:
            self.notes.append(
                f"the lake holds ledger batches up to {synced.to_batch:,}, newer than the profiles' load "
                f"({self.bookmark:,}): events ingested meanwhile may count in the interests and co-purchase "
                "counts; kg update takes them"
            )
        clock = self._lap("lake sync", clock)
        with spark_session(self.settings, self.master, app="kg profiles") as spark:
            self.ran_on = spark.sparkContext.master or ""
            clock = self._lap("spark start", clock)
            events = read_events(spark, Path(synced.path))
            table = spark_interests(spark, events, shop, as_of_ms=as_of_ms, half_life_days=half_life_days, top=top)
            clock = self._lap("interests", clock)
            self.counts = spark_together(events, shop.interactions.items)
            self._lap("co-purchase counts", clock)
        return table

    def together(self, positive: sparse.csr_matrix) -> sparse.csr_matrix:
        """The co-purchase counts counted on Spark by the last call, for the learner (``positive``, the shop's
        bought-or-rated matrix, only checks the shape: the counts came from the same events)."""
        if self.counts is None:
            raise RuntimeError("the co-purchase counts are counted with the interests: run the interests stage first")
        if self.counts.shape != (positive.shape[1], positive.shape[1]):
            raise RuntimeError(f"co-purchase counts of shape {self.counts.shape} for {positive.shape[1]} items")
        return self.counts

    def _lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[step] = round(now - since, 3)
        return now

    def summary(self) -> dict[str, Any]:
        """``{master, stages, mirror, seconds}``: what ran on Spark, where, and its steps' seconds."""
        return {
            "master": self.ran_on,
            "stages": list(SPARK_STAGES),
            "mirror": self.mirror_read,
            "seconds": dict(self.seconds),
        }
