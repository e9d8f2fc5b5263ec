"""The service's Prometheus metrics (``GET /metrics``), one registry per service.

Labels are sources, outcomes and route templates (``/users/{raw_id}/recommendations``), never ids: a raw or
pseudonymous user id never reaches a label. Events per second is ``rate(kg_serve_events_ingested_total[1m])``.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kg.service.intake import BatchOutcome, Ticket

__all__ = ["ServiceMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServiceMetrics:
    """Counters, gauges and histograms of one ``kg serve``; :meth:`observe_batch` is the intake's observer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter("kg_serve_events_received", "Event lines submitted", ["source"], registry=r)
        self.rejected = Counter(
            "kg_serve_events_rejected", "Submitted lines that are not events", ["source"], registry=r
        )
        self.ingested = Counter(
            "kg_serve_events_ingested", "Valid events written (an event seen before is stored once)", registry=r
        )
        self.forgotten = Counter("kg_serve_events_forgotten", "Events of forgotten people, dropped", registry=r)
        self.batches = Counter("kg_serve_batches", "Micro-batches written", ["outcome"], registry=r)
        self.users_updated = Counter("kg_serve_users_updated", "Profiles brought up to date", registry=r)
        self.batch_seconds = Histogram(
            "kg_serve_batch_seconds", "Ingest + update time of one batch", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.event_to_recommendation = Histogram(
            "kg_serve_event_to_recommendation_seconds",
            "From an event's submission to its user's updated recommendations",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Histogram(
            "kg_serve_request_seconds", "HTTP request time", ["route", "status"], buckets=_REQUEST_BUCKETS, registry=r
        )
        self.waiting = Gauge("kg_serve_events_waiting", "Event lines submitted, not yet in a batch", registry=r)
        self._kafka_lag: Gauge | None = None

    def track_waiting(self, waiting: Callable[[], int]) -> None:
        """Read the intake's queue length at every scrape."""
        self.waiting.set_function(waiting)

    def track_kafka_lag(self, lag: Callable[[], int | None]) -> None:
        """Read the Kafka source's lag at every scrape (-1 when it cannot tell)."""
        if self._kafka_lag is None:
            self._kafka_lag = Gauge(
                "kg_serve_kafka_lag", "Messages in the topic not yet consumed (-1: unknown)", registry=self.registry
            )
        self._kafka_lag.set_function(lambda: _known(lag()))

    def observe_batch(self, outcome: BatchOutcome, tickets: list[Ticket]) -> None:
        """Count a finished batch and the latency of each of its submissions."""
        failed = any(t.error is not None for t in tickets)
        self.batches.labels("failed" if failed else "ok").inc()
        for ticket in tickets:
            self.received.labels(ticket.source).inc(ticket.lines)
            if ticket.rejected:
                self.rejected.labels(ticket.source).inc(len(ticket.rejected))
        if failed:
            return
        self.ingested.inc(outcome.rows_ok)
        self.forgotten.inc(outcome.rows_forgotten)
        self.users_updated.inc(outcome.users_updated)
        self.batch_seconds.observe(outcome.ingest_s + outcome.update_s)
        for ticket in tickets:
            if ticket.accepted and ticket.finished is not None:
                self.event_to_recommendation.observe(ticket.finished - ticket.submitted)

    def text(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)


def _known(value: int | None) -> float:
    return -1.0 if value is None else float(value)
