"""Citizens hear back: case events → outbound publisher → Apache Kafka → notifier → a real
SMTP server (aiosmtpd on 127.0.0.1), with the record of what was sent in PostgreSQL.

Every citizen on a merged case gets the e-mails; no internal note is ever in one; publishing
everything again from position zero sends nothing twice; a failing mail server is retried,
then recorded, and never holds up the topic."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer

from consumers.channels import Channel, EmailChannel
from consumers.notices import Recipient, render
from consumers.notifier import (
    DeliveryPolicy,
    InProcessNoticeSink,
    NoticeDelivery,
    NotifierOptions,
    build_notifier_broker,
)
from consumers.outbound import KafkaNoticeSink, OutboundPublisher
from feedback_core.application import CasesApplication
from feedback_core.privacy.keyed import address_hasher
from feedback_core.privacy.vault import reveal_text
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import group_lag, topic_size, wait_until
from tests.integration.test_notifier_channels import (
    MailSink,
    free_port,
    run_async,
    smtp_server,
    smtp_settings,
)
from tests.integration.test_outbound import (
    SECRET,
    case_events_topic,
    read_topic,
    tell_the_story,
)
from tests.support.channels import FlakyChannel
from tests.unit.test_notices import sample_notice

pytestmark = pytest.mark.integration

BASE = "https://phananh.example.vn"


def hashed(address: str) -> str:
    """How outbound.sent/failed name an address: a keyed hash (docs/privacy.md)."""
    return address_hasher(Settings().personal_data_master)(address)
FAST = DeliveryPolicy(attempts=3, backoff_s=0.05)


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database)
    try:
        yield application
    finally:
        application.close()


@contextmanager
def running_notifier(
    database: Database, bootstrap: str, topic: str, channels: Sequence[Channel],
    policy: DeliveryPolicy = FAST,
) -> Iterator[NotifierOptions]:
    """The notifier's FastStream broker on an event loop of its own thread."""
    options = NotifierOptions(
        bootstrap_servers=bootstrap, topic=topic, group_id=f"notifier-{topic}",
        session_timeout_ms=6000,
    )  # fmt: skip
    stop = threading.Event()
    started = threading.Event()
    errors: list[BaseException] = []

    async def main() -> None:
        delivery = NoticeDelivery(database.conninfo, channels, BASE, policy=policy)
        broker = build_notifier_broker(delivery, options)
        await broker.start()
        started.set()
        try:
            while not stop.is_set():
                await asyncio.sleep(0.05)
        finally:
            await broker.stop()
            await delivery.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=run, name="notifier", daemon=True)
    thread.start()
    started.wait(60)
    if errors:
        raise RuntimeError("the notifier did not start") from errors[0]
    try:
        yield options
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors


def rows(database: Database, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.conninfo) as conn:
        return conn.execute(query).fetchall()


def test_citizens_hear_back_by_email(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    story = tell_the_story(app)
    topic = case_events_topic(bootstrap)
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))
    try:
        publisher.catch_up()
        with (
            smtp_server() as (mail, port),
            running_notifier(
                database, bootstrap, topic, [EmailChannel(smtp_settings(port))]
            ) as options,
        ):
            expected = story.expected_mail()
            wait_until(lambda: mail.count() == len(expected), 90, "the e-mails to arrive")
            wait_until(lambda: group_lag(bootstrap, options.group_id, topic) == 0, 60,
                       "the notifier to commit its offsets")

            received = sorted(
                (m.envelope_to[0], str(m.message["Subject"])) for m in mail.received
            )
            notices = [notice for _, _, notice, _ in read_topic(bootstrap, topic)]
            # The topic carries the addresses sealed (docs/privacy.md); opened here.
            assert received == sorted(
                (reveal_text(app.personal_data, r.email).text, render(n, BASE).subject)
                for n in notices for r in n.recipients
            )
            for to, case_id, _kind in expected:
                assert any(story.code(case_id) in subject for who, subject in received
                           if who == to)
            for m in mail.received:
                assert m.message["To"] == m.envelope_to[0]
                assert SECRET not in m.body and "canbo.nhattan" not in m.body
                assert "GHI-CHÚ-NỘI-BỘ" not in m.body
            answer_to_c = [m for m in mail.to("c@example.vn") if story.code(story.b) in
                           str(m.message["Subject"]) and "trả lời" in str(m.message["Subject"])]
            assert "Đã bố trí thêm cán bộ tại quầy." in answer_to_c[0].body
            assert f"{BASE}/t/{story.code(story.b)}" in answer_to_c[0].body

            # Publish everything again from position 0: the notifier reads every notice
            # a second time and sends none of them again.
            publisher.reset(0)
            publisher.catch_up()
            assert topic_size(bootstrap, topic) == 12
            wait_until(lambda: group_lag(bootstrap, options.group_id, topic) == 0, 60,
                       "the notifier to read the copies")
            assert mail.count() == len(expected)
    finally:
        publisher.close()
    sent = rows(database, "SELECT recipient, channel, kind FROM outbound.sent")
    assert sorted(sent) == sorted((hashed(to), "email", kind.value) for to, _, kind in expected)
    assert rows(database, "SELECT * FROM outbound.failed") == []


def test_a_mail_server_down_is_recorded_and_retried_by_publishing_again(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    story = tell_the_story(app)
    expected = story.expected_mail()
    topic = case_events_topic(bootstrap)
    port = free_port()  # nobody listens there yet
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))
    channel = EmailChannel(smtp_settings(port, timeout_s=2.0))
    try:
        publisher.catch_up()
        with running_notifier(database, bootstrap, topic, [channel]) as options:
            wait_until(lambda: group_lag(bootstrap, options.group_id, topic) == 0, 120,
                       "the notifier to move past every notice")
            failed = rows(database, "SELECT recipient, channel, attempts, error FROM "
                                    "outbound.failed")
            assert len(failed) == len(expected)
            assert all(channel == "email" and attempts == 3 and "SMTP" in error
                       for _, channel, attempts, error in failed)

            with smtp_server(port=port) as (mail, _):
                publisher.reset(0)  # the operator re-publishes once the server is back
                publisher.catch_up()
                wait_until(lambda: mail.count() == len(expected), 90, "the e-mails, at last")
                wait_until(lambda: group_lag(bootstrap, options.group_id, topic) == 0, 60,
                           "the notifier to commit")
    finally:
        publisher.close()
    assert len(rows(database, "SELECT * FROM outbound.sent")) == len(expected)
    still_failing = rows(
        database,
        "SELECT f.* FROM outbound.failed f LEFT JOIN outbound.sent s USING "
        "(notice_id, recipient, channel) WHERE s.notice_id IS NULL",
    )
    assert still_failing == [] and len(rows(database, "SELECT * FROM outbound.failed")) == 8


def test_a_refused_address_does_not_hold_up_the_others(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    story = tell_the_story(app)
    topic = case_events_topic(bootstrap)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, key=b"junk", value=b"{not a notice")
    producer.flush()
    producer.close()
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))
    try:
        publisher.catch_up()
        sink = MailSink(refuse={"b@example.vn"})
        with (
            smtp_server(sink) as (mail, port),
            running_notifier(
                database, bootstrap, topic, [EmailChannel(smtp_settings(port))]
            ) as options,
        ):
            wait_until(lambda: group_lag(bootstrap, options.group_id, topic) == 0, 90,
                       "the notifier to move past everything")
    finally:
        publisher.close()
    others = [e for e in story.expected_mail() if e[0] != "b@example.vn"]
    assert sorted(m.envelope_to[0] for m in mail.received) == sorted(to for to, _, _ in others)
    failed = rows(database, "SELECT recipient, attempts, error FROM outbound.failed")
    assert sorted(r[0] for r in failed) == [hashed("b@example.vn")] * 2
    assert not any("b@example.vn" in error for _, _, error in failed)  # masked in the text
    assert all(attempts == 1 and "550" in error for _, attempts, error in failed)  # no retry
    (rejected,) = rows(database, "SELECT source, error FROM outbound.rejected")
    assert rejected[0].startswith(f"{topic}/") and "malformed" in rejected[1]


def test_without_kafka_the_publisher_hands_notices_to_the_notifier(
    app: CasesApplication, database: Database
) -> None:
    """The embedded default: no Kafka, the same delivery in the publisher's thread."""
    story = tell_the_story(app)
    with smtp_server() as (mail, port):
        delivery = NoticeDelivery(
            database.conninfo, [EmailChannel(smtp_settings(port))], BASE, policy=FAST
        )
        publisher = OutboundPublisher(app, database.conninfo, InProcessNoticeSink(delivery))
        try:
            publisher.catch_up()
            assert mail.count() == len(story.expected_mail())
            publisher.reset(0)
            publisher.catch_up()
            assert mail.count() == len(story.expected_mail())
        finally:
            publisher.close()


# --- the delivery rules, with channels that fail on purpose -----------------------------------


def test_delivery_rules(database: Database) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    two = (Recipient(email="a@example.vn"), Recipient(email="b@example.vn", phone="0912345678"))
    phone_only = (Recipient(phone="0987654321"),)
    now = datetime.now(UTC)

    async def scenario() -> dict[str, Any]:
        flaky = FlakyChannel(failures=2)
        broken = FlakyChannel(name="broken", failures=99)
        refused = FlakyChannel(name="refused", permanent=True)
        policy = DeliveryPolicy(attempts=3, backoff_s=1.0, max_age=timedelta(days=2))
        delivery = NoticeDelivery(
            database.conninfo, [flaky, broken, refused], BASE, policy=policy, sleep=no_wait
        )
        try:
            notice = sample_notice(at=now, recipients=two)
            first = await delivery.deliver(notice)
            again = await delivery.deliver(notice)
            nobody = await delivery.deliver(
                sample_notice(at=now, recipients=phone_only, notice_id=uuid.uuid4())
            )
            stale = await delivery.deliver(
                sample_notice(at=now - timedelta(days=3), notice_id=uuid.uuid4(), recipients=two)
            )
            rejected = await delivery.handle_record(b'{"schema_version": 9}', "t/0/7")
        finally:
            await delivery.close()
        return {"first": first, "again": again, "nobody": nobody, "stale": stale,
                "rejected": rejected, "flaky": flaky, "broken": broken, "refused": refused}

    result = run_async(scenario)
    first, again = result["first"], result["again"]
    assert (first.sent, first.failed, first.skipped) == (2, 4, 0)
    assert result["flaky"].calls.count("a@example.vn") == 3  # two failures, then sent
    assert waits[:2] == [1.0, 2.0]  # doubling back-off
    # Once per delivery: a permanent refusal is not retried (a re-delivery tries again).
    assert result["refused"].calls.count("a@example.vn") == 2
    assert result["broken"].calls.count("a@example.vn") == 6
    # The re-delivery skips what was sent and tries the failures again.
    assert (again.sent, again.skipped, again.failed) == (0, 2, 4)
    assert result["nobody"].failed == 1 and result["stale"].failed == 6
    assert result["rejected"] is None
    assert sorted(rows(database, "SELECT recipient, channel FROM outbound.sent")) == sorted([
        (hashed("a@example.vn"), "flaky"), (hashed("b@example.vn"), "flaky"),
    ])
    failed = {
        (r[0], r[1]): (r[2], r[3])
        for r in rows(database, "SELECT recipient, channel, attempts, error FROM outbound.failed "
                                "WHERE error NOT LIKE 'expired%'")
    }
    assert failed[(hashed("a@example.vn"), "broken")] == (6, "ChannelError: try later")
    assert failed[(hashed("a@example.vn"), "refused")] == (2, "mailbox does not exist")
    assert failed[(hashed("0987654321"), "none")][1] == (
        "no configured channel can reach this recipient"
    )
    expired = rows(database, "SELECT count(*) FROM outbound.failed WHERE error LIKE 'expired%'")
    assert expired == [(6,)]
    assert rows(database, "SELECT source FROM outbound.rejected") == [("t/0/7",)]
