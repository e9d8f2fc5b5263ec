"""What the Spark stages read, as DataFrames: the events from the lake's Parquet mirror (``kg lake sync``), and
the small tables that come from Python (the catalogue: brands and the category tree; review aspect mentions).

Events arrive with the columns the local engine uses (:class:`~kg.profiles.data.Interactions`): ``user``,
``item``, ``type`` (one of :data:`~kg.profiles.data.EVENT_TYPES`; others are left out, as the ledger load does),
``at`` (epoch ms) and ``rating`` (kept at float32 precision, as ``Interactions`` keeps it, so the arithmetic
sees the same stars).

>>> events = read_events(spark, default_path(settings))     # doctest: +SKIP
>>> events.columns                                          # doctest: +SKIP
['user', 'item', 'type', 'at', 'rating']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.profiles.data import EVENT_TYPES, AspectSignals, Catalogue

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["brand_frame", "category_frames", "mention_frame", "read_events"]


def _table(columns: dict[str, list[Any]], types: dict[str, Any]) -> Any:
    """A pyarrow table of ``columns`` with the given Arrow ``types`` (empty columns keep their type)."""
    import pyarrow as pa

    return pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})


def read_events(spark: SparkSession, mirror: Path) -> DataFrame:
    """The events of the Parquet mirror at ``mirror`` (``day=YYYY-MM-DD/events.parquet`` folders)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

    schema = StructType(
        [
            StructField("user_id", StringType(), False),
            StructField("item_id", StringType(), False),
            StructField("event_type", StringType(), False),
            StructField("event_time", TimestampType(), False),
            StructField("rating", DoubleType(), True),
        ]
    )
    raw = spark.read.schema(schema).parquet(str(mirror))
    return raw.where(F.col("event_type").isin(list(EVENT_TYPES))).select(
        F.col("user_id").alias("user"),
        F.col("item_id").alias("item"),
        F.col("event_type").alias("type"),
        F.unix_millis("event_time").alias("at"),
        F.col("rating").cast("float").cast("double").alias("rating"),
    )


def brand_frame(spark: SparkSession, catalogue: Catalogue) -> DataFrame:
    """``(item, brand)`` for every product with a brand."""
    import pyarrow as pa

    pairs = [(item, brand) for item, brand in catalogue.brand_of.items() if brand]
    return spark.createDataFrame(
        _table(
            {"item": [p[0] for p in pairs], "brand": [p[1] for p in pairs]}, {"item": pa.string(), "brand": pa.string()}
        )
    )


def category_frames(spark: SparkSession, catalogue: Catalogue, category_decay: float) -> tuple[DataFrame, DataFrame]:
    """``(item, leaf)`` for every product with a category, and ``(leaf, category, factor)``: the leaf and each
    category above it, ``factor = category_decay ** level`` (1 for the leaf, cycles cut as
    :meth:`~kg.profiles.data.Catalogue.ancestors` cuts them). The factors are computed here, in Python, as the
    local engine computes them."""
    import pyarrow as pa

    leaves = [(item, leaf) for item, leaf in catalogue.category_of.items() if leaf]
    chains = [
        (leaf, category, category_decay**level)
        for leaf in sorted({leaf for _, leaf in leaves})
        for level, category in enumerate(catalogue.ancestors(leaf))
    ]
    item_leaf = _table(
        {"item": [p[0] for p in leaves], "leaf": [p[1] for p in leaves]}, {"item": pa.string(), "leaf": pa.string()}
    )
    leaf_chain = _table(
        {"leaf": [c[0] for c in chains], "category": [c[1] for c in chains], "factor": [c[2] for c in chains]},
        {"leaf": pa.string(), "category": pa.string(), "factor": pa.float64()},
    )
    return spark.createDataFrame(item_leaf), spark.createDataFrame(leaf_chain)


def mention_frame(spark: SparkSession, aspects: AspectSignals) -> DataFrame:
    """``(user, aspect, sentiment, at)`` per review mention (``at``: epoch ms, null when the review has no time)."""
    import pyarrow as pa

    rows = aspects.user_mentions
    return spark.createDataFrame(
        _table(
            {
                "user": [r[0] for r in rows],
                "aspect": [r[1] for r in rows],
                "sentiment": [float(r[2]) for r in rows],
                "at": [None if r[3] is None else int(r[3]) for r in rows],
            },
            {"user": pa.string(), "aspect": pa.string(), "sentiment": pa.float64(), "at": pa.int64()},
        )
    )
