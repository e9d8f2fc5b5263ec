"""One service from settings: the intake, its metrics, the optional Kafka source, the app's shared state."""

from __future__ import annotations

from dataclasses import dataclass

from kg.foundation.settings import Settings
from kg.service.app import MAX_BODY_BYTES, Service
from kg.service.intake import Intake
from kg.service.metrics import ServiceMetrics
from kg.store import GraphStore

__all__ = ["KafkaOptions", "build_service"]


@dataclass(frozen=True)
class KafkaOptions:
    """Where the service consumes events from: a broker list, a topic and a consumer group."""

    bootstrap: str
    topic: str
    group: str = "kg-serve"


def _open_store(settings: Settings) -> GraphStore:
    from kg.store import open_store

    return open_store(settings)


def build_service(
    settings: Settings,
    *,
    token: str,
    open_reads: bool = True,
    max_events: int = 5_000,
    max_wait_s: float = 0.2,
    max_body_bytes: int = MAX_BODY_BYTES,
    kafka: KafkaOptions | None = None,
) -> Service:
    """A :class:`Service` whose intake feeds metrics; with ``kafka``, a Kafka source that starts and stops
    with the intake (its offsets are committed after the ledger holds the events)."""
    metrics = ServiceMetrics()
    intake = Intake(
        settings,
        lambda: _open_store(settings),
        max_events=max_events,
        max_wait_s=max_wait_s,
        observer=metrics.observe_batch,
    )
    metrics.track_waiting(lambda: intake.waiting)
    service = Service(
        settings=settings,
        token=token,
        intake=intake,
        metrics=metrics,
        store_factory=lambda: _open_store(settings),
        open_reads=open_reads,
        max_body_bytes=max_body_bytes,
    )
    if kafka is not None:
        from kg.service.kafka_source import KafkaSource

        source = KafkaSource(intake, bootstrap=kafka.bootstrap, topic=kafka.topic, group=kafka.group)
        metrics.track_kafka_lag(lambda: source.lag)
        service.sources.append(source)
    return service
