"""The Kafka source on a real broker and a real intake (embedded FalkorDB): what lands equals one clean ingest.

Events arrive as single objects, arrays and JSON lines, with duplicates and garbage; and a consumer killed
(SIGKILL) after a batch reached the ledger but before its offsets were committed, then restarted, replays
that batch without counting anything twice and loses nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.errors import ConfigError, StoreError
from kg.foundation.settings import Settings
from kg.ingest import ingest_file
from kg.ledger import EventLedger
from kg.service.intake import Intake, event_lines
from kg.service.kafka_source import KafkaSource
from kg.store import GraphStore, open_store
from tests.helpers import clean_twin, readline_within, settings_json, wait_until, write_lines
from tests.ingest_helpers import edges
from tests.kafka_broker import LocalKafka

ROOT = Path(__file__).resolve().parents[2]

# the intake and the source write through the embedded FalkorDB only (the service's logic is backend-blind)
FALKORDB_ONLY = pytest.mark.parametrize("settings", ["falkordb"], indirect=True)

TYPES = ("view", "view", "cart", "purchase", "rating")


def shop_events(n: int) -> list[dict[str, Any]]:
    """``n`` distinct events (user, item, type, time) of the generic schema, ratings included."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        kind = TYPES[i % len(TYPES)]
        event: dict[str, Any] = {
            "user_id": f"user{i % 23}",
            "item_id": f"item{(i * 7) % 31}",
            "event_type": kind,
            "timestamp": 1_700_000_000 + 60 * i,
        }
        if kind == "rating":
            event["rating"] = 1 + i % 5
        events.append(event)
    return events


def produce(broker: LocalKafka, topic: str, values: list[bytes | None]) -> None:
    """Every value as one message, keyed by its position (spread over the partitions), all delivered."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for number, value in enumerate(values):
        producer.produce(topic, value=value, key=str(number).encode())
    assert producer.flush(30) == 0, "not every message was delivered"


def ledger_events(settings: Settings) -> int:
    """Events in the graph's ledger (0 before the first batch created it, or while it is being created)."""
    try:
        with EventLedger.from_settings(settings, readonly=True) as ledger:
            return ledger.counts()["events"]
    except (StoreError, ConfigError):
        return 0


def committed(broker: LocalKafka, topic: str, group: str) -> int:
    """The group's committed offset of partition 0 (0 when none), read without joining the group."""
    from confluent_kafka import Consumer, TopicPartition

    reader = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        (tp,) = reader.committed([TopicPartition(topic, 0)], timeout=10)
        return max(tp.offset, 0)
    finally:
        reader.close()


def clean_edges(settings: Settings, events: list[dict[str, Any]], path: Path) -> dict[Any, Any]:
    """The behaviour edges one ``kg ingest`` of ``events`` gives in a fresh graph with its own ledger."""
    with clean_twin(settings) as (other, clean):
        report = ingest_file(other, clean, write_lines(path, events), kind="events", fmt="jsonl")
        assert report.rows_bad == 0
        return edges(other)


def test_event_lines_accept_objects_arrays_and_json_lines() -> None:
    assert event_lines(b'{"a": 1}') == ['{"a": 1}']
    assert event_lines('[{"a": 1}, {"b": "\u00e9"}]'.encode()) == ['{"a": 1}', '{"b": "\u00e9"}']
    assert event_lines(b'{"a": 1}\n\n{"a": 2}\n') == ['{"a": 1}', '{"a": 2}']
    assert event_lines(b'{"a":\n 1}') == ['{"a": 1}']  # one object over several lines
    assert event_lines(b"no json {") == ["no json {"]  # handed over for the intake to reject
    assert event_lines(b"42") == ["42"]
    assert event_lines(None) == [] and event_lines(b"  \n") == []


@FALKORDB_ONLY
def test_events_from_kafka_equal_one_clean_ingest(
    kafka_broker: LocalKafka, settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    events = shop_events(300)
    topic, group = f"events-{uuid.uuid4().hex[:8]}", f"kg-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=2)
    values: list[bytes | None] = [json.dumps(e).encode() for e in events[:200]]  # one event per message
    values.append(json.dumps(events[200:250]).encode())  # an array
    values += ["\n".join(json.dumps(e) for e in events[i : i + 10]).encode() for i in range(250, 300, 10)]  # lines
    values += [json.dumps(e).encode() for e in events[::30]]  # duplicates: stored once
    values += [b"\xff not json {", b'{"user_id": "user1", "item_id": "item1", "event_type": "view"}', None]
    produce(kafka_broker, topic, values)

    intake = Intake(settings, lambda: open_store(settings, start=False), update=False, max_wait_s=0.05).start()
    source = KafkaSource(intake, bootstrap=kafka_broker.bootstrap, topic=topic, group=group, max_messages=64)
    source.start()
    try:
        wait_until(lambda: source.committed == len(values), timeout=40, what="every message committed")
    finally:
        source.stop()
        intake.stop()
    assert source.failures == 0 and source.last_error is None
    assert source.rejected == 2  # the garbage and the event without a time, each with its reason
    assert source.lag == 0
    assert ledger_events(settings) == len(events)
    got = edges(store)
    assert sum(props[0] for props in got.values()) == len(events)
    assert got == clean_edges(settings, events, tmp_path / "events.jsonl")


#: ``python -c CHILD settings_json bootstrap topic group crash_at``: the service's intake + Kafka source; with
#: crash_at > 0 the source stops for good just before its crash_at-th commit (the batch is in the ledger, its
#: offsets are not committed) and says so, for the test to kill it there
CHILD = """
import sys, time
from kg.foundation.settings import Settings
from kg.service.intake import Intake
from kg.service.kafka_source import KafkaSource
from kg.store import open_store

settings = Settings.model_validate_json(sys.argv[1])
bootstrap, topic, group, crash_at = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])


class Source(KafkaSource):
    commits = 0

    def _commit(self, consumer, offsets):
        self.commits += 1
        if self.commits == crash_at:
            print("ingested, not committed", flush=True)
            time.sleep(600)
        return super()._commit(consumer, offsets)


intake = Intake(settings, lambda: open_store(settings, start=False), update=False, max_wait_s=0.05).start()
# static membership: the restarted consumer takes the killed one's place without waiting for its session to end
config = {"group.instance.id": "kg-crash-test", "session.timeout.ms": 6000}
Source(intake, bootstrap=bootstrap, topic=topic, group=group, max_messages=5, poll_s=0.1, config=config).start()
print("ready", flush=True)
while True:
    time.sleep(60)
"""


@FALKORDB_ONLY
def test_a_consumer_killed_between_ingest_and_commit_loses_and_doubles_nothing(
    kafka_broker: LocalKafka, settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    events = shop_events(300)
    topic, group = f"crash-{uuid.uuid4().hex[:8]}", f"kg-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=1)
    messages = ["\n".join(json.dumps(e) for e in events[i : i + 10]).encode() for i in range(0, 300, 10)]
    produce(kafka_broker, topic, list(messages))

    def child(crash_at: int) -> subprocess.Popen[str]:
        args = [settings_json(settings), kafka_broker.bootstrap, topic, group, str(crash_at)]
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    first = child(crash_at=2)
    try:
        assert first.stdout is not None
        assert readline_within(first.stdout, 60) == "ready\n"
        assert readline_within(first.stdout, 60) == "ingested, not committed\n"
        landed, done = ledger_events(settings), committed(kafka_broker, topic, group)
        # the first batch is committed; the second is in the ledger and will be consumed again
        assert 0 < done and done * 10 < landed < len(events)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait(10)

    second = child(crash_at=0)
    try:
        wait_until(
            lambda: ledger_events(settings) == len(events) and committed(kafka_broker, topic, group) == len(messages),
            timeout=40,
            what="every event in the ledger and every offset committed",
            proc=second,
        )
    finally:
        second.kill()
        _, err = second.communicate(timeout=10)
    assert re.search(r"user\d", err) is None, err  # no raw user id in the service's log
    assert ledger_events(settings) == len(events)
    got = edges(store)
    assert sum(props[0] for props in got.values()) == len(events)
    assert got == clean_edges(settings, events, tmp_path / "events.jsonl")


@FALKORDB_ONLY
def test_a_batch_that_fails_is_not_committed_and_is_consumed_again(
    kafka_broker: LocalKafka, settings: Settings, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = shop_events(40)
    topic, group = f"retry-{uuid.uuid4().hex[:8]}", f"kg-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic)
    produce(kafka_broker, topic, [json.dumps(e).encode() for e in events])
    intake = Intake(settings, lambda: open_store(settings, start=False), update=False, max_wait_s=0.05)
    real_ingest, calls = intake._ingest, []

    def failing_once(store: GraphStore, path: Path) -> Any:
        calls.append(path)
        if len(calls) == 1:
            raise StoreError("the graph went away")
        return real_ingest(store, path)

    monkeypatch.setattr(intake, "_ingest", failing_once)
    intake.start()
    source = KafkaSource(intake, bootstrap=kafka_broker.bootstrap, topic=topic, group=group, retry_s=0.05)
    source.start()
    try:
        wait_until(lambda: source.committed == len(events), timeout=30, what="every message committed")
    finally:
        source.stop()
        intake.stop()
    assert source.failures == 1 and len(calls) >= 2
    assert source.messages > len(events)  # the failed batch was consumed again
    assert ledger_events(settings) == len(events)
    assert sum(props[0] for props in edges(store).values()) == len(events)


def test_kg_serve_consumes_a_topic_and_its_health_says_when_the_consumer_stopped(
    kafka_broker: LocalKafka, settings: Settings, store: GraphStore
) -> None:
    import httpx

    from kg.service import KafkaOptions
    from tests.service.serving import serving

    topic, group = f"serve-{uuid.uuid4().hex[:8]}", f"kg-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=1)
    events = shop_events(40)
    produce(kafka_broker, topic, [json.dumps(e).encode() for e in events])
    options = KafkaOptions(kafka_broker.bootstrap, topic, group)
    with serving(settings, store, kafka=options) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        wait_until(lambda: ledger_events(settings) == 40, timeout=60, what="the topic's 40 events in the ledger")
        wait_until(lambda: committed(kafka_broker, topic, group) == 40, timeout=30, what="offsets committed")
        assert http.get("/health").status_code == 200

        def counted() -> bool:
            metrics = http.get("/metrics").text
            received = 'kg_serve_events_received_total{source="kafka"} 40.0' in metrics
            return received and "kg_serve_kafka_lag 0.0" in metrics

        wait_until(counted, timeout=30, what="the 40 events and a lag of 0 in /metrics")
        (source,) = served.service.sources
        source.stop()  # the consumer ends (as when the broker refuses it for good): the service must say so
        health = http.get("/health")
        assert health.status_code == 503 and "Kafka source" in health.json()["status"]
