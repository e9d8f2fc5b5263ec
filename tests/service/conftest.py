"""Fixtures of the service tests: one local Kafka broker per session (tests/kafka_broker).

Without ``java`` or ``mvn`` on PATH the Kafka tests skip, saying why, unless ``KG_TEST_KAFKA=required`` (CI),
where that, or a broker that does not start, is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.kafka_broker import LocalKafka, tools_missing


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A real single-node Kafka (KRaft) on a free loopback port for the session; topics auto-create."""
    required = os.environ.get("KG_TEST_KAFKA") == "required"
    missing = tools_missing()
    if missing:
        message = f"no local Kafka broker: {' and '.join(missing)} not on PATH (needs Java 17+ and Maven)"
        if required:
            pytest.fail(f"KG_TEST_KAFKA=required but {message}")
        pytest.skip(message)
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except Exception as e:  # noqa: BLE001 - Maven Central unreachable, Java too old: skip unless required
        if required:
            pytest.fail(f"KG_TEST_KAFKA=required but the local Kafka broker did not start: {e}")
        pytest.skip(f"the local Kafka broker did not start: {e}")
    yield broker
    broker.stop()
