"""The intake topic carries no contact in clear: the web process seals the e-mail, the phone
and the hotline caller's number before publishing (docs/privacy.md). Through the whole
platform on real Kafka and PostgreSQL, the raw topic bytes are searched; the stored case
still reveals the contact through the vault, the notifier still reaches the citizen, and an
erasure leaves the topic's copy unreadable."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from consumers.channels import EmailChannel
from consumers.notices import notice_for
from consumers.notifier import DeliveryPolicy, DeliveryReport, NoticeDelivery
from feedback_core.cases import Case
from feedback_core.intake import from_json
from feedback_core.privacy.sealing import subject_of
from feedback_core.roles import Actor, Role
from tests.integration.helpers import wait_until
from tests.integration.test_hotline_api import DEMO_KEY as HOTLINE_KEY
from tests.integration.test_hotline_api import URL as HOTLINE_URL
from tests.integration.test_hotline_api import a_call
from tests.integration.test_http_intake import COMPLAINT, client_for, qr_form
from tests.integration.test_notifier_channels import run_async, smtp_server, smtp_settings
from tests.integration.test_open311 import post_form
from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration

QR_EMAIL = "tran.van.binh@example.vn"
QR_PHONE = "0912 345 678"
OPEN311_EMAIL = "lan@example.vn"  # tests.integration.test_open311.post_form
CALLER_DIGITS = b"987654321"  # "+84 987 654 321" of test_hotline_api.a_call, in any form


def raw_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every message value of the topic, as the broker keeps it."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        values: list[bytes] = []
        for _ in range(100):
            if all(consumer.position(p) >= ends[p] for p in parts):
                break
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in records)
        return values
    finally:
        consumer.close()


def post_qr(platform: LivePlatform, contact: str) -> str:
    with client_for(platform) as citizen:
        url, submission_id = qr_form(citizen, platform, "nhat-tan-q1")
        form = {
            "submission_id": submission_id,
            "rating": "2",
            "category": "harassment",
            "description": COMPLAINT,
            "contact": contact,
            "consent": "on",
        }
        answer = citizen.post(url, data=form)
        assert answer.status_code == 303, answer.text
        found = re.search(r"/t/([0-9A-Z-]+)", answer.headers["location"])
        assert found is not None
        return found.group(1)


def post_call(platform: LivePlatform) -> str:
    with httpx.Client(base_url=platform.base_url, timeout=15) as switchboard:
        answer = switchboard.post(
            HOTLINE_URL, json=a_call("SEAL-1"), headers={"X-Api-Key": HOTLINE_KEY}
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["tracking_code"])


def post_open311(platform: LivePlatform) -> str:
    with httpx.Client(base_url=f"{platform.base_url}/open311/v2", timeout=15) as api:
        posted = api.post("/requests.json", data=post_form("sealed-topic-1"))
        assert posted.status_code == 200, posted.text
        found = re.search(r"/t/([0-9A-Z-]+)", posted.json()[0]["service_notice"])
        assert found is not None
        return found.group(1)


def stored_case(platform: LivePlatform, code: str) -> Case:
    platform.wait_for_submission(code)
    status = platform.services.queries.submission(code)
    assert status is not None and status.case_id is not None
    case: Case = platform.core.app.repository.get(status.case_id)
    return case


def test_the_intake_topic_holds_no_contact_in_clear(platform: LivePlatform) -> None:
    codes = [
        post_qr(platform, QR_EMAIL),
        post_qr(platform, QR_PHONE),
        post_call(platform),
        post_open311(platform),
    ]
    cases = [stored_case(platform, code) for code in codes]

    raw = raw_topic(platform.settings.kafka_bootstrap_servers, platform.settings.intake_topic)
    assert len(raw) == 4
    everything = b"\n".join(raw)
    for clear in (QR_EMAIL.encode(), b"912345678", CALLER_DIGITS, OPEN311_EMAIL.encode()):
        assert clear not in everything
    published = [from_json(value) for value in raw]
    for sub in published:  # each sealed for its own submission, the subject of erasure
        contacts = [c for c in (sub.contact_email, sub.contact_phone) if c]
        assert contacts and all(subject_of(c) == sub.submission_id for c in contacts)

    vault = platform.core.app.personal_data
    assert vault is not None
    opened = [
        [vault.reveal(a).text for pair in case.recipients for a in pair if a] for case in cases
    ]
    assert opened == [[QR_EMAIL], ["0912345678"], ["0987654321"], [OPEN311_EMAIL]]
    # The core kept the edge's sealing: the stored value is the published one.
    by_id = {sub.submission_id: sub for sub in published}
    qr_case = cases[0]
    assert qr_case.recipients[0][0] == by_id[UUID(str(qr_case.submission_id))].contact_email

    # Erasing the subject makes the topic's copy unreadable as well.
    subject = UUID(str(cases[1].submission_id))
    assert vault.erase(subject)
    assert vault.reveal(by_id[subject].contact_phone).erased


def test_the_notifier_reaches_a_contact_sealed_at_the_edge(platform: LivePlatform) -> None:
    case = stored_case(platform, post_qr(platform, QR_EMAIL))
    head = Actor("lanhdao", Role.HEAD, case.unit_id)
    now = datetime.now(UTC)
    case.accept(head, now, "", case.deadline_rule, now.date(), case.due_on)
    case.trigger_event(Case.Answered, **head.stamp(now, ""), public_answer="Đã xử lý.")
    platform.core.app.save(case)
    answered: Any = list(platform.core.app.events.get(case.id))[-1]
    notice = notice_for(answered, case)
    assert notice is not None and all("@" not in r.email for r in notice.recipients)
    delivery = NoticeDelivery(
        platform.db.conninfo,
        [],
        platform.base_url,
        policy=DeliveryPolicy(attempts=1),
        personal_data=platform.core.app.personal_data,
    )
    with smtp_server() as (mail, port):
        delivery.channels = [EmailChannel(smtp_settings(port))]

        async def send() -> DeliveryReport:
            try:
                return await delivery.deliver(replace(notice, notice_id=uuid4()))
            finally:
                await delivery.close()

        report = run_async(send)
        assert report.sent == 1
        wait_until(lambda: mail.count() == 1, 10, "the e-mail")
        assert mail.received[0].envelope_to[0] == QR_EMAIL
