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
from aiokafka.errors import KafkaError
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


class IntakeUnavailable(RuntimeError):
    """The intake log did not acknowledge a submission in time (Kafka down or overloaded):
    the sender is refused and asked to try again. The message may still reach the log
    later; the retry carries the same submission id, so the core stores it once."""


class KafkaIntakePublisher:
    """Publishes to the intake topic and returns once every in-sync replica has it.

    ``timeout_s`` bounds the wait for that acknowledgement (None: wait as long as the
    client does, for tools); beyond it :class:`IntakeUnavailable` is raised, so a citizen
    is never kept waiting while the broker is down.
    """

    def __init__(self, bootstrap_servers: str, topic: str, timeout_s: float | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout_s = timeout_s
        self.broker = producer_broker(bootstrap_servers)

    async def start(self) -> None:
        await self.broker.start()

    async def publish(self, submission: IntakeSubmission) -> None:
        # asyncio's own timeout: anyio's cancel scope cost the web ≈ 4 % of its CPU per POST
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.broker.publish(
                    to_json(submission),
                    topic=self.topic,
                    key=submission.unit_id.encode(),
                    headers={SCHEMA_HEADER: str(submission.schema_version)},
                )
        except TimeoutError as exc:
            raise IntakeUnavailable(
                f"{self.topic} on {self.bootstrap_servers} did not acknowledge "
                f"in {self.timeout_s} s"
            ) from exc
        except KafkaError as exc:
            raise IntakeUnavailable(f"{self.topic} on {self.bootstrap_servers}: {exc}") from exc

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
