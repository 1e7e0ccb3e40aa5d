"""The intake subscriber: Kafka intake log → Cases application, in batches.

Offsets are committed only after the event store has committed the batch; a crash in
between re-delivers the batch, and the deterministic aggregate ids turn the re-delivery
into duplicates that are counted and skipped. Messages that cannot be decoded go to the
dead-letter topic (before the commit) so nothing is silently dropped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage

from consumers.outages import store_with_retry
from feedback_core.application import CasesApplication, RecordResult
from feedback_core.intake import IntakeError, IntakeSubmission, from_json

log = logging.getLogger(__name__)


@dataclass
class ConsumerOptions:
    bootstrap_servers: str
    topic: str = "feedback.intake.v1"
    dlq_topic: str = "feedback.intake.dlq.v1"
    group_id: str = "core"
    batch_size: int = 500
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    crash_after_store: bool = False


@dataclass
class DecodedBatch:
    submissions: list[IntakeSubmission] = field(default_factory=list)
    poison: list[tuple[ConsumerRecord[Any, Any], IntakeError]] = field(default_factory=list)
    records: dict[UUID, ConsumerRecord[Any, Any]] = field(default_factory=dict)  # by submission

    def refused(
        self, rejected: Sequence[tuple[UUID, str]]
    ) -> list[tuple[ConsumerRecord[Any, Any], str]]:
        """The records of the submissions the store refused, with the store's reason."""
        return [(self.records[sid], f"refused by the store: {why}") for sid, why in rejected]


def decode_batch(records: Sequence[ConsumerRecord[Any, Any]]) -> DecodedBatch:
    batch = DecodedBatch()
    for record in records:
        try:
            submission = from_json(record.value)
        except IntakeError as exc:
            batch.poison.append((record, exc))
            continue
        batch.submissions.append(submission)
        batch.records[submission.submission_id] = record
    return batch


async def send_to_dead_letters(
    broker: KafkaBroker, dlq_topic: str, poison: Sequence[tuple[ConsumerRecord[Any, Any], object]]
) -> None:
    for record, error in poison:
        await broker.publish(
            record.value,
            topic=dlq_topic,
            key=record.key,
            headers={
                "error": str(error)[:500],
                "source": f"{record.topic}/{record.partition}/{record.offset}",
            },
        )


async def raw_bodies(msg: StreamMessage[Any]) -> Any:
    """FastStream's decoder would parse every record into a message object and
    ``json.loads`` its body, only for ``handle_records`` to decode the raw records again
    with ``from_json`` (which also validates them): keep the raw bodies instead."""
    return msg.body


def build_intake_broker(app: CasesApplication, options: ConsumerOptions) -> KafkaBroker:
    broker = KafkaBroker(
        options.bootstrap_servers, acks="all", enable_idempotence=True, client_id="feedback-core"
    )

    @broker.subscriber(
        options.topic,
        group_id=options.group_id,
        batch=True,
        max_records=options.batch_size,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        session_timeout_ms=options.session_timeout_ms,
        heartbeat_interval_ms=options.heartbeat_interval_ms,
        decoder=raw_bodies,
    )
    async def on_intake(body: list[Any], msg: KafkaMessage) -> None:
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        try:
            await handle_records(broker, app, options, records)
        except Exception:
            log.exception("intake batch failed; rewinding to re-deliver it")
            await msg.nack()
            await anyio.sleep(1.0)
            return
        try:
            await msg.ack()
        except (KafkaError, OSError) as exc:  # Kafka restarting: stored, so re-delivery is safe
            log.warning(
                "intake: offset commit failed (%s); the batch may be re-delivered",
                type(exc).__name__,
            )

    return broker


async def handle_records(
    broker: KafkaBroker,
    app: CasesApplication,
    options: ConsumerOptions,
    records: Sequence[ConsumerRecord[Any, Any]],
) -> RecordResult:
    batch = decode_batch(records)
    await send_to_dead_letters(broker, options.dlq_topic, batch.poison)
    result = await store_with_retry(app, batch.submissions)  # waits out a PostgreSQL restart
    refused = batch.refused(result.rejected)
    await send_to_dead_letters(broker, options.dlq_topic, refused)  # before the ack
    log.info(
        "intake batch: %d stored, %d duplicates, %d dead letters",
        len(result.recorded), len(result.duplicates), len(batch.poison) + len(refused),
    )
    if options.crash_after_store:
        os._exit(17)  # fault injection for tests: die between the store's commit and ours
    return result
