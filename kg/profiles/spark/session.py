"""The SparkSession kg's batch stages run on: master from the caller or ``KG_SPARK_MASTER`` (``local[2]`` by
default), a small driver (``KG_SPARK_DRIVER_MEMORY``, 1g), no web UI, UTC, Spark's own logs at ERROR on stderr
(stdout stays the command's), and its scratch files (shuffle blocks hold pseudonyms) in an owner-only folder
under ``KG_HOME/spark`` that is removed when the session ends.

A session that is already running in this process (a notebook's, or a test session's) is used as it is and
left running; one started here is stopped on the way out.

>>> with spark_session(settings, "local[2]") as spark:      # doctest: +SKIP
...     spark.range(3).count()
3
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kg.foundation.errors import ConfigError, shorten
from kg.foundation.extras import require
from kg.foundation.home import private_dir
from kg.foundation.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["LOG4J2", "check_master", "local_cores", "spark_session"]

logger = logging.getLogger(__name__)

#: Spark's logging: errors only, on stderr (its default profile also prints banners and WARN lines)
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
# PySpark's driver takes this logger's level as a shell's: the same as the root's, so nothing is said about it
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""

_LOCAL = re.compile(r"^local(?:\[(\d+|\*)(?:,\d+)?\])?$")
#: the masters Spark 4 takes (spark-submit: "yarn or start with spark, k8s, or local")
_MASTER = re.compile(r"^(local(\[[^\]]*\])?|local-cluster\[[^\]]*\]|yarn|spark://\S+|k8s://\S+)$")


def check_master(master: str) -> str:
    """``master`` when Spark would take it, else :class:`~kg.foundation.errors.ConfigError` (before a JVM starts).

    >>> check_master("spark://10.0.0.5:7077")
    'spark://10.0.0.5:7077'
    """
    if not _MASTER.match(master.strip()):
        raise ConfigError(
            f"{master!r} is not a Spark master",
            hint="use local[N], spark://HOST:PORT, yarn or k8s://URL (--master or KG_SPARK_MASTER)",
        )
    return master.strip()


def local_cores(master: str) -> int | None:
    """The worker threads of a ``local``, ``local[N]`` or ``local[N,F]`` master (``local[*]``: this machine's
    cores); None for a cluster master.

    >>> local_cores("local[2]"), local_cores("local"), local_cores("yarn")
    (2, 1, None)
    """
    match = _LOCAL.match(master.strip())
    if match is None:
        return None
    threads = match.group(1)
    if threads is None:
        return 1
    if threads == "*":
        return os.cpu_count() or 1
    return int(threads)


def _config(settings: Settings, master: str, scratch: Path) -> dict[str, str]:
    """The session's settings: see the module docstring."""
    log4j = scratch / "log4j2.properties"
    log4j.write_text(LOG4J2, encoding="utf-8")
    java = f"-Djava.io.tmpdir={scratch} -Dlog4j2.configurationFile={log4j.as_uri()}"
    conf = {
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.extraJavaOptions": java,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.local.dir": str(scratch),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
    }
    cores = local_cores(master)
    if cores is not None:  # one machine: a few shuffle partitions, not Spark's 200, and no network lookup
        conf["spark.sql.shuffle.partitions"] = str(max(2, 2 * cores))
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    return conf


@contextmanager
def spark_session(settings: Settings, master: str | None = None, *, app: str = "kg") -> Iterator[SparkSession]:
    """A SparkSession on ``master`` (default ``settings.spark_master``); see the module docstring.
    :class:`~kg.foundation.extras.MissingExtraError` naming the ``spark`` extra when pyspark is missing."""
    require("spark")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    if running is None and SparkContext._active_spark_context is not None:  # started in another thread
        running = SparkSession.builder.getOrCreate()
    if running is not None:
        wanted = master or settings.spark_master
        got = running.sparkContext.master
        if wanted != got:
            logger.warning("a Spark session on %s is already running here: it is used, not one on %s", got, wanted)
        yield running
        return
    master = check_master(master or settings.spark_master)
    scratch = Path(tempfile.mkdtemp(prefix="session-", dir=private_dir(settings.home / "spark")))
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in _config(settings, master, scratch).items():
        builder = builder.config(key, value)
    logger.info("starting Spark on %s (driver memory %s)", master, settings.spark_driver_memory)
    try:
        session = builder.getOrCreate()
    except Exception as e:  # noqa: BLE001 - no Java, a bad master URL, an unreachable cluster: one line
        shutil.rmtree(scratch, ignore_errors=True)
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise ConfigError(
            f"Spark did not start on {master!r}: {shorten(first, 300)}",
            hint="Spark needs Java 17+ (JAVA_HOME or java on PATH); check --master / KG_SPARK_MASTER",
        ) from e
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(scratch, ignore_errors=True)
