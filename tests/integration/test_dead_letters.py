"""An intake message the core cannot decode goes to the dead-letter topic, and the good
messages around it are stored: nothing accepted is dropped, nothing blocks the log."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer

from feedback_core.identity import tracking_code_for
from feedback_core.intake import to_json
from tests.integration.helpers import group_lag, wait_until
from tests.support.platform import LivePlatform
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


def test_poison_goes_to_the_dead_letter_topic(platform: LivePlatform) -> None:
    settings = platform.settings
    bootstrap = settings.kafka_bootstrap_servers
    good = submission()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value in (b"{not json", to_json(good), b'{"schema_version": 99}'):
        producer.send(settings.intake_topic, key=b"nhat-tan", value=value)
    producer.flush()
    producer.close()

    platform.wait_for_submission(tracking_code_for(good.submission_id))
    wait_until(
        lambda: group_lag(bootstrap, settings.consumer_group, settings.intake_topic) == 0,
        60, "the consumer to commit past the poison",
    )
    consumer = KafkaConsumer(
        settings.dlq_topic, bootstrap_servers=bootstrap,
        auto_offset_reset="earliest", consumer_timeout_ms=5000,
    )
    try:
        dead = [(m.value, dict(m.headers)) for m in consumer]
    finally:
        consumer.close()
    assert sorted(v for v, _ in dead) == sorted([b"{not json", b'{"schema_version": 99}'])
    for _, headers in dead:
        assert headers["error"] and headers["source"].decode().startswith(settings.intake_topic)
