"""Kiosk ratings and paper cards travel through real Kafka and PostgreSQL: each lands in
the event store once, with channel kiosk or paper (and the paper batch on the log)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from feedback_core.identity import rating_id_for
from feedback_core.intake import IntakeSubmission, from_json
from feedback_core.paper_cards import batch_id_for, card_submission_id, parse_batch
from feedback_core.ratings import Rating
from tests.integration.helpers import topic_size, wait_until
from tests.integration.test_http_intake import login
from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration

CARDS = "5\n4 5 4 4 5 3\n3 HS-2026-001\n"


def stored(platform: LivePlatform, submission_id: UUID) -> Rating | None:
    try:
        rating: Rating = platform.core.app.repository.get(rating_id_for(submission_id))
    except Exception:
        return None
    return rating


def test_kiosk_and_paper_ratings_land_in_the_store_with_their_channel(
    platform: LivePlatform, topics: tuple[str, str]
) -> None:
    devices = platform.services.devices
    assert devices is not None
    token = devices.enrol("nhat-tan-q1", platform.services.clock(), "lanhdao.tayho")
    with httpx.Client(base_url=platform.base_url, timeout=30) as kiosk:
        sid = uuid4()
        body = {"submission_id": str(sid), "rating": 4, "components": {"officers": 5}}
        for _ in range(2):  # the device retried: the same id, one rating
            answer = kiosk.post(f"/kiosk/{token}/ratings", content=json.dumps(body))
            assert answer.status_code == 202 and answer.json() == {"ok": True}

    with httpx.Client(base_url=platform.base_url, timeout=30) as clerk:
        login(clerk, "canbo.nhattan")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                         clerk.get("/staff/paper-cards").text)
        assert csrf
        day = platform.services.today() - timedelta(days=2)
        form = {"csrf_token": csrf.group(1), "counter_id": "nhat-tan-q2",
                "day": day.isoformat(), "cards": CARDS}
        sent = clerk.post("/staff/paper-cards/confirm", data=form)
        assert sent.status_code == 303, sent.text[-500:]
        again = clerk.post("/staff/paper-cards/confirm", data=form)
        assert again.status_code == 409 and "Đợt phiếu này đã được nhập" in again.text

    batch_id = batch_id_for("nhat-tan-q2", day, parse_batch(CARDS).cards)
    paper_ids = [card_submission_id(batch_id, n) for n in (1, 2, 3)]
    wait_until(lambda: all(stored(platform, i) for i in [sid, *paper_ids]), 60,
               "the kiosk rating and the paper cards in the event store")
    kiosk_rating = stored(platform, sid)
    assert kiosk_rating is not None and kiosk_rating.channel == "kiosk"
    assert kiosk_rating.score == 4 and kiosk_rating.components == {"officers": 5}
    papers = [stored(platform, i) for i in paper_ids]
    assert [p.channel for p in papers if p] == ["paper"] * 3
    assert [p.score for p in papers if p] == [5, 4, 3]
    assert all(p and p.counter_id == "nhat-tan-q2" for p in papers)

    intake_topic = topics[0]
    assert topic_size(platform.settings.kafka_bootstrap_servers, intake_topic) == 5
    on_log = _intake_events(platform, intake_topic)
    assert sorted(e.channel.value for e in on_log) == ["kiosk", "kiosk", "paper", "paper",
                                                       "paper"]
    assert {e.batch_id for e in on_log if e.channel.value == "paper"} == {batch_id}
    assert {e.batch_id for e in on_log if e.channel.value == "kiosk"} == {""}
    notifications = platform.core.app.recorder.select_notifications(start=1, limit=1000)
    ratings = [n for n in notifications if n.topic.endswith("Rating.Given")]
    assert len(ratings) == 4  # the retried kiosk rating is stored once


def _intake_events(platform: LivePlatform, topic: str) -> list[IntakeSubmission]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic, bootstrap_servers=platform.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=5000,
    )
    try:
        return [from_json(record.value) for record in consumer]
    finally:
        consumer.close()
