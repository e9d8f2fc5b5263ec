"""The Spark stages of ``kg profiles --engine spark``, as the pipeline calls them.

:class:`SparkInterests` is the pipeline's interests stage (:func:`kg.profiles.pipeline.profile_users` calls it
as it would call :func:`~kg.profiles.interests.compute_interests`): it brings the lake's Parquet mirror up to the
ledger (``kg lake sync``), starts a Spark session (:mod:`kg.profiles.spark.session`), computes the decayed
interests there (:mod:`kg.profiles.spark.interests`) and stops the session, so that the stages after it (segments,
recommendations, write-back) run locally without a driver JVM beside them. It records what ran where and for how
long (:meth:`SparkInterests.summary`, in the run's report).

>>> scorer = SparkInterests(settings, master="local[2]")                            # doctest: +SKIP
>>> profile_users(shop, learner, ..., score_interests=scorer)                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.foundation.settings import Settings
from kg.ledger.parquet_mirror import sync_events
from kg.profiles.data import ShopData
from kg.profiles.interests import InterestTable
from kg.profiles.spark.frames import read_events
from kg.profiles.spark.interests import spark_interests
from kg.profiles.spark.session import spark_session

__all__ = ["SPARK_STAGES", "SparkInterests"]

logger = logging.getLogger(__name__)

#: the stages of ``kg profiles`` that run on Spark so far
SPARK_STAGES: tuple[str, ...] = ("interests",)


@dataclass
class SparkInterests:
    """The interests stage on Spark (see the module docstring). ``mirror``: the lake's folder (default
    ``KG_HOME/lake/<graph>/events``); ``bookmark``: the ledger batch the shop was loaded at, to note a mirror
    that holds newer events (an ingest that ran meanwhile: ``kg update`` takes those)."""

    settings: Settings
    master: str | None = None
    mirror: Path | None = None
    bookmark: int | None = None
    #: seconds per step of the last call: lake sync, Spark start, interests
    seconds: dict[str, float] = field(default_factory=dict)
    #: the master the session ran on, the mirror read, and facts said once
    ran_on: str = ""
    mirror_read: str = ""
    notes: list[str] = field(default_factory=list)

    def __call__(self, shop: ShopData, *, as_of_ms: int | None, half_life_days: float, top: int) -> InterestTable:
        clock = time.perf_counter()
        synced = sync_events(self.settings, self.mirror)
        self.mirror_read = synced.path
        if self.bookmark is not None and synced.to_batch > self.bookmark:
            self.notes.append(
                f"the lake holds ledger batches up to {synced.to_batch:,}, newer than the profiles' load "
                f"({self.bookmark:,}): events ingested meanwhile may count in the interests; kg update takes them"
            )
        clock = self._lap("lake sync", clock)
        with spark_session(self.settings, self.master, app="kg profiles") as spark:
            self.ran_on = spark.sparkContext.master or ""
            clock = self._lap("spark start", clock)
            events = read_events(spark, Path(synced.path))
            table = spark_interests(spark, events, shop, as_of_ms=as_of_ms, half_life_days=half_life_days, top=top)
            self._lap("interests", clock)
        return table

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
