"""The outbound publisher: the Cases notification log → case notices → Kafka topic
``feedback.case-events.v1`` (key = case id, acks=all, idempotent producer).

It follows the log the way the projection runner does, a page at a time: it turns the
page's citizen-facing case events into notices (each from the case as it stood right
after the event), hands them to a sink, and only when the sink has them (Kafka has
acknowledged every record) moves its position, kept in PostgreSQL table
``outbound.position`` (one row per publisher), with a compare-and-set.

At-least-once: a crash between Kafka's acknowledgement and the position's commit publishes
the page again on restart. Notice ids are a function of the case and its version, so the
notifier recognises the copies and sends nothing twice (``outbound.sent``).

Synchronous by design, like ``projections.runner``: reading the log and committing the
position are blocking calls (the library's recorder and psycopg), the unit of work is a
page, and the volume is small (a few notices per case over weeks), so the producer is
kafka-python's ``KafkaProducer``, blocking until the page is acknowledged. It runs in a
thread of ``feedback run`` or as the process ``feedback outbound``; ``run_async`` runs the
same pages in a worker thread for callers that live in an event loop.

The same module owns the ``outbound`` schema: the position, and the notifier's record of
what it sent, what failed and which messages it could not read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

import anyio
import psycopg
from eventsourcing.application import Application
from psycopg import Connection, sql

from consumers.notices import NOTIFIED_EVENTS, CaseNotice, notice_for, to_json
from feedback_core.privacy.keyed import AddressHasher

log = logging.getLogger(__name__)

CASE_EVENTS_TOPIC = "feedback.case-events.v1"
DEFAULT_SCHEMA = "outbound"
DEFAULT_PUBLISHER = "case-events"

_DDL = (
    """CREATE TABLE IF NOT EXISTS {schema}.position (
        publisher text PRIMARY KEY,
        notification_id bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    # What the notifier sent: one row per notice, address and channel, written before the
    # Kafka offset is committed; a re-delivered notice finds its rows and is skipped.
    # ``recipient`` is a keyed hash of the address ("ah1:...", docs/privacy.md); rows
    # written before hashing hold it in clear until an erasure hashes them.
    """CREATE TABLE IF NOT EXISTS {schema}.sent (
        notice_id uuid NOT NULL,
        recipient text NOT NULL,
        channel text NOT NULL,
        case_id uuid NOT NULL,
        kind text NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (notice_id, recipient, channel))""",
    # What could not be sent after the retries (or not at all: no channel, too old); kept
    # when a later re-delivery succeeds, so the fact is never lost. Outstanding failures
    # are the rows without a matching row in ``sent``.
    """CREATE TABLE IF NOT EXISTS {schema}.failed (
        notice_id uuid NOT NULL,
        recipient text NOT NULL,
        channel text NOT NULL,
        case_id uuid NOT NULL,
        tracking_code text NOT NULL,
        kind text NOT NULL,
        attempts int NOT NULL,
        error text NOT NULL,
        first_failed_at timestamptz NOT NULL DEFAULT now(),
        last_failed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (notice_id, recipient, channel))""",
    """CREATE INDEX IF NOT EXISTS failed_by_case ON {schema}.failed (case_id)""",
    # Messages of the topic that are not notices this notifier can read (by offset).
    """CREATE TABLE IF NOT EXISTS {schema}.rejected (
        source text PRIMARY KEY,
        error text NOT NULL,
        rejected_at timestamptz NOT NULL DEFAULT now())""",
)


def ddl(schema: str = DEFAULT_SCHEMA) -> list[sql.Composed]:
    name = sql.Identifier(schema)
    return [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name),
        *(sql.SQL(statement).format(schema=name) for statement in _DDL),  # type: ignore[arg-type]
    ]


HASH_PREFIX = AddressHasher.PREFIX
ERASED_ERROR = "(đã xoá theo yêu cầu)"  # an erased case's failure text: it may name the address


def forget_case_addresses(
    conn: Connection[Any], case_id: UUID, hashed: Callable[[str], str],
    schema: str = DEFAULT_SCHEMA,
) -> int:
    """On erasure: a case's rows in ``sent`` and ``failed`` keep only keyed hashes (old clear
    addresses hashed in place) and its failures lose their error text. Returns the rows
    changed. Idempotent; the caller commits."""
    changed = 0
    for table in ("sent", "failed"):
        name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        clear = conn.execute(
            sql.SQL(
                "SELECT DISTINCT recipient FROM {} WHERE case_id = %s AND recipient NOT LIKE %s"
            ).format(name),
            (case_id, f"{HASH_PREFIX}%"),
        ).fetchall()
        for (address,) in clear:
            # a hashed twin may exist (a failure retried after the upgrade): keep one row
            conn.execute(
                sql.SQL(
                    "DELETE FROM {t} c WHERE c.case_id = %s AND c.recipient = %s AND EXISTS "
                    "(SELECT 1 FROM {t} h WHERE h.notice_id = c.notice_id "
                    "AND h.channel = c.channel AND h.recipient = %s)"
                ).format(t=name),
                (case_id, address, hashed(address)),
            )
            changed += conn.execute(
                sql.SQL("UPDATE {} SET recipient = %s WHERE case_id = %s AND recipient = %s")
                .format(name),
                (hashed(address), case_id, address),
            ).rowcount
    failed = sql.SQL("{}.failed").format(sql.Identifier(schema))
    changed += conn.execute(
        sql.SQL("UPDATE {} SET error = %s WHERE case_id = %s AND error <> %s").format(failed),
        (ERASED_ERROR, case_id, ERASED_ERROR),
    ).rowcount
    return changed


def create_outbound_schema(conn: Connection[Any], schema: str = DEFAULT_SCHEMA) -> None:
    """Create the schema and its tables if missing (idempotent; processes take turns)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"outbound:{schema}",))
        for statement in ddl(schema):
            conn.execute(statement)


class NoticeSink(Protocol):
    def publish(self, notices: Sequence[CaseNotice]) -> None:
        """Return only once every notice is safely handed over; raise otherwise."""
        ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, object]: ...


class KafkaNoticeSink:
    """Publishes notices to the case-events topic and blocks until Kafka acknowledged all."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = CASE_EVENTS_TOPIC,
        client_id: str = "feedback-outbound",
        timeout_s: float = 60.0,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.client_id = client_id
        self.timeout_s = timeout_s
        self.producer: Any = self._producer()  # fails at once when Kafka cannot be reached

    def _producer(self) -> Any:
        from kafka import KafkaProducer

        return KafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=min(30_000, int(self.timeout_s * 1000) // 2),
            delivery_timeout_ms=int(self.timeout_s * 1000),
            max_block_ms=int(self.timeout_s * 1000),  # waiting for metadata, or for buffer
        )

    def publish(self, notices: Sequence[CaseNotice]) -> None:
        producer = self.producer = self.producer or self._producer()
        try:
            futures = [
                producer.send(
                    self.topic,
                    key=str(notice.case_id).encode(),
                    value=to_json(notice),
                    headers=[
                        ("content-type", b"application/json"),
                        ("schema_version", str(notice.schema_version).encode()),
                        ("kind", notice.kind.value.encode()),
                    ],
                )
                for notice in notices
            ]
            producer.flush(timeout=self.timeout_s)
            for future in futures:
                future.get(timeout=self.timeout_s)  # raises the send's error, if any
        except Exception:
            # The next attempt starts with a fresh producer (and producer id) rather than
            # one whose sequence numbers may be out of step with the broker.
            self.producer = None
            producer.close(timeout=0)
            raise

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=self.timeout_s)
            self.producer = None

    def describe(self) -> dict[str, object]:
        return {"kind": "kafka", "bootstrap_servers": self.bootstrap_servers, "topic": self.topic}


def notices_for(app: Application[Any], events: Sequence[Any]) -> list[CaseNotice]:
    """The notices of a page of domain events, in log order."""
    notices = []
    for event in events:
        if type(event) not in NOTIFIED_EVENTS:
            continue
        case: Any = app.repository.get(event.originator_id, version=event.originator_version)
        notice = notice_for(event, case)
        if notice is not None:
            notices.append(notice)
    return notices


class PositionMoved(RuntimeError):
    """Another publisher with the same name moved the position: run one per name."""


class OutboundPublisher:
    def __init__(
        self,
        app: Application[Any],
        conninfo: str,
        sink: NoticeSink,
        name: str = DEFAULT_PUBLISHER,
        schema: str = DEFAULT_SCHEMA,
        page_size: int = 500,
    ) -> None:
        self.app = app
        self.sink = sink
        self.name = name
        self.schema = schema
        self.page_size = page_size
        self.published = 0  # notices handed to the sink by this object (a counter for logs)
        self.conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
        create_outbound_schema(self.conn, schema)
        self._table = sql.SQL("{}.position").format(sql.Identifier(schema))
        self._stop = threading.Event()

    def position(self) -> int:
        row = self.conn.execute(
            sql.SQL("SELECT notification_id FROM {} WHERE publisher = %s").format(self._table),
            (self.name,),
        ).fetchone()
        return int(row[0]) if row else 0

    def lag(self) -> dict[str, int]:
        head = self.app.recorder.max_notification_id() or 0
        position = self.position()
        return {"position": position, "head": head, "lag": head - position}

    def reset(self, position: int = 0) -> None:
        """Publish again from ``position`` (an operator's re-send of failures, or a test);
        the notifier skips what it has already sent."""
        self.conn.execute(
            sql.SQL(
                "INSERT INTO {} AS p (publisher, notification_id) VALUES (%s, %s) "
                "ON CONFLICT (publisher) DO UPDATE SET notification_id = EXCLUDED.notification_id,"
                " updated_at = now()"
            ).format(self._table),
            (self.name, position),
        )

    def reset_to_head(self) -> int:
        """Skip everything already in the log (first start on an old store)."""
        head = self.app.recorder.max_notification_id() or 0
        self.reset(head)
        return head

    def process_page(self) -> int:
        """Publish the notices of the next page of the log, then move the position past the
        page; returns how many notifications the page held (0: nothing new)."""
        start = self.position()
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.page_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        notices = notices_for(self.app, events)
        if notices:
            self.sink.publish(notices)  # blocks until acknowledged; raises otherwise
            self.published += len(notices)
            log.info("outbound: %d notices published up to notification %d",
                     len(notices), notifications[-1].id)
        self._advance(start, notifications[-1].id)
        return len(notifications)

    def _advance(self, expected: int, position: int) -> None:
        cur = self.conn.execute(
            sql.SQL(
                "INSERT INTO {} AS p (publisher, notification_id) VALUES (%(name)s, %(pos)s) "
                "ON CONFLICT (publisher) DO UPDATE SET notification_id = %(pos)s, "
                "updated_at = now() WHERE p.notification_id = %(expected)s"
            ).format(self._table),
            {"name": self.name, "pos": position, "expected": expected},
        )
        if cur.rowcount != 1:
            raise PositionMoved(
                f"outbound publisher {self.name!r} was moved by another process; "
                "run one publisher per name"
            )

    def catch_up(self) -> int:
        """Process pages until the log has nothing newer; returns the notifications read."""
        total = 0
        while count := self.process_page():
            total += count
        return total

    def run_forever(
        self, stop_event: threading.Event | None = None, poll_interval: float = 0.5,
        retry_interval: float = 5.0,
    ) -> None:
        """Follow the log until ``stop_event`` (or ``stop()``); a failed page (Kafka or the
        database away) is logged and tried again after ``retry_interval``."""
        if stop_event is not None:
            self._stop = stop_event  # stop() sets the caller's event too
        stop = self._stop
        while not stop.is_set():
            try:
                idle = not self.catch_up()
            except PositionMoved:
                raise
            except Exception:
                log.exception("outbound page failed; trying again in %.0f s", retry_interval)
                stop.wait(retry_interval)
                continue
            if idle:
                stop.wait(poll_interval)

    async def run_async(self, stop: anyio.Event, poll_interval: float = 0.5,
                        retry_interval: float = 5.0) -> None:
        """The same loop for an event loop's task: each page runs in a worker thread."""
        while not stop.is_set():
            try:
                count = await anyio.to_thread.run_sync(self.catch_up)
            except PositionMoved:
                raise
            except Exception:
                log.exception("outbound page failed; trying again in %.0f s", retry_interval)
                count, wait = 0, retry_interval
            else:
                wait = poll_interval
            if not count:
                with anyio.move_on_after(wait):
                    await stop.wait()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self.sink.close()
        self.conn.close()
