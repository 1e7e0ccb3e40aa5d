"""The notifier: case notices from topic ``feedback.case-events.v1`` → e-mail, SMS, Zalo.

A FastStream subscriber (group ``notifier``, manual ack): for each notice, each recipient
and each configured channel that can reach the recipient, it sends the rendered message
and records ``(notice_id, address, channel)`` in ``outbound.sent`` before the Kafka offset
is committed. A row already there means sent before (a re-delivered or re-published
notice): skipped. So each citizen hears once per step, except when the process dies between
the channel's acceptance and the row's commit, when the next delivery sends again
(at-least-once; e-mail keeps the same Message-ID then).

A send that fails is tried again with a doubling back-off (``DeliveryPolicy``); after the
last attempt, or at once for a permanent refusal, the failure is recorded in
``outbound.failed`` and the notifier moves on: one bad address never holds up the topic,
and no failure goes unrecorded. A notice older than ``max_age`` is recorded as expired
rather than sent (a notifier started late must not tell a citizen today about last month).
A message that is not a readable notice goes to ``outbound.rejected`` (by offset) and is
acknowledged. Only a failure of the notifier's own database leaves the message un-acked
(it is read again a second later).

Concurrent deliveries of the same notice (two notifiers during a rebalance) take turns on
a PostgreSQL advisory lock on the notice id, so the second one sees the first one's rows.

Without Kafka (the embedded default), ``InProcessNoticeSink`` lets the outbound publisher
hand each page to the same delivery code in its own thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from consumers.channels import Channel, PermanentChannelError
from consumers.notices import (
    CaseNotice,
    Message,
    NoticeError,
    Recipient,
    UnitName,
    from_json,
    render,
    unique_recipients,
)
from consumers.outbound import CASE_EVENTS_TOPIC, DEFAULT_SCHEMA, ddl
from feedback_core.privacy.keyed import address_hasher
from feedback_core.privacy.postgres import open_vault
from feedback_core.privacy.sealing import is_sealed
from feedback_core.privacy.vault import PersonalDataVault, reveal_text
from feedback_core.settings import Settings

log = logging.getLogger(__name__)

LOCK_CLASS = 0x6E6F74  # first key of the advisory lock held while a notice is delivered
NO_CHANNEL = "none"


@dataclass
class NotifierOptions:
    bootstrap_servers: str
    topic: str = CASE_EVENTS_TOPIC
    group_id: str = "notifier"
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    # Retries with back-off can keep one message for minutes: allow it between polls.
    max_poll_interval_ms: int = 15 * 60 * 1000


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts: int = 3  # tries per channel and recipient before recording a failure
    backoff_s: float = 2.0  # wait before the 2nd try; doubled before each further one
    max_age: timedelta | None = timedelta(days=7)  # older notices are not sent; None: any


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0  # already sent (a re-delivery)
    failed: int = 0  # recorded in outbound.failed (includes expired and unreachable)
    failures: list[str] = field(default_factory=list)


def mask(address: str) -> str:
    """An address for the logs: ``a***@example.vn``, ``+849***78``."""
    if "@" in address:
        user, _, domain = address.partition("@")
        return f"{user[:1]}***@{domain}"
    return f"{address[:4]}***{address[-2:]}" if len(address) > 6 else "***"


class NoticeDelivery:
    """Sends notices through the channels and keeps the record in the ``outbound`` schema."""

    def __init__(
        self,
        conninfo: str,
        channels: Sequence[Channel],
        base_url: str,
        *,
        unit_name: UnitName | None = None,
        policy: DeliveryPolicy | None = None,
        schema: str = DEFAULT_SCHEMA,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        personal_data: PersonalDataVault | None = None,
        address_hash: Callable[[str], str] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.personal_data = personal_data  # opens the sealed addresses at send time
        # outbound.sent/failed keep a keyed hash of the address, never the address
        self._address_hash = address_hash
        self.channels = list(channels)
        self.base_url = base_url
        self.unit_name = unit_name
        self.policy = policy or DeliveryPolicy()
        self.schema = schema
        self.clock = clock
        self.sleep = sleep
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        name = sql.Identifier(schema)
        self._sent = sql.SQL("{}.sent").format(name)
        self._failed = sql.SQL("{}.failed").format(name)
        self._rejected = sql.SQL("{}.rejected").format(name)

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        conn = await AsyncConnection.connect(self.conninfo, autocommit=True)
        async with conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"outbound:{self.schema}",)
            )
            for statement in ddl(self.schema):
                await conn.execute(statement)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            self.conninfo, min_size=1, max_size=2, open=False,
            kwargs={"autocommit": True, "prepare_threshold": None},
        )  # fmt: skip
        await pool.open(wait=True)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # --- one message of the topic --------------------------------------------------------

    async def handle_record(self, raw: bytes | None, source: str) -> DeliveryReport | None:
        """Decode and deliver; an unreadable message is recorded as rejected (None)."""
        try:
            notice = from_json(raw or b"")
        except NoticeError as exc:
            log.warning("notifier: rejected %s: %s", source, exc)
            await self.reject(source, str(exc))
            return None
        return await self.deliver(notice)

    async def reject(self, source: str, error: str) -> None:
        await self.open()
        assert self._pool is not None
        async with self._pool.connection() as conn:
            await conn.execute(
                sql.SQL(
                    "INSERT INTO {} (source, error) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                ).format(self._rejected),
                (source, error[:1000]),
            )

    async def deliver(self, notice: CaseNotice) -> DeliveryReport:
        await self.open()
        assert self._pool is not None
        report = DeliveryReport()
        message = render(notice, self.base_url, self.unit_name)
        recipients = await anyio.to_thread.run_sync(self.reveal_recipients, notice.recipients)
        lock = (LOCK_CLASS, str(notice.notice_id))
        async with self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", lock)
            try:
                for recipient in recipients:
                    await self._deliver_to(conn, notice, message, recipient, report)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", lock)
        log.info(
            "notice %s (%s %s): %d sent, %d already sent, %d failed",
            notice.notice_id, notice.kind.value, notice.tracking_code,
            report.sent, report.skipped, report.failed,
        )  # fmt: skip
        return report

    def reveal_recipients(self, sealed: Sequence[Recipient]) -> tuple[Recipient, ...]:
        """The addresses in clear, read now: an erased (or unreadable) one is left out, so
        a citizen whose data was erased hears nothing more (docs/privacy.md)."""
        if self.personal_data is None and any(
            is_sealed(r.email) or is_sealed(r.phone) or is_sealed(r.zalo) for r in sealed
        ):  # the keys beside the outbound schema, the master key from the configuration
            self.personal_data = open_vault(self.conninfo, Settings().personal_data_master)
        vault = self.personal_data
        opened = [
            (reveal_text(vault, r.email).text, reveal_text(vault, r.phone).text,
             reveal_text(vault, r.zalo).text)
            for r in sealed
        ]  # fmt: skip
        return unique_recipients(opened)

    async def _deliver_to(
        self,
        conn: AsyncConnection[Any],
        notice: CaseNotice,
        message: Message,
        recipient: Recipient,
        report: DeliveryReport,
    ) -> None:
        channels = [c for c in self.channels if c.can_reach(recipient)]
        if not channels:
            address = recipient.email or recipient.phone or recipient.zalo
            error = "no configured channel can reach this recipient"
            await self._record_failure(conn, notice, address, NO_CHANNEL, 0, error, report)
            return
        for channel in channels:
            address = channel.address(recipient)
            if await self._was_sent(conn, notice, address, channel.name):
                report.skipped += 1
                continue
            if self._expired(notice):
                error = f"expired: older than {self.policy.max_age}, not sent"
                await self._record_failure(conn, notice, address, channel.name, 0, error, report)
                continue
            attempts, failure = await self._send(channel, recipient, message)
            if failure is None:
                await self._record_sent(conn, notice, address, channel.name)
                report.sent += 1
            else:
                log.warning("notice %s to %s by %s failed after %d attempt(s): %s",
                            notice.notice_id, mask(address), channel.name, attempts, failure)
                await self._record_failure(
                    conn, notice, address, channel.name, attempts, failure, report
                )

    def hashed(self, address: str) -> str:
        """How the record names an address: HMAC with a key from the master key (the
        configured one unless given), so de-duplication works and nothing is readable."""
        if self._address_hash is None:
            self._address_hash = address_hasher(Settings().personal_data_master)
        return self._address_hash(address)

    def _expired(self, notice: CaseNotice) -> bool:
        max_age = self.policy.max_age
        return max_age is not None and notice.at < self.clock() - max_age

    async def _send(
        self, channel: Channel, recipient: Recipient, message: Message
    ) -> tuple[int, str | None]:
        """(attempts made, None) when sent; (attempts made, last error) otherwise."""
        attempts = max(1, self.policy.attempts)
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                await channel.send(recipient, message)
                return attempt, None
            except PermanentChannelError as exc:
                return attempt, str(exc)
            except Exception as exc:  # a ChannelError, or an adapter's bug: never stop here
                error = f"{type(exc).__name__}: {exc}"
                if attempt < attempts:
                    await self.sleep(self.policy.backoff_s * 2 ** (attempt - 1))
        return attempts, error

    # --- the record ------------------------------------------------------------------------

    async def _was_sent(
        self, conn: AsyncConnection[Any], notice: CaseNotice, address: str, channel: str
    ) -> bool:
        cur = await conn.execute(  # rows written before hashing name the address in clear
            sql.SQL(
                "SELECT 1 FROM {} WHERE notice_id = %s AND recipient = ANY(%s) AND channel = %s"
            ).format(self._sent),
            (notice.notice_id, [self.hashed(address), address], channel),
        )
        return await cur.fetchone() is not None

    async def _record_sent(
        self, conn: AsyncConnection[Any], notice: CaseNotice, address: str, channel: str
    ) -> None:
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (notice_id, recipient, channel, case_id, kind) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
            ).format(self._sent),
            (notice.notice_id, self.hashed(address), channel, notice.case_id,
             notice.kind.value),
        )  # fmt: skip

    async def _record_failure(
        self,
        conn: AsyncConnection[Any],
        notice: CaseNotice,
        address: str,
        channel: str,
        attempts: int,
        error: str,
        report: DeliveryReport,
    ) -> None:
        await conn.execute(
            sql.SQL(
                "INSERT INTO {t} AS f (notice_id, recipient, channel, case_id, tracking_code,"
                " kind, attempts, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (notice_id, recipient, channel) DO UPDATE SET "
                "attempts = f.attempts + EXCLUDED.attempts, error = EXCLUDED.error, "
                "last_failed_at = now()"
            ).format(t=self._failed),
            (notice.notice_id, self.hashed(address), channel, notice.case_id,
             notice.tracking_code, notice.kind.value, attempts,
             (error.replace(address, mask(address)) if address else error)[:1000]),
        )  # fmt: skip
        report.failed += 1
        report.failures.append(f"{channel}: {error}")


# --- Kafka ---------------------------------------------------------------------------------


def build_notifier_broker(delivery: NoticeDelivery, options: NotifierOptions) -> KafkaBroker:
    """A broker whose one subscriber delivers each notice, then commits its offset."""
    broker = KafkaBroker(options.bootstrap_servers, client_id="feedback-notifier")

    @broker.subscriber(
        options.topic,
        group_id=options.group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        session_timeout_ms=options.session_timeout_ms,
        heartbeat_interval_ms=options.heartbeat_interval_ms,
        max_poll_interval_ms=options.max_poll_interval_ms,
    )
    async def on_notice(body: Any, msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert not isinstance(record, tuple)  # one record per call (no batch=True)
        source = f"{record.topic}/{record.partition}/{record.offset}"
        try:
            await delivery.handle_record(record.value, source)
        except Exception:
            log.exception("notifier: %s failed (database?); reading it again", source)
            await msg.nack()
            await anyio.sleep(1.0)
            return
        await msg.ack()

    return broker


# --- without Kafka ---------------------------------------------------------------------------


class InProcessNoticeSink:
    """The embedded default: the outbound publisher hands each page of notices straight to
    the delivery, on an event loop of the publisher's own thread. The publisher moves its
    position only after every notice of the page is sent or recorded as failed."""

    def __init__(self, delivery: NoticeDelivery) -> None:
        self.delivery = delivery
        self._loop: asyncio.AbstractEventLoop | None = None
        # The loop lives on a thread of its own, so callers whose thread already runs a
        # loop (an async app, a test harness) can publish too.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notices")

    def _run(self, coroutine: Awaitable[Any]) -> Any:
        def run() -> Any:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(coroutine)  # type: ignore[arg-type]

        return self._thread.submit(run).result()

    def publish(self, notices: Sequence[CaseNotice]) -> None:
        for notice in notices:
            self._run(self.delivery.deliver(notice))

    def close(self) -> None:
        if self._loop is not None:
            self._run(self.delivery.close())
            loop, self._loop = self._loop, None
            self._thread.submit(loop.close).result()
        self._thread.shutdown()

    def describe(self) -> dict[str, object]:
        return {"kind": "in-process", "channels": [c.name for c in self.delivery.channels]}
