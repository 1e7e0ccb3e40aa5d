"""POST /zalo/webhook: signed events from a ward's Zalo OA become intake events; forged,
stale, unknown and oversized ones are refused with nothing published; the follower gets the
tracking code back through the (local) OA send API."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from feedback_core.identity import tracking_code_for
from feedback_core.intake import Channel
from feedback_core.settings import Settings
from feedback_core.zalo_config import ZaloConfigError
from tests.support.zalo_oa import (
    FOLLOWER,
    OA_ID,
    REFRESH_TOKEN,
    ZaloApi,
    oa_config,
    signed_headers,
    text_event,
)
from tests.web.web_doubles import NOW, RecordingPublisher
from web.app import create_app
from web.services import WebServices
from web.zalo_webhook import MAX_BODY_BYTES, ROUTE, submission_id_for

NOW_MS = int(NOW.timestamp() * 1000)
TEXT = "Cán bộ tiếp nhận hồ sơ yêu cầu nộp thêm giấy tờ không có trong quy định."


@pytest.fixture
def settings(zalo_api: ZaloApi) -> Settings:
    return Settings(secret_key="test-secret", zalo_oas=oa_config(zalo_api.base_url),
                    base_url="https://phananh.example.vn")  # fmt: skip


@pytest.fixture
def zalo(services: WebServices) -> Iterator[TestClient]:
    with TestClient(create_app(services), follow_redirects=False) as client:
        yield client


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> object:
    return client.post(ROUTE, content=body, headers=headers)


def test_a_signed_text_message_becomes_one_zalo_submission_and_the_follower_gets_the_code(
    zalo: TestClient, publisher: RecordingPublisher, zalo_api: ZaloApi
) -> None:
    body = text_event(TEXT, "msg-0001", NOW_MS)
    response = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert response.status_code == 200
    sid = submission_id_for(OA_ID, "msg-0001")
    assert response.json() == {"status": "accepted", "tracking_code": tracking_code_for(sid)}
    [sub] = publisher.published
    assert (sub.submission_id, sub.channel, sub.unit_id) == (sid, Channel.ZALO, "nhat-tan")
    assert sub.description == TEXT and sub.rating is None
    assert sub.contact_zalo == f"{OA_ID}:{FOLLOWER}" and sub.wants_updates
    assert sub.submitted_at == NOW
    [reply] = zalo_api.received
    assert reply["user_id"] == FOLLOWER
    assert tracking_code_for(sid) in reply["text"]
    assert f"https://phananh.example.vn/t/{tracking_code_for(sid)}" in reply["text"]


def test_a_redelivered_message_is_the_same_submission_and_is_answered_once(
    zalo: TestClient, publisher: RecordingPublisher, zalo_api: ZaloApi
) -> None:
    body = text_event(TEXT, "msg-0002", NOW_MS)
    first = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    again = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert {s.submission_id for s in publisher.published} == {submission_id_for(OA_ID, "msg-0002")}
    assert len(zalo_api.received) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "tampered body", "no header", "wrong app"])
def test_a_forged_signature_is_refused_and_nothing_is_published(
    zalo: TestClient, publisher: RecordingPublisher, zalo_api: ZaloApi, forgery: str
) -> None:
    body = text_event(TEXT, "msg-0003", NOW_MS)
    headers = signed_headers(body)
    if forgery == "wrong secret":
        headers = signed_headers(body, secret="guessed-secret")
    elif forgery == "tampered body":
        body = text_event(TEXT + " (sửa)", "msg-0003", NOW_MS)
    elif forgery == "no header":
        del headers["X-ZEvent-Signature"]
    else:
        headers = signed_headers(body, app_id="1111111111111111111")
    response = zalo.post(ROUTE, content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert publisher.published == [] and zalo_api.requests == 0


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(hours=-1), timedelta(days=3)])
def test_a_stale_or_future_event_is_refused_even_when_signed(
    zalo: TestClient, publisher: RecordingPublisher, age: timedelta
) -> None:
    body = text_event(TEXT, "msg-0004", int((NOW - age).timestamp() * 1000))
    response = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert response.status_code == 401
    assert response.json()["error"] == "stale"
    assert publisher.published == []


def test_an_event_for_an_oa_not_configured_is_refused(
    zalo: TestClient, publisher: RecordingPublisher
) -> None:
    body = text_event(TEXT, "msg-0005", NOW_MS, oa_id="9999999999999999999")
    response = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_oa"
    assert publisher.published == []


def test_an_oversized_or_unreadable_body_is_refused(
    zalo: TestClient, publisher: RecordingPublisher
) -> None:
    body = text_event("x" * (MAX_BODY_BYTES + 1), "msg-0006", NOW_MS)
    assert zalo.post(ROUTE, content=body, headers=signed_headers(body)).status_code == 413
    response = zalo.post(ROUTE, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"
    long_text = text_event("ý" * 4001, "msg-0007", NOW_MS)
    response = zalo.post(ROUTE, content=long_text, headers=signed_headers(long_text))
    assert response.status_code == 422 and response.json()["error"] == "too_long"
    assert publisher.published == []


def test_other_events_are_acknowledged_ignored_and_logged_without_personal_data(
    zalo: TestClient, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    body = text_event("", "msg-0008", NOW_MS, event_name="follow")
    with caplog.at_level(logging.INFO, logger="web.zalo_webhook"):
        response = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert publisher.published == []
    assert "follow" in caplog.text and FOLLOWER not in caplog.text


def test_the_url_check_is_answered(zalo: TestClient) -> None:
    assert zalo.get(ROUTE).status_code == 200
    check = zalo.post(ROUTE, content=b"{}", headers={"Content-Type": "application/json"})
    assert check.status_code == 200 and check.json() == {"status": "ok"}


def test_when_the_intake_log_is_down_zalo_is_asked_to_send_again(
    zalo: TestClient, publisher: RecordingPublisher, zalo_api: ZaloApi
) -> None:
    publisher.fail = True
    body = text_event(TEXT, "msg-0009", NOW_MS)
    response = zalo.post(ROUTE, content=body, headers=signed_headers(body))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert zalo_api.requests == 0  # no tracking code for what was not accepted


def test_a_bad_configuration_stops_the_start_with_a_clear_message(
    services: WebServices,
) -> None:
    entry = json.loads(oa_config("ftp://nowhere"))[0] | {"unit_id": "no-such-ward"}
    services.settings = Settings(secret_key="s", zalo_oas=json.dumps([entry]))
    with pytest.raises(ZaloConfigError, match=r"api_base_url.*http\(s\)"):
        create_app(services)
    entry = json.loads(oa_config("http://127.0.0.1:9"))[0] | {"unit_id": "no-such-ward"}
    services.settings = Settings(secret_key="s", zalo_oas=json.dumps([entry]))
    with pytest.raises(ZaloConfigError, match="no-such-ward"):
        create_app(services)


def test_the_bot_reply_renews_an_expired_access_token(
    services: WebServices, publisher: RecordingPublisher, zalo_api: ZaloApi
) -> None:
    oas = oa_config(zalo_api.base_url, refreshing=True)
    services.settings = Settings(
        secret_key="test-secret", base_url="https://phananh.example.vn", zalo_oas=oas
    )
    with TestClient(create_app(services), follow_redirects=False) as client:
        first = text_event(TEXT, "msg-0010", NOW_MS)
        assert client.post(ROUTE, content=first, headers=signed_headers(first)).status_code == 200
        zalo_api.expire_access_tokens()  # a day later
        second = text_event(TEXT, "msg-0011", NOW_MS)
        assert client.post(ROUTE, content=second, headers=signed_headers(second)).status_code == 200
    assert [r["refresh_token"] for r in zalo_api.token_requests] == [REFRESH_TOKEN, "oa-refresh-1"]
    assert [m["token"] for m in zalo_api.received] == ["oa-access-1", "oa-access-2"]
    assert zalo_api.requests == 3  # the second reply: refused once, renewed, sent again
    assert len(publisher.published) == 2
