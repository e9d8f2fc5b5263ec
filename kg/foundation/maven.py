"""Java programs from Maven Central without Docker: the class path of a ``pom.xml``'s dependencies.

``mvn dependency:build-classpath`` runs once per version of the pom (its sha256); the jars' paths (in
``~/.m2``) are kept in ``~/.cache/kg/<name>-classpath-<digest>.txt``, one file per user, not per home, and
resolved again when a jar has gone. The local Neo4j (``kg.store.neo4j_server``) and the test suite's Kafka
broker (``tests/kafka_broker``) start from it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

from kg.foundation.errors import ServerError

__all__ = ["maven_classpath", "require_tool"]

logger = logging.getLogger(__name__)


def require_tool(name: str, what: str) -> str:
    """The path of program ``name`` (``java``, ``mvn``); ServerError naming ``what`` needs it otherwise."""
    path = shutil.which(name)
    if not path:
        raise ServerError(
            f"`{name}` is not installed: {what} needs Java 17+ and Maven",
            hint="apt-get install openjdk-17-jre-headless maven",
        )
    return path


def maven_classpath(pom: Path, name: str, *, size: str) -> str:
    """The class path of ``pom``'s dependencies. ``name`` names them in messages and, lower-cased, in the
    cache file; ``size`` is what the first resolution downloads, for the one warning it logs."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kg"
    cached = cache / f"{name.lower()}-classpath-{digest}.txt"
    if cached.is_file():
        text = cached.read_text().strip()
        if text and all(Path(jar).is_file() for jar in text.split(os.pathsep)):
            return text
    mvn = require_tool("mvn", f"a local {name}")
    cache.mkdir(parents=True, exist_ok=True)
    logger.warning("resolving %s from Maven Central (once; %s into ~/.m2)", name, size)
    out = cache / f"{name.lower()}-classpath-{os.getpid()}.tmp"
    done = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={out}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not out.is_file():
        tail = " ".join((done.stdout + done.stderr).split())[-300:]
        raise ServerError(f"Maven could not resolve {name}: {tail}", hint="check access to Maven Central")
    out.replace(cached)
    return cached.read_text().strip()
