"""``kg profiles --engine spark``: the batch stages of the profiles on Apache Spark (the ``spark`` extra,
``pip install 'kg[spark]'``), results equal to the local engine's.

So far the interests and the co-purchase counts the reasons cite run there, in one session
(:class:`~kg.profiles.spark.engine.SparkStages`). Events come from the lake's Parquet mirror (``kg lake sync``),
the small catalogue from Python. The modules import pyspark only inside their functions, so importing this package
costs nothing without the extra.

- :mod:`~kg.profiles.spark.session`: the SparkSession (master, driver memory, logs, scratch folder);
- :mod:`~kg.profiles.spark.frames`: the events from the mirror, the catalogue and review mentions as DataFrames;
- :mod:`~kg.profiles.spark.interests`: decayed interests with DataFrames, as an ``InterestTable``;
- :mod:`~kg.profiles.spark.together`: co-purchase counts;
- :mod:`~kg.profiles.spark.engine`: both stages as the pipeline calls them.
"""

from __future__ import annotations

from kg.profiles.spark.engine import SPARK_STAGES, SparkStages
from kg.profiles.spark.frames import read_events
from kg.profiles.spark.interests import spark_interests
from kg.profiles.spark.session import spark_session
from kg.profiles.spark.together import spark_together

__all__ = ["SPARK_STAGES", "SparkStages", "read_events", "spark_interests", "spark_session", "spark_together"]
