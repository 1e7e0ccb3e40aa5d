"""Small helpers shared by the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafka import KafkaConsumer, TopicPartition

from consumers.lag import consumer_lag
from consumers.publisher import KafkaIntakePublisher, publish_all_blocking
from feedback_core.intake import IntakeSubmission


def publish_to_topic(bootstrap: str, topic: str, submissions: Sequence[IntakeSubmission]) -> None:
    """Publish through the real Kafka publisher, on an event loop of its own thread (the
    browser tests' Playwright keeps a loop running in the main thread)."""
    publish_all_blocking(KafkaIntakePublisher(bootstrap, topic), submissions)


def topic_size(bootstrap: str, topic: str) -> int:
    """How many messages the topic holds (sum of end offsets; no compaction here)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def group_lag(bootstrap: str, group: str, topic: str) -> int:
    return consumer_lag(bootstrap, group, topic)["lag"]
