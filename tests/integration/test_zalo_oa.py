"""A follower writes to the ward's Zalo OA: the signed webhook reaches the whole platform,
goes through real Kafka into the store (once, though Zalo delivers it twice) as a case with
channel zalo and the follower sealed; the bot replies with the tracking code; the handler
answers; the outbound publisher and the notifier (real Kafka, real PostgreSQL) send the
answer back through the OA's send API (a local server speaking its formats). The OA's access
token renews itself: the web's reply renews it first, the notifier after it expired."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from consumers.channels import ZaloOaChannel
from consumers.notifier import (
    DeliveryPolicy,
    NoticeDelivery,
    NotifierOptions,
    build_notifier_broker,
)
from consumers.outbound import KafkaNoticeSink, OutboundPublisher
from consumers.zalo_tokens import PostgresZaloTokens
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for, tracking_code_for
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.permissions import Action
from feedback_core.privacy.sealing import is_sealed
from feedback_core.roles import Actor, Role
from feedback_core.store import Database
from feedback_core.zalo_config import load_zalo_oas
from tests.integration.helpers import group_lag, topic_size, wait_until
from tests.integration.test_outbound import case_events_topic
from tests.support import platform as live_platform
from tests.support.platform import LivePlatform
from tests.support.zalo_oa import (
    FOLLOWER,
    OA_ID,
    REFRESH_TOKEN,
    ZaloApi,
    oa_config,
    signed_headers,
    text_event,
)
from web.zalo_webhook import ROUTE, submission_id_for

pytestmark = pytest.mark.integration

LAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
TEXT = "Xin hỏi vì sao hồ sơ cấp giấy khai sinh của tôi nộp 5 ngày vẫn chưa có kết quả?"
ANSWER = "Hồ sơ của Ông/Bà đã được ký, mời nhận kết quả tại quầy số 1."


@pytest.fixture
def zalo_platform(
    database: Database,
    bootstrap: str,
    topics: tuple[str, str],
    tmp_path: Path,
    zalo_api: ZaloApi,
) -> Iterator[LivePlatform]:
    settings = live_platform.test_settings(database, bootstrap, *topics, tmp_path).model_copy(
        update={"zalo_oas": oa_config(zalo_api.base_url, refreshing=True)}
    )
    live = LivePlatform(settings).start()
    try:
        yield live
    finally:
        live.stop()


def run_notifier(
    delivery: NoticeDelivery, options: NotifierOptions, stop: threading.Event
) -> threading.Thread:
    async def main() -> None:
        broker = build_notifier_broker(delivery, options)
        await broker.start()
        try:
            while not stop.is_set():
                await asyncio.sleep(0.05)
        finally:
            await broker.stop()
            await delivery.close()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="notifier", daemon=True)
    thread.start()
    return thread


def test_a_zalo_message_becomes_a_case_and_the_answer_goes_back_through_the_oa(
    zalo_platform: LivePlatform, zalo_api: ZaloApi, bootstrap: str
) -> None:
    platform, settings = zalo_platform, zalo_platform.settings
    body = text_event(TEXT, "8f1a2b3c4d5e6f70", int(datetime.now(UTC).timestamp() * 1000))
    with httpx.Client(base_url=platform.base_url, timeout=15) as zalo:
        forged = zalo.post(ROUTE, content=body, headers=signed_headers(body, secret="nope-nope"))
        assert forged.status_code == 401
        first = zalo.post(ROUTE, content=body, headers=signed_headers(body))
        again = zalo.post(ROUTE, content=body, headers=signed_headers(body))  # Zalo retries
    assert first.status_code == again.status_code == 200, first.text
    submission_id = submission_id_for(OA_ID, "8f1a2b3c4d5e6f70")
    code = tracking_code_for(submission_id)
    assert first.json()["tracking_code"] == again.json()["tracking_code"] == code

    platform.wait_for_submission(code)
    case_id = case_id_for(submission_id)
    row = platform.services.queries.case(case_id)
    assert row is not None and (row.channel, row.unit_id) == ("zalo", "nhat-tan")
    assert topic_size(bootstrap, settings.intake_topic) == 2  # two deliveries in the log ...
    app = platform.core.app
    assert app.recorder.max_notification_id() == 1  # ... one case in the store
    received = next(iter(app.repository.event_store.get(case_id, lte=1)))
    assert isinstance(received, Case.Received)
    assert is_sealed(received.contact_zalo) and FOLLOWER not in received.contact_zalo
    case: Case = app.repository.get(case_id)
    [recipient] = case.recipients
    assert app.personal_data is not None
    assert app.personal_data.reveal(recipient[2]).text == f"{OA_ID}:{FOLLOWER}"
    wait_until(lambda: len(zalo_api.received) == 1, 30, "the bot's reply with the code")
    assert zalo_api.received[0]["user_id"] == FOLLOWER and code in zalo_api.received[0]["text"]

    desk = CaseDesk(app, lambda actor: {"nhat-tan"}, BusinessCalendar, DEFAULT_RULES)
    for request in (Request(Action.ACCEPT), Request(Action.CLAIM), Request(Action.START),
                    Request(Action.ANSWER, text=ANSWER)):  # fmt: skip
        current: Case = app.repository.get(case_id)
        desk.act(case_id, current.version, LAN, request, datetime.now(UTC))

    topic = case_events_topic(bootstrap)
    publisher = OutboundPublisher(app, platform.db.conninfo, KafkaNoticeSink(bootstrap, topic))
    options = NotifierOptions(
        bootstrap_servers=bootstrap,
        topic=topic,
        group_id=f"notifier-{topic}",
        session_timeout_ms=6000,
    )
    tokens = PostgresZaloTokens(platform.db.conninfo, settings.personal_data_master)
    channel = ZaloOaChannel(load_zalo_oas(settings.zalo_oas), tokens=tokens)
    zalo_api.expire_access_tokens()  # the pair the web renewed for its reply has expired
    delivery = NoticeDelivery(
        platform.db.conninfo, [channel],
        "https://phananh.example.vn", policy=DeliveryPolicy(attempts=2, backoff_s=0.05),
        personal_data=app.personal_data,
    )  # fmt: skip
    stop = threading.Event()
    thread = run_notifier(delivery, options, stop)
    try:
        publisher.catch_up()
        # accepted, answered: two notices, both to the follower through the OA
        wait_until(lambda: len(zalo_api.received) == 3, 90, "the notices to reach the OA")
        wait_until(
            lambda: group_lag(bootstrap, options.group_id, topic) == 0, 60, "the notifier to commit"
        )
        publisher.reset(0)  # everything published again: nothing is sent twice
        publisher.catch_up()
        wait_until(
            lambda: group_lag(bootstrap, options.group_id, topic) == 0,
            60,
            "the notifier to read the copies",
        )
    finally:
        stop.set()
        thread.join(timeout=30)
        publisher.close()
    notices = zalo_api.received[1:]
    assert len(notices) == 2 and all(m["user_id"] == FOLLOWER for m in notices)
    # The web spent the configured refresh token; the notifier, refused, renewed the pair
    # the web had stored (the database shares it between the processes) and sent again.
    assert zalo_api.received[0]["token"] == "oa-access-1"
    assert all(m["token"] == "oa-access-2" for m in notices)
    assert [r["refresh_token"] for r in zalo_api.token_requests] == [REFRESH_TOKEN, "oa-refresh-1"]
    assert any(ANSWER in m["text"] and code in m["text"] for m in notices)
