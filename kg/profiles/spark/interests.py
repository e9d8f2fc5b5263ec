"""Decayed interests on Spark: the table :func:`kg.profiles.interests.compute_interests` computes, from the lake's
events, with DataFrames.

The arithmetic is the local engine's, step for step (see :mod:`kg.profiles.interests`): an event's value is its
type's weight (a rating's signed by its stars) times ``0.5 ** ((as_of - at) / half_life_ms)``; values are summed
per (user, item), then per brand (times ``brand_share``) and per category, the leaf's and each one above it
(times ``category_decay ** level``, then ``category_share``); review mentions add ``aspect * sentiment * decay``.
Only positive totals are kept, the ``top`` best per user, ties broken by label, then key, among scores equal at
nine significant digits of the shop's best score. Scores agree with the local engine's to floating-point
rounding (Spark sums in another order): well within 1e-9.

What comes back is an :class:`~kg.profiles.interests.InterestTable` like the local one: the same users in the
same order (the shop's, then users with review mentions only), the same keys, rows by user then rank.

>>> table = spark_interests(spark, read_events(spark, mirror), shop)     # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.foundation.errors import ConfigError
from kg.profiles.data import ShopData
from kg.profiles.interests import DAY_MS, InterestTable, InterestWeights
from kg.profiles.spark.frames import brand_frame, category_frames, mention_frame

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["CatalogueFrames", "interest_scores", "spark_interests", "top_interests"]

logger = logging.getLogger(__name__)

#: scores are ranked at this many significant digits of the best score (the local engine's tie rule)
TIE_DIGITS = 9


@dataclass(frozen=True)
class CatalogueFrames:
    """The catalogue and the review mentions as Spark DataFrames: ``item_keys`` ``(item, label, key, factor)``,
    each product's brand (factor 1) and its categories (the leaf 1, then ``category_decay ** level`` up the
    tree); ``mentions`` ``(user, aspect, sentiment, at)`` (see :mod:`kg.profiles.spark.frames`)."""

    item_keys: DataFrame
    mentions: DataFrame

    @classmethod
    def of(cls, spark: SparkSession, shop: ShopData, category_decay: float) -> CatalogueFrames:
        from pyspark.sql import functions as F

        item_leaf, leaf_chain = category_frames(spark, shop.catalogue, category_decay)
        categories = item_leaf.join(leaf_chain, "leaf").select(
            "item", F.lit("Category").alias("label"), F.col("category").alias("key"), "factor"
        )
        brands = brand_frame(spark, shop.catalogue).select(
            "item", F.lit("Brand").alias("label"), F.col("brand").alias("key"), F.lit(1.0).alias("factor")
        )
        return cls(brands.unionByName(categories), mention_frame(spark, shop.aspects))


def _decay(at: Column, as_of: int, half_life_ms: float) -> Column:
    from pyspark.sql import functions as F

    return F.pow(F.lit(0.5), (F.lit(as_of) - at).cast("double") / F.lit(float(half_life_ms)))


def _event_value(w: InterestWeights, as_of: int, half_life_ms: float) -> Column:
    """Each event's weight by type (a rating's times ``(clamp(stars, 1, 5) - 3) / 2``, 0 without stars) times
    its decay."""
    from pyspark.sql import functions as F

    stars = F.col("rating")
    signed = F.when(stars.isNull() | F.isnan(stars), F.lit(0.0)).otherwise(
        (F.least(F.greatest(stars, F.lit(1.0)), F.lit(5.0)) - F.lit(3.0)) / F.lit(2.0)
    )
    kind = F.col("type")
    weight = (
        F.when(kind == "rating", F.lit(float(w.rating)) * signed)
        .when(kind == "view", F.lit(float(w.view)))
        .when(kind == "favorite", F.lit(float(w.favorite)))
        .when(kind == "cart", F.lit(float(w.cart)))
        .when(kind == "purchase", F.lit(float(w.purchase)))
        .otherwise(F.lit(0.0))
    )
    return weight * _decay(F.col("at"), as_of, half_life_ms)


def interest_scores(
    events: DataFrame,
    frames: CatalogueFrames,
    *,
    as_of_ms: int,
    half_life_ms: float,
    weights: InterestWeights,
) -> DataFrame:
    """Every ``(user, label, key, score)`` total before the cut (zero and negative ones too)."""
    from pyspark.sql import functions as F

    w = weights
    ui = (
        events.where(F.col("at") <= F.lit(as_of_ms))
        .select("user", "item", _event_value(w, as_of_ms, half_life_ms).alias("v"))
        .groupBy("user", "item")
        .agg(F.sum("v").alias("v"))
    )
    share = F.when(F.col("label") == "Brand", F.lit(float(w.brand_share))).otherwise(F.lit(float(w.category_share)))
    catalogue = (
        ui.join(F.broadcast(frames.item_keys), "item")
        .groupBy("user", "label", "key")
        .agg(F.sum(F.col("v") * F.col("factor")).alias("total"))
        .select("user", "label", "key", (F.col("total") * share).alias("score"))
    )
    mention_at = F.coalesce(F.col("at"), F.lit(as_of_ms))
    aspects = (
        frames.mentions.where(F.col("at").isNull() | (F.col("at") <= F.lit(as_of_ms)))
        .select(
            "user",
            F.col("aspect").alias("key"),
            (F.lit(float(w.aspect)) * F.col("sentiment") * _decay(mention_at, as_of_ms, half_life_ms)).alias("v"),
        )
        .groupBy("user", "key")
        .agg(F.sum("v").alias("score"))
        .select("user", F.lit("Aspect").alias("label"), "key", "score")
    )
    return catalogue.unionByName(aspects)


def top_interests(positive: DataFrame, top: int, best: float) -> DataFrame:
    """The ``top`` best of the ``positive`` scores per user with their ``rank`` (from 1): ``(user, label, key,
    score, rank)``. Ties (equal at :data:`TIE_DIGITS` digits of ``best``, the shop's best score) go by label,
    then key."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rounded = F.rint(F.col("score") / F.lit(float(best)) * F.lit(10.0**TIE_DIGITS))
    order = Window.partitionBy("user").orderBy(rounded.desc(), F.col("label"), F.col("key"))
    ranked = positive.select("user", "label", "key", "score", F.row_number().over(order).alias("rank"))
    return ranked.where(F.col("rank") <= top)


def _default_as_of(events: DataFrame, shop: ShopData) -> int:
    """The newest event of the mirror or review mention with a time (0 when there is neither), as locally."""
    from pyspark.sql import functions as F

    row = events.agg(F.max("at")).first()
    newest = [int(row[0])] if row is not None and row[0] is not None else []
    times = [t for _, _, _, t in shop.aspects.user_mentions if t is not None]
    candidates = newest + ([max(times)] if times else [])
    return max(candidates) if candidates else 0


def _key_universe(events: DataFrame, frames: CatalogueFrames, shop: ShopData, as_of: int) -> list[tuple[str, str]]:
    """Every (label, key) the local table has a column for: the brands and categories (with those above) of the
    products with events, and the aspects mentioned up to ``as_of``; sorted by label, then key."""
    from pyspark.sql import functions as F

    items = events.select("item").distinct()
    catalogue = items.join(F.broadcast(frames.item_keys), "item").select("label", "key").distinct()
    keys = {(r["label"], r["key"]) for r in catalogue.collect()}
    keys |= {("Aspect", a) for _, a, _, at in shop.aspects.user_mentions if at is None or at <= as_of}
    return sorted(keys)


def _table_users(shop: ShopData, as_of: int) -> list[str]:
    """The shop's users, then users with review mentions (up to ``as_of``) only, in the order they come."""
    users = list(shop.interactions.users)
    seen = set(users)
    for user, _, _, at in shop.aspects.user_mentions:
        if (at is None or at <= as_of) and user not in seen:
            seen.add(user)
            users.append(user)
    return users


def _as_table(
    rows: Any, users: list[str], keys: list[tuple[str, str]], as_of: int, half_life_days: float
) -> InterestTable:
    """Collected rows (an Arrow table: user, label, key, score, rank) as an InterestTable over ``users`` and
    ``keys``; users the rows name and ``users`` lacks are appended (sorted)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    extra = sorted(set(rows.column("user").to_pylist()) - set(users))
    if extra:
        logger.warning("interests: %d users of the lake are not in the shop (events newer than its load?)", len(extra))
        users = users + extra
    user = pc.index_in(rows.column("user"), value_set=pa.array(users, pa.string())).to_numpy(zero_copy_only=False)
    joined = pc.binary_join_element_wise(rows.column("label"), rows.column("key"), "\x00")
    names = pa.array([f"{label}\x00{key}" for label, key in keys], pa.string())
    key = pc.index_in(joined, value_set=names).to_numpy(zero_copy_only=False)
    rank = rows.column("rank").to_numpy()
    order = np.lexsort((rank, user))
    return InterestTable(
        users=users,
        keys=keys,
        user=user[order].astype(np.int32),
        key=key[order].astype(np.int32),
        score=rows.column("score").to_numpy()[order].astype(np.float64),
        as_of_ms=as_of,
        half_life_days=half_life_days,
    )


def spark_interests(
    spark: SparkSession,
    events: DataFrame,
    shop: ShopData,
    *,
    as_of_ms: int | None = None,
    half_life_days: float = 30.0,
    weights: InterestWeights | None = None,
    top: int = 20,
) -> InterestTable:
    """:func:`~kg.profiles.interests.compute_interests` on Spark: ``events`` (:func:`read_events`) give the
    behaviour; ``shop`` the catalogue, the review mentions and the order of the users."""
    if half_life_days <= 0:
        raise ConfigError(f"half-life must be > 0 days, got {half_life_days}; hint: the default is 30")
    if top < 1:
        raise ConfigError(f"--top must be >= 1, got {top}; hint: the default keeps 20 per user")
    from pyspark.sql import functions as F

    w = (weights or InterestWeights()).validate()
    as_of = int(as_of_ms) if as_of_ms is not None else _default_as_of(events, shop)
    frames = CatalogueFrames.of(spark, shop, w.category_decay)
    scores = interest_scores(events, frames, as_of_ms=as_of, half_life_ms=half_life_days * DAY_MS, weights=w)
    positive = scores.where(F.col("score") > 0).persist()  # read twice: the best score, then the ranking
    try:
        best = positive.agg(F.max("score")).first()
        rows = top_interests(positive, top, best[0] if best is not None and best[0] else 1.0).toArrow()
    finally:
        positive.unpersist()
    keys = _key_universe(events, frames, shop, as_of)
    table = _as_table(rows, _table_users(shop, as_of), keys, as_of, half_life_days)
    logger.info(
        "interests on Spark: %d users, %d keys, %d rows kept (as_of=%d, half-life %.1f d)",
        len(table.users),
        len(keys),
        len(table),
        as_of,
        half_life_days,
    )
    return table
