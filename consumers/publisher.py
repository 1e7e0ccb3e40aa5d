"""Publishing intake submissions: to the Kafka intake log, or in-process when no Kafka.

Kafka publishing waits for acks from all in-sync replicas with an idempotent producer;
the key is the unit, so one unit's submissions keep their order in one partition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import anyio
from faststream.kafka import KafkaBroker

from feedback_core.application import CasesApplication
from feedback_core.intake import IntakeSubmission, to_json

SCHEMA_HEADER = "schema_version"


class IntakePublisher(Protocol):
    async def start(self) -> None: ...

    async def publish(self, submission: IntakeSubmission) -> None: ...

    async def stop(self) -> None: ...

    def describe(self) -> dict[str, object]: ...


async def publish_all(publisher: IntakePublisher, submissions: Sequence[IntakeSubmission]) -> None:
    """Start the publisher, publish in order, stop it (seeding, tests, benchmarks)."""
    await publisher.start()
    try:
        for submission in submissions:
            await publisher.publish(submission)
    finally:
        await publisher.stop()


def publish_all_blocking(
    publisher: IntakePublisher, submissions: Sequence[IntakeSubmission]
) -> None:
    """``publish_all`` for synchronous callers (tools, tests), on an event loop of its own
    thread, so it works whether or not the caller's thread already runs a loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, publish_all(publisher, submissions)).result()


def producer_broker(bootstrap_servers: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        client_id="feedback-web",
        logger=None,
    )


class KafkaIntakePublisher:
    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.broker = producer_broker(bootstrap_servers)

    async def start(self) -> None:
        await self.broker.start()

    async def publish(self, submission: IntakeSubmission) -> None:
        await self.broker.publish(
            to_json(submission),
            topic=self.topic,
            key=submission.unit_id.encode(),
            headers={SCHEMA_HEADER: str(submission.schema_version)},
        )

    async def stop(self) -> None:
        await self.broker.stop()

    def describe(self) -> dict[str, object]:
        return {"kind": "kafka", "bootstrap_servers": self.bootstrap_servers, "topic": self.topic}


class InProcessIntakePublisher:
    """The embedded default: hands each submission straight to the intake handler."""

    def __init__(self, app: CasesApplication) -> None:
        self.app = app

    async def start(self) -> None:
        return None

    async def publish(self, submission: IntakeSubmission) -> None:
        await anyio.to_thread.run_sync(self.app.record_submissions, [submission])

    async def stop(self) -> None:
        return None

    def describe(self) -> dict[str, object]:
        return {"kind": "in-process"}
