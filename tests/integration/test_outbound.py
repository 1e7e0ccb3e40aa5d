"""The outbound publisher on real PostgreSQL and Apache Kafka: case events a citizen should
know about become notices on the case-events topic, keyed by case; the position moves only
after Kafka acknowledged the page; publishing again gives the same notice ids."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
import pytest
from kafka import KafkaConsumer

from consumers.notices import CaseNotice, NoticeKind, Recipient, from_json
from consumers.outbound import KafkaNoticeSink, OutboundPublisher, PositionMoved
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.permissions import Action
from feedback_core.privacy.vault import reveal_text
from feedback_core.roles import Actor, Role
from feedback_core.store import Database, open_cases_application
from infra import kafka
from tests.integration.helpers import topic_size, wait_until
from tests.integration.test_notifier_channels import run_async
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

LAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
SECRET = "GHI-CHÚ-NỘI-BỘ: cán bộ Lan đã gọi cho bên liên quan"


def case_events_topic(bootstrap: str) -> str:
    name = f"test.case-events.{uuid.uuid4().hex[:10]}"
    kafka.create_topics(bootstrap, {name: 3})
    return name


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database)
    try:
        yield application
    finally:
        application.close()


@dataclass
class Story:
    """Four complaints: A worked from acceptance to resolution (with an internal note);
    C merged into B, then B accepted and answered; one anonymous complaint accepted."""

    app: CasesApplication
    a: UUID
    b: UUID
    c: UUID
    anonymous: UUID

    def code(self, case_id: UUID) -> str:
        return str(self.app.repository.get(case_id).tracking_code)

    # (recipient, case whose code is in the subject, kind) of every e-mail the story sends
    def expected_mail(self) -> list[tuple[str, UUID, NoticeKind]]:
        return [
            ("a@example.vn", self.a, NoticeKind.ACCEPTED),
            ("a@example.vn", self.a, NoticeKind.ANSWERED),
            ("a@example.vn", self.a, NoticeKind.RESOLVED),
            ("c@example.vn", self.c, NoticeKind.MERGED),
            ("b@example.vn", self.b, NoticeKind.ACCEPTED),
            ("c@example.vn", self.b, NoticeKind.ACCEPTED),
            ("b@example.vn", self.b, NoticeKind.ANSWERED),
            ("c@example.vn", self.b, NoticeKind.ANSWERED),
        ]


def tell_the_story(app: CasesApplication, now: datetime | None = None) -> Story:
    now = now or datetime.now(UTC)
    subs = [
        submission(submitted_at=now - timedelta(hours=2), contact_email=email, wants_updates=True)
        for email in ("a@example.vn", "b@example.vn", "c@example.vn")
    ]
    subs.append(submission(submitted_at=now - timedelta(hours=2)))
    app.record_submissions(subs)
    a, b, c, anonymous = (case_id_for(s.submission_id) for s in subs)

    def scope_of(actor: Actor) -> Collection[str]:
        return {"nhat-tan"}

    desk = CaseDesk(app, scope_of, BusinessCalendar, DEFAULT_RULES)
    clock = iter(now - timedelta(minutes=60 - i) for i in range(60))

    def step(case_id: UUID, action: Action, **fields: Any) -> None:
        case: Case = app.repository.get(case_id)
        desk.act(case_id, case.version, LAN, Request(action, **fields), next(clock))

    for action in (Action.ACCEPT, Action.CLAIM, Action.START):
        step(a, action)
    step(a, Action.NOTE, text=SECRET)
    step(a, Action.ANSWER, text="Phường đã chấn chỉnh cán bộ tiếp nhận hồ sơ.")
    step(a, Action.RESOLVE, reason=SECRET)
    step(c, Action.MERGE, primary_case_id=b, reason=SECRET)
    for action in (Action.ACCEPT, Action.CLAIM, Action.START):
        step(b, action)
    step(b, Action.ANSWER, text="Đã bố trí thêm cán bộ tại quầy.")
    step(anonymous, Action.ACCEPT)
    return Story(app, a, b, c, anonymous)


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, int, CaseNotice, dict[str, bytes]]]:
    """(key, partition, notice, headers) of every record, from the beginning."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=3000, enable_auto_commit=False,
    )  # fmt: skip
    try:
        return [(m.key, m.partition, from_json(m.value), dict(m.headers)) for m in consumer]
    finally:
        consumer.close()


class FailingSink:
    def __init__(self) -> None:
        self.calls = 0

    def publish(self, notices: Sequence[CaseNotice]) -> None:
        self.calls += 1
        raise ConnectionError("Kafka is away")

    def close(self) -> None:
        return None

    def describe(self) -> dict[str, object]:
        return {"kind": "failing"}


def test_notices_reach_the_topic_only_then_the_position_moves(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    story = tell_the_story(app)
    head = app.recorder.max_notification_id()
    topic = case_events_topic(bootstrap)

    failing = OutboundPublisher(app, database.conninfo, FailingSink(), page_size=10)
    try:
        with pytest.raises(ConnectionError):
            failing.catch_up()
        assert failing.position() == 0, "nothing acknowledged, nothing recorded"
    finally:
        failing.close()

    publisher = OutboundPublisher(
        app, database.conninfo, KafkaNoticeSink(bootstrap, topic), page_size=10
    )
    try:
        assert publisher.catch_up() == head
        assert publisher.lag() == {"position": head, "head": head, "lag": 0}
        assert publisher.published == 6
    finally:
        publisher.close()

    records = read_topic(bootstrap, topic)
    notices = [notice for _, _, notice, _ in records]
    # The anonymous case's acceptance tells nobody, so it is not on the topic.
    assert story.anonymous not in {n.case_id for n in notices}
    kinds = {(n.case_id, n.kind): n for n in notices}
    assert set(kinds) == {(case, kind) for _, case, kind in story.expected_mail()}
    answered_b = kinds[(story.b, NoticeKind.ANSWERED)]
    # Sealed on the topic (docs/privacy.md): no address in clear; the notifier opens them.
    assert not any("@" in r.email for r in answered_b.recipients)
    opened = tuple(
        Recipient(reveal_text(app.personal_data, r.email).text) for r in answered_b.recipients
    )
    assert opened == (Recipient("b@example.vn"), Recipient("c@example.vn"))
    assert answered_b.public_text == "Đã bố trí thêm cán bộ tại quầy."
    assert kinds[(story.c, NoticeKind.MERGED)].public_text == story.code(story.b)
    for key, _, notice, headers in records:
        assert key == str(notice.case_id).encode()
        assert headers["schema_version"] == b"1"
        assert headers["kind"] == notice.kind.value.encode()
        assert headers["content-type"] == b"application/json"
    partitions: dict[UUID, set[int]] = {}
    for _, partition, notice, _ in records:
        partitions.setdefault(notice.case_id, set()).add(partition)
    assert all(len(p) == 1 for p in partitions.values()), "a case's notices stay in order"
    for _, _, notice, _ in records:
        assert "GHI-CHÚ-NỘI-BỘ" not in notice.public_text and notice.public_text != SECRET


def test_publishing_again_gives_the_same_notices(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    tell_the_story(app)
    topic = case_events_topic(bootstrap)
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))
    try:
        publisher.catch_up()
        publisher.reset(0)  # as after a crash between Kafka's ack and the position's commit
        assert publisher.position() == 0
        publisher.catch_up()
    finally:
        publisher.close()
    notices = [notice for _, _, notice, _ in read_topic(bootstrap, topic)]
    assert len(notices) == 12
    by_id: dict[UUID, list[CaseNotice]] = {}
    for notice in notices:
        by_id.setdefault(notice.notice_id, []).append(notice)
    assert len(by_id) == 6 and all(a == b for a, b in by_id.values())


def test_it_follows_the_log_until_stopped(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    topic = case_events_topic(bootstrap)
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run_forever, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        tell_the_story(app)
        head = app.recorder.max_notification_id()
        wait_until(lambda: publisher.position() == head, 30, "the publisher to catch up")
        wait_until(lambda: topic_size(bootstrap, topic) == 6, 30, "six notices on the topic")
    finally:
        stop.set()
        thread.join(timeout=10)
        publisher.close()
    assert not thread.is_alive()


def test_the_same_loop_as_a_task_of_an_event_loop(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    tell_the_story(app)
    topic = case_events_topic(bootstrap)
    publisher = OutboundPublisher(app, database.conninfo, KafkaNoticeSink(bootstrap, topic))

    async def follow() -> None:
        stop = anyio.Event()
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(publisher.run_async, stop, 0.05)
                while publisher.published < 6:
                    await anyio.sleep(0.05)
                stop.set()

    try:
        run_async(follow)
    finally:
        publisher.close()
    assert topic_size(bootstrap, topic) == 6


def test_a_failed_page_is_published_again_with_a_fresh_producer(
    app: CasesApplication, database: Database, bootstrap: str
) -> None:
    tell_the_story(app)
    topic = case_events_topic(bootstrap)
    sink = KafkaNoticeSink(bootstrap, f"{topic}.missing", timeout_s=3)  # no such topic
    publisher = OutboundPublisher(app, database.conninfo, sink)
    try:
        with pytest.raises(Exception, match="(?i)timed out|timeout"):
            publisher.catch_up()
        assert publisher.position() == 0 and sink.producer is None
        sink.topic = topic  # as when the broker is back
        publisher.catch_up()
        assert publisher.position() == app.recorder.max_notification_id()
    finally:
        publisher.close()
    assert topic_size(bootstrap, topic) == 6


def test_one_publisher_per_name(app: CasesApplication, database: Database) -> None:
    tell_the_story(app)
    first = OutboundPublisher(app, database.conninfo, FailingSink())
    second = OutboundPublisher(app, database.conninfo, FailingSink())
    try:
        second.reset(3)
        with pytest.raises(PositionMoved):
            first._advance(0, 5)  # read 0, then another process moved it
        assert first.position() == 3
        first.reset_to_head()
        assert second.position() == app.recorder.max_notification_id()
    finally:
        first.close()
        second.close()
