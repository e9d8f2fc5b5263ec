"""A throw-away single-node Kafka broker (KRaft) for tests and benchmarks, without Docker.

Apache Kafka comes from Maven Central (``pom.xml`` beside this file): its class path is resolved once with
``mvn dependency:build-classpath`` (jars cached in ``~/.m2``) and kept in
``~/.cache/kg/kafka-classpath-<hash of the pom>.txt``, as :mod:`kg.store.neo4j_server` does for Neo4j. Each
broker lives in its own folder: ``server.properties``, the formatted log directory and ``kafka.log`` (the
broker's stdout and stderr). It listens on 127.0.0.1 only; topics are created on first use.

>>> with LocalKafka(tmp_path / "kafka") as kafka:              # doctest: +SKIP
...     kafka.create_topic("events", partitions=2)
...     producer = confluent_kafka.Producer({"bootstrap.servers": kafka.bootstrap})
"""

from __future__ import annotations

import base64
import logging
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Self

from kg.foundation.errors import ServerError
from kg.foundation.maven import maven_classpath, require_tool
from kg.store.falkordb_server import free_port

__all__ = ["LocalKafka", "POM", "KafkaUnavailable", "classpath", "tools_missing"]

logger = logging.getLogger(__name__)

POM = Path(__file__).with_name("pom.xml")
MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
#: a small heap and a JVM tuned for a quick start on a small machine
JVM_FLAGS = ("-Xmx384m", "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")


class KafkaUnavailable(RuntimeError):
    """The local broker could not be resolved, formatted or started (the message says why)."""


def tools_missing() -> list[str]:
    """The programs a local broker needs (``java``, ``mvn``) that are not on PATH."""
    return [name for name in ("java", "mvn") if shutil.which(name) is None]


def _tool(name: str) -> str:
    try:
        return require_tool(name, "a local Kafka broker")
    except ServerError as e:
        raise KafkaUnavailable(str(e)) from e


def classpath() -> str:
    """Kafka's class path, resolved by Maven once per version of ``pom.xml`` and cached per user."""
    try:
        return maven_classpath(POM, "Kafka", size="~100 MB")
    except ServerError as e:
        raise KafkaUnavailable(str(e)) from e


def _cluster_id() -> str:
    """A Kafka cluster id (``Uuid.randomUuid()``'s form: 16 random bytes, URL-safe base64, unpadded)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class LocalKafka:
    """One broker+controller in ``home``, on ``port`` (a free one when None); a context manager."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.controller_port = free_port()
        self.properties = self.home / "server.properties"
        self.log = self.home / "kafka.log"
        self.log_dir = self.home / "data"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """``bootstrap.servers`` for clients."""
        return f"127.0.0.1:{self.port}"

    def server_properties(self) -> dict[str, str]:
        """The broker's settings: KRaft single node on loopback, replication factors 1, quick group joins."""
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",  # the default 50 makes the first group join slow
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "2",
        }

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self, *, timeout: float = 90.0) -> Self:
        """Format the storage (first start) and start the broker; returns once clients can list topics."""
        if self.process is not None and self.process.poll() is None:
            return self
        java, cp = _tool("java"), classpath()
        self.home.mkdir(parents=True, exist_ok=True)
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in self.server_properties().items()))
        if not (self.log_dir / "meta.properties").is_file():
            done = subprocess.run(
                [java, *JVM_FLAGS, "-cp", cp, STORAGE_TOOL, "format", "-t", _cluster_id(), "-c", str(self.properties)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                tail = " ".join((done.stdout + done.stderr).split())[-400:]
                raise KafkaUnavailable(f"kafka-storage format failed: {tail}")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [java, *JVM_FLAGS, "-cp", cp, MAIN, str(self.properties)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.home,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient

        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KafkaUnavailable(f"Kafka exited at start (code {self.process.returncode}): {self.log_tail()}")
            if _accepts(self.port):
                admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
                try:
                    admin.list_topics(timeout=min(5.0, max(0.5, deadline - time.monotonic())))
                    return
                except Exception:  # noqa: BLE001 - not ready yet (KafkaException): try again
                    pass
            time.sleep(0.2)
        raise KafkaUnavailable(f"Kafka did not start within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the broker's log, joined (for error messages)."""
        try:
            found = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return " | ".join(found[-lines:])[-800:]

    def stop(self, *, timeout: float = 20.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout`` seconds. A no-op when it does not run."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- topics ----------------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int = 1, *, timeout: float = 30.0) -> None:
        """Create ``name`` (replication 1) and wait until its partitions have leaders."""
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        future = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name]
        try:
            future.result(timeout)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            topic = admin.list_topics(name, timeout=timeout).topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and topic.partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                return
            time.sleep(0.1)
        raise KafkaUnavailable(f"topic {name} has no leader after {timeout:.0f} s: {self.log_tail()}")
