"""A Kafka topic as a source of events: a consumer thread hands each poll's messages to the :class:`Intake`.

Each message value is UTF-8 JSON: one event object, an array of event objects, or JSON lines. Every event
becomes one line of :meth:`Intake.submit` (the generic schema: ``user_id, item_id, event_type, timestamp
[, rating]``); a message that is not JSON at all is handed over as it is, so the intake rejects it with its
reason and the quarantine records it: a bad message never stops the consumer.

Offsets are committed by hand, and only once the intake says the ledger and graph hold the batch
(:meth:`Ticket.wait_ingested`). A crash before the commit replays the batch, which the ledger stores once
(an event's identity is its user, item, type and time); a batch that fails is not committed either: the
consumer seeks back to its first offsets and tries again after ``retry_s``. Closing the consumer commits
nothing. Nothing here logs a message's content (it holds raw user ids): only counts and offsets.

>>> source = KafkaSource(intake, bootstrap="127.0.0.1:9092", topic="events", group="kg").start()  # doctest: +SKIP
>>> source.messages, source.lag                                                                    # doctest: +SKIP
(1200, 0)
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from kg.service.intake import Intake, Ticket, event_lines

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Message, TopicPartition

__all__ = ["KafkaSource"]

logger = logging.getLogger(__name__)


class KafkaSource:
    """Consume ``topic`` as ``group`` and feed the intake (see the module docstring).

    Counters, for the metrics (read from any thread): ``messages`` consumed, ``events`` submitted,
    ``rejected`` lines the intake refused, ``committed`` messages, ``batches``, ``failures`` (batches that
    were not ingested and are replayed) and ``lag`` (messages on the assigned partitions after the consumer's
    position; None until known). ``config`` adds or overrides librdkafka settings (e.g. security), except
    ``enable.auto.commit``, which stays off."""

    def __init__(
        self,
        intake: Intake,
        *,
        bootstrap: str,
        topic: str,
        group: str,
        max_messages: int = 5000,
        poll_s: float = 0.2,
        retry_s: float = 1.0,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.intake = intake
        self.topic = topic
        self.max_messages = max_messages
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            **(config or {}),
            "enable.auto.commit": False,  # offsets move only after the ledger holds the events
        }
        self.messages = 0
        self.events = 0
        self.rejected = 0
        self.committed = 0
        self.batches = 0
        self.failures = 0
        self.lag: int | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> KafkaSource:
        """Create the consumer (configuration errors raise here) and start the consumer thread."""
        from confluent_kafka import Consumer

        consumer = Consumer(self.config, logger=logger)
        consumer.subscribe([self.topic])
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(consumer,), name="kg-kafka", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30) -> None:
        """Stop consuming: a batch in flight is committed once ingested; the consumer closes without
        committing anything else (what was not committed is consumed again by the next run)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the consumer thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- the consumer thread ---------------------------------------------------------------------------
    def _run(self, consumer: Consumer) -> None:
        try:
            while not self._stop.is_set():
                batch = consumer.consume(num_messages=self.max_messages, timeout=self.poll_s)
                if batch:
                    self._handle(consumer, batch)
                self._measure_lag(consumer)
        except Exception as e:  # noqa: BLE001 - the thread ends; the metrics show it is not running
            self.last_error = f"{type(e).__name__}: {e}"
            logger.error("kafka source stopped: %s", self.last_error)
        finally:
            consumer.close()  # enable.auto.commit is off: closing commits nothing

    def _handle(self, consumer: Consumer, batch: list[Message]) -> None:
        """Submit one poll's messages, wait until they are ingested, then commit them (or rewind)."""
        firsts: dict[tuple[str, int], int] = {}  # (topic, partition) -> first offset in the batch
        nexts: dict[tuple[str, int], int] = {}  # (topic, partition) -> offset after the last one
        lines: list[str] = []
        messages = 0
        for message in batch:
            error = message.error()
            if error is not None:  # a partition event or a broker error, not data: nothing to ingest
                if not error.retriable() and error.fatal():
                    raise RuntimeError(f"kafka consumer failed: {error.str()}")
                logger.warning("kafka: %s", error.str())
                continue
            key = (message.topic() or self.topic, message.partition() or 0)
            offset = message.offset() or 0
            firsts.setdefault(key, offset)
            nexts[key] = offset + 1
            lines.extend(event_lines(message.value()))
            messages += 1
        if not messages:
            return
        self.messages += messages
        ticket = self._submit(lines)
        if ticket is None or not self._ingested(ticket, messages, len(lines)):
            self._rewind(consumer, firsts)
            return
        self.events += len(lines)
        self.rejected += len(ticket.rejected)
        self.batches += 1
        if self._commit(consumer, _partitions(nexts)):
            self.committed += messages

    def _submit(self, lines: list[str]) -> Ticket | None:
        try:
            return self.intake.submit(lines, source="kafka", flush=True)
        except RuntimeError as e:  # the intake is stopping: what was not committed is consumed again later
            self.last_error = str(e)
            self._stop.set()
            return None

    def _ingested(self, ticket: Ticket, messages: int, lines: int) -> bool:
        """Wait for the batch; False (logged, counted) when it failed or the intake did not finish it."""
        drain_deadline: float | None = None
        try:
            while not ticket.wait_ingested(self.poll_s):
                if self._stop.is_set():  # stopping: give the intake a while to finish the batch
                    drain_deadline = drain_deadline or time.monotonic() + 30
                    if time.monotonic() > drain_deadline:
                        logger.warning("kafka: stopped before %d messages were ingested; not committed", messages)
                        return False
            return True
        except Exception as e:  # noqa: BLE001 - the batch's error (its text is in the intake's log)
            self.failures += 1
            self.last_error = type(e).__name__
            logger.warning(
                "kafka: a batch of %d messages (%d lines) was not ingested (%s); not committed, retrying in %.1f s",
                messages,
                lines,
                type(e).__name__,
                self.retry_s,
            )
            self._stop.wait(self.retry_s)
            return False

    def _rewind(self, consumer: Consumer, firsts: dict[tuple[str, int], int]) -> None:
        """Seek back to the batch's first offsets, so the next poll delivers it again."""
        from confluent_kafka import KafkaException

        for tp in _partitions(firsts):
            try:
                consumer.seek(tp)
            except KafkaException as e:  # no longer assigned: its next owner starts at the committed offset
                logger.info("kafka: could not seek partition %d back (%s)", tp.partition, e)

    def _commit(self, consumer: Consumer, offsets: list[TopicPartition]) -> bool:
        """Commit the offsets after the batch, synchronously (the next batch starts from a known point)."""
        from confluent_kafka import KafkaException

        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            return True
        except KafkaException as e:  # e.g. the partitions moved to another consumer: it replays them, and
            logger.warning("kafka: commit failed (%s); the batch will be replayed", e)  # the ledger dedups
            return False

    def _measure_lag(self, consumer: Consumer) -> None:
        """Best effort: high watermark minus position, summed over the assigned partitions."""
        try:
            assigned = consumer.assignment()
            if not assigned:
                return
            total = 0
            for tp in consumer.position(assigned):
                _, high = consumer.get_watermark_offsets(tp, cached=True)
                if high < 0 or tp.offset < 0:
                    return  # not known yet
                total += max(0, high - tp.offset)
            self.lag = total
        except Exception:  # noqa: BLE001 - a metric only
            return


def _partitions(offsets: dict[tuple[str, int], int]) -> list[TopicPartition]:
    from confluent_kafka import TopicPartition

    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]
