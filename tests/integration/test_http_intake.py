"""A QR submission posted over HTTP travels through real Kafka and PostgreSQL into the
handler's queue; resubmission, bad input and scope behave as a citizen and a ward expect."""

from __future__ import annotations

import re
from uuid import UUID

import httpx
import pytest

from feedback_core.identity import tracking_code_for
from tests.integration.helpers import topic_size, wait_until
from tests.support.platform import LivePlatform
from tests.support.qr import qr_url

pytestmark = pytest.mark.integration

COMPLAINT = "Cán bộ yêu cầu photo công chứng thêm 3 bộ hồ sơ không có trong quy định."


def qr_form(client: httpx.Client, platform: LivePlatform, counter: str) -> tuple[str, str]:
    url = qr_url(platform, counter)
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', page.text)
    assert match, "the QR page must carry a submission id made when it was rendered"
    return url, match.group(1)


def login(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    answer = client.post(
        "/login",
        data={"username": username, "password": "demo-2026", "csrf_token": csrf.group(1)},
    )
    assert answer.status_code in (200, 303), answer.text


def client_for(platform: LivePlatform) -> httpx.Client:
    return httpx.Client(base_url=platform.base_url, timeout=10, follow_redirects=False)


def test_qr_submission_reaches_the_units_queue(platform: LivePlatform) -> None:
    with client_for(platform) as citizen:
        url, submission_id = qr_form(citizen, platform, "nhat-tan-q1")
        form = {
            "submission_id": submission_id, "rating": "2",
            "category": "harassment", "description": COMPLAINT,
        }
        answer = citizen.post(url, data=form)
        assert answer.status_code == 303
        code = tracking_code_for(UUID(submission_id))
        assert answer.headers["location"].startswith(f"/t/{code}")
        tracking = citizen.get(answer.headers["location"])
        assert tracking.status_code == 200 and code in tracking.text  # before any consumer ran

    platform.wait_for_submission(code)
    with client_for(platform) as handler:
        login(handler, "canbo.nhattan")
        queue = handler.get("/staff/queue")
        assert queue.status_code == 200 and code in queue.text
    with client_for(platform) as other_ward:
        login(other_ward, "canbo.quangan")
        assert code not in other_ward.get("/staff/queue").text
    with client_for(platform) as head:
        login(head, "lanhdao.tayho")
        assert code in head.get("/staff/queue").text
    with client_for(platform) as anyone:
        page = anyone.get(f"/t/{code}")
        assert page.status_code == 200
        assert "Nguyễn Thị Lan" not in page.text  # no officer's personal data for citizens
        health = anyone.get("/healthz").json()
        assert health["status"] == "ok"
        assert health["event_store"]["max_notification_id"] == 2


def test_the_same_submission_posted_twice_is_one_case(platform: LivePlatform) -> None:
    bootstrap, topic = platform.settings.kafka_bootstrap_servers, platform.settings.intake_topic
    with client_for(platform) as citizen:
        url, submission_id = qr_form(citizen, platform, "quang-an-q2")
        form = {"submission_id": submission_id, "rating": "1", "description": COMPLAINT}
        first = citizen.post(url, data=form)
        second = citizen.post(url, data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    code = first.headers["location"].split("/")[2].split("?")[0]
    assert topic_size(bootstrap, topic) == 2  # both reached the log ...
    platform.wait_for_submission(code)
    app = platform.core.app
    wait_until(lambda: platform.services.queries.positions().get("case_views", 0) >= 2, 30, "views")
    assert app.recorder.max_notification_id() == 2  # ... but one rating and one case
    assert len(platform.services.queries.queue(["quang-an"])) == 1


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("forged token", 404, "Mã QR không hợp lệ"),
        ("missing rating", 422, "Vui lòng chọn mức độ hài lòng"),
        ("text too long", 422, "Nội dung quá dài"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_published(
    platform: LivePlatform, case: str, status: int, message: str
) -> None:
    with client_for(platform) as citizen:
        url, submission_id = qr_form(citizen, platform, "phu-thuong-q1")
        form = {"submission_id": submission_id, "rating": "3", "description": "Ổn"}
        if case == "forged token":
            url = url.replace("phu-thuong-q1", "phu-thuong-q2")
        elif case == "missing rating":
            del form["rating"]
        else:
            form["description"] = "x" * 4001
        answer = citizen.post(url, data=form)
    assert answer.status_code == status
    assert message in answer.text
    if case != "forged token":
        assert form["description"][:50] in answer.text  # what the citizen typed is kept
    settings = platform.settings
    assert topic_size(settings.kafka_bootstrap_servers, settings.intake_topic) == 0
