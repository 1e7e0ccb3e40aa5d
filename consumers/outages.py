"""Waiting out outages in the intake consumer: Kafka not up yet at start, PostgreSQL
restarting while a batch is stored.

Both wait with bounded exponential backoff and log one line when the outage begins and one
when it ends (no message content: the batches hold citizens' words).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import anyio
from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from feedback_core.application import CasesApplication, RecordResult
from feedback_core.backoff import Backoff
from feedback_core.database_errors import DATABASE_OUTAGES
from feedback_core.intake import IntakeSubmission

log = logging.getLogger(__name__)

STORE_RETRY_S = 120.0  # well below Kafka's max.poll.interval.ms (300 s): the group keeps us


async def store_with_retry(
    app: CasesApplication,
    submissions: Sequence[IntakeSubmission],
    give_up_after_s: float = STORE_RETRY_S,
    backoff: Backoff | None = None,
) -> RecordResult:
    """``app.record_submissions`` in a worker thread, tried again while PostgreSQL is down.

    A retry after a failure part-way is safe: ids are deterministic, so what was stored is
    reported as duplicates. After ``give_up_after_s`` the error is raised (the caller rewinds
    the batch, which is re-delivered; nothing is acknowledged before it is stored)."""
    backoff = backoff or Backoff()
    began = time.monotonic()
    batch = list(submissions)
    while True:
        try:
            result = await anyio.to_thread.run_sync(app.record_submissions, batch)
        except DATABASE_OUTAGES as exc:
            if time.monotonic() - began > give_up_after_s:
                raise
            if backoff.attempts == 0:
                log.warning(
                    "intake: PostgreSQL unavailable while storing a batch of %d (%s); "
                    "retrying with backoff",
                    len(batch),
                    type(exc).__name__,
                )
            await anyio.sleep(backoff.next_delay())
            continue
        if backoff.attempts:
            log.warning(
                "intake: PostgreSQL back after %.1f s; batch stored", time.monotonic() - began
            )
        return result


async def wait_for_broker(
    bootstrap_servers: str, backoff: Backoff | None = None, give_up_after_s: float | None = None
) -> None:
    """Return once a Kafka broker answers a metadata request; until then retry with backoff
    (forever unless ``give_up_after_s``), so the consumer can be started before Kafka."""
    backoff = backoff or Backoff(maximum_s=5.0)
    began = time.monotonic()
    while True:
        client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
        try:
            await client.bootstrap()
        except (KafkaError, OSError) as exc:
            if give_up_after_s is not None and time.monotonic() - began > give_up_after_s:
                raise
            if backoff.attempts == 0:
                log.warning(
                    "intake: Kafka at %s unavailable (%s); waiting for it",
                    bootstrap_servers,
                    type(exc).__name__,
                )
            await anyio.sleep(backoff.next_delay())
            continue
        finally:
            await client.close()
        if backoff.attempts:
            log.warning("intake: Kafka answered after %.1f s", time.monotonic() - began)
        return
