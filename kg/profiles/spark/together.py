"""Co-purchase counts on Spark: for each pair of different products, the distinct users who bought or rated both,
what :func:`kg.profiles.reasons.together_counts` counts from the shop's bought-or-rated matrix (every event, no
``as_of``), here from the lake's events.

>>> counts = spark_together(read_events(spark, mirror), shop.interactions.items)     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from kg.profiles.data import POSITIVE_TYPES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["spark_together", "together_pairs"]


def together_pairs(events: DataFrame) -> DataFrame:
    """``(source, target, count)`` for every ordered pair of different products bought or rated by ``count``
    distinct users (both directions: the counts are symmetric)."""
    from pyspark.sql import functions as F

    bought = events.where(F.col("type").isin(list(POSITIVE_TYPES))).select("user", "item").distinct()
    left = bought.select("user", F.col("item").alias("source"))
    right = bought.select("user", F.col("item").alias("target"))
    return (
        left.join(right, "user")
        .where(F.col("source") != F.col("target"))
        .groupBy("source", "target")
        .agg(F.count(F.lit(1)).alias("count"))
    )


def spark_together(events: DataFrame, items: Sequence[str]) -> sparse.csr_matrix:
    """items x items counts (``items``: the shop's item order) as :func:`~kg.profiles.reasons.together_counts`
    gives them: float32, no diagonal, no stored zeros. Products ``items`` lacks are left out."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = together_pairs(events).toArrow()
    names = pa.array(list(items), pa.string())
    source = pc.index_in(rows.column("source"), value_set=names)
    target = pc.index_in(rows.column("target"), value_set=names)
    known = pc.and_(pc.is_valid(source), pc.is_valid(target))
    s = pc.filter(source, known).to_numpy(zero_copy_only=False).astype(np.int64)
    t = pc.filter(target, known).to_numpy(zero_copy_only=False).astype(np.int64)
    counts = pc.filter(rows.column("count"), known).to_numpy(zero_copy_only=False).astype(np.float32)
    matrix = sparse.csr_matrix((counts, (s, t)), shape=(len(items), len(items)), dtype=np.float32)
    matrix.sort_indices()
    return matrix
