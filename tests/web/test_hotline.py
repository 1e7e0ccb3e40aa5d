"""The hotline operator's page (/staff/hotline): who may use it, what a recorded call
publishes, idempotency of a double submit (on the real domain, in memory), and how every
problem is shown again with what was typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication, RecordResult
from feedback_core.cases import Case
from feedback_core.identity import case_id_for, tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.organisation import Organisation
from feedback_core.settings import Settings
from tests.web.conftest import make_desk
from tests.web.web_doubles import (
    NOW,
    FakeHealth,
    RecordingPublisher,
    StoreQueries,
    hidden,
    log_in,
)
from web.app import create_app
from web.hotline import normalise_phone, parse_local_time, spelled
from web.services import WebServices

ROUTE = "/staff/hotline"
COMPLAINT = "Cán bộ quầy 2 yêu cầu nộp thêm bản sao công chứng không có trong quy định."


def call_form(page_html: str, **changes: str) -> dict[str, str]:
    """A complete, valid call as the operator types it into the page just rendered."""
    form = {
        "csrf_token": hidden(page_html, "csrf_token"),
        "submission_id": hidden(page_html, "submission_id"),
        "caller_number": "0912 345 678",
        "call_time": "23/11/2026 09:15",
        "unit_id": "nhat-tan",
        "counter_id": "",
        "category": "harassment",
        "description": COMPLAINT,
        "callback": "1",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def operator(client: TestClient) -> TestClient:
    assert log_in(client, "tongdai.nhattan").status_code == 303
    return client


# --- who may use it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["canbo.nhattan", "lanhdao.nhattan", "thanhtra.nhattan", "quantri.nhattan",
                 "lanhdao.tayho"]
)
def test_other_roles_get_403(
    client: TestClient, publisher: RecordingPublisher, username: str
) -> None:
    assert log_in(client, username).status_code == 303
    page = client.get(ROUTE)
    assert page.status_code == 403
    posted = client.post(ROUTE, data={"csrf_token": "x", "description": "x"})
    assert posted.status_code == 403
    assert publisher.published == []


def test_strangers_are_sent_to_sign_in(client: TestClient) -> None:
    page = client.get(ROUTE)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fstaff%2Fhotline"


def test_the_403_says_why(client: TestClient) -> None:
    log_in(client, "canbo.nhattan")
    assert "Chỉ tổng đài viên" in client.get(ROUTE).text
    assert "Only hotline operators" in client.get(f"{ROUTE}?lang=en").text


def test_operators_have_a_link_and_others_do_not(client: TestClient) -> None:
    log_in(client, "tongdai.nhattan")
    assert f'href="{ROUTE}"' in client.get("/staff/queue").text
    client.cookies.clear()
    log_in(client, "canbo.nhattan")
    assert f'href="{ROUTE}"' not in client.get("/staff/queue").text


# --- the form -------------------------------------------------------------------------------


def test_the_form_is_ready_for_the_next_call(operator: TestClient) -> None:
    page = operator.get(ROUTE)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    UUID(hidden(page.text, "submission_id"))
    assert 'value="23/11/2026 10:30"' in page.text  # now, in Hà Nội, to the minute
    assert re.search(r'<input id="caller_number"[^>]*autofocus', page.text, re.S)
    # the operator's subtree only: the ward, its counters; every category
    assert '<option value="nhat-tan"' in page.text and '"quang-an"' not in page.text
    assert '<option value="nhat-tan-q3"' in page.text and "tay-ho-q1" not in page.text
    for category in ComplaintCategory:
        assert f'<option value="{category.value}"' in page.text
    assert operator.get(ROUTE).text.count(hidden(page.text, "submission_id")) == 0


def test_a_district_operator_chooses_among_the_district_and_its_wards(
    client: TestClient,
) -> None:
    log_in(client, "tongdai.tayho")
    page = client.get(ROUTE).text
    units = re.findall(r'<option value="([a-z-]+)"', page.split('id="unit_id"')[1].split(
        "</select>")[0])
    assert units == ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]


def test_a_call_is_published_as_a_hotline_submission(
    operator: TestClient, publisher: RecordingPublisher
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text)
    answer = operator.post(ROUTE, data=form)
    assert answer.status_code == 303 and answer.headers["location"] == ROUTE

    [sub] = publisher.published
    assert sub.submission_id == UUID(form["submission_id"])
    assert sub.channel is Channel.HOTLINE
    assert sub.rating is None
    assert sub.reported_by == "tongdai.nhattan"
    assert sub.contact_phone == "0912345678"
    assert sub.wants_updates is True
    assert sub.submitted_at == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)  # 09:15 in Hà Nội
    assert (sub.unit_id, sub.office_id, sub.counter_id) == ("nhat-tan", "nhat-tan-mc",
                                                            "nhat-tan-q1")
    assert sub.category is ComplaintCategory.HARASSMENT
    assert sub.description == COMPLAINT
    assert sub.locale == "vi" and sub.contact_email == ""


def test_the_confirmation_reads_the_code_and_offers_a_fresh_form(
    operator: TestClient,
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text)
    operator.post(ROUTE, data=form)
    code = tracking_code_for(UUID(form["submission_id"]))
    done = operator.get(ROUTE)
    assert f'<p class="code" id="tracking-code">{code}</p>' in done.text
    assert spelled(code) in done.text
    assert "Người gọi muốn được gọi lại" in done.text
    assert hidden(done.text, "submission_id") != form["submission_id"]
    assert 'name="caller_number" type="text"' in done.text
    assert "0912 345 678" not in done.text and COMPLAINT not in done.text
    assert "tracking-code" not in operator.get(ROUTE).text  # shown once


def test_a_chosen_counter_is_kept(operator: TestClient, publisher: RecordingPublisher) -> None:
    page = operator.get(ROUTE)
    assert operator.post(ROUTE, data=call_form(page.text, counter_id="nhat-tan-q3")
                         ).status_code == 303
    assert publisher.published[0].counter_id == "nhat-tan-q3"


def test_a_withheld_number_is_fine_without_a_call_back(
    operator: TestClient, publisher: RecordingPublisher
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text, caller_number="")
    del form["callback"]
    assert operator.post(ROUTE, data=form).status_code == 303
    [sub] = publisher.published
    assert sub.contact_phone == "" and sub.wants_updates is False
    assert "Người gọi không yêu cầu gọi lại." in operator.get(ROUTE).text


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
     ("0912.345.678", "0912345678"), ("(024) 3825-1234", "02438251234"),
     ("0084 912345678", "0912345678")],
)
def test_phone_numbers_as_people_write_them(typed: str, kept: str) -> None:
    assert normalise_phone(typed) == kept


def test_call_times_as_people_type_them() -> None:
    at = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    for typed in ("23/11/2026 09:15", " 23/11/2026  09:15 ", "2026-11-23T09:15",
                  "2026-11-23 09:15:00"):
        parsed = parse_local_time(typed)
        assert parsed is not None and parsed == at, typed
    assert parse_local_time("31/02/2026 09:15") is None
    assert parse_local_time("hôm qua") is None


# --- problems -------------------------------------------------------------------------------


PROBLEMS = [
    ({"caller_number": "12345"}, "caller_number", "Số điện thoại không hợp lệ",
     "Not a valid phone number"),
    ({"caller_number": ""}, "caller_number", "vui lòng nhập số điện thoại",
     "please enter the phone number"),
    ({"call_time": "23/11/2026 10:45"}, "call_time", "không thể ở tương lai",
     "cannot be in the future"),
    ({"call_time": "25/12/2025 10:00"}, "call_time", "trong vòng 30 ngày", "last 30 days"),
    ({"call_time": "hôm nay"}, "call_time", "Thời điểm cuộc gọi không hợp lệ",
     "Not a valid call time"),
    ({"category": ""}, "category", "Vui lòng chọn loại phản ánh", "Please choose the category"),
    ({"category": "bribery"}, "category", "Vui lòng chọn loại phản ánh",
     "Please choose the category"),
    ({"unit_id": ""}, "unit_id", "Vui lòng chọn đơn vị", "Please choose the unit"),
    ({"unit_id": "quang-an"}, "unit_id", "không thuộc phạm vi của bạn",
     "not in your area"),
    ({"counter_id": "quang-an-q1"}, "counter_id", "Quầy không thuộc đơn vị",
     "not one of the chosen unit"),
    ({"description": "  \r\n "}, "description", "Vui lòng ghi nội dung",
     "Please write down the caller"),
    ({"description": "x" * 4001}, "description", "4.001 ký tự", "4,001 characters"),
]


@pytest.mark.parametrize(("changes", "field", "vietnamese", "english"), PROBLEMS)
def test_problems_are_shown_with_what_was_typed(
    operator: TestClient,
    publisher: RecordingPublisher,
    changes: dict[str, str],
    field: str,
    vietnamese: str,
    english: str,
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text, **changes)
    answer = operator.post(ROUTE, data=form)
    assert answer.status_code == 422
    assert publisher.published == []
    html = answer.text
    assert f'<p class="error" id="{field}-error">' in html
    assert vietnamese in html.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*autofocus', html, re.S)
    assert hidden(html, "submission_id") == form["submission_id"]  # a retry is the same call
    if field != "caller_number":
        assert 'value="0912 345 678"' in html
    if field != "description":
        assert f"\n{COMPLAINT}</textarea>" in html
    if field not in ("unit_id",):
        assert '<option value="nhat-tan" selected>' in html
    english_page = operator.post(f"{ROUTE}?lang=en", data=form)
    assert english_page.status_code == 422
    assert english in english_page.text.split(f'id="{field}-error">')[1].split("</p>")[0]


def test_a_post_without_the_csrf_token_is_refused(
    operator: TestClient, publisher: RecordingPublisher
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text)
    del form["csrf_token"]
    assert operator.post(ROUTE, data=form).status_code == 403
    assert publisher.published == []


def test_a_broken_submission_id_is_400_with_a_fresh_one(
    operator: TestClient, publisher: RecordingPublisher
) -> None:
    page = operator.get(ROUTE)
    answer = operator.post(ROUTE, data=call_form(page.text, submission_id="nope"))
    assert answer.status_code == 400
    UUID(hidden(answer.text, "submission_id"))
    assert f"\n{COMPLAINT}</textarea>" in answer.text
    assert publisher.published == []


def test_when_the_log_is_down_the_call_is_kept_for_a_retry(
    operator: TestClient, publisher: RecordingPublisher
) -> None:
    page = operator.get(ROUTE)
    form = call_form(page.text)
    publisher.fail = True
    answer = operator.post(ROUTE, data=form)
    assert answer.status_code == 503
    assert "chưa ghi nhận được cuộc gọi" in answer.text
    assert hidden(answer.text, "submission_id") == form["submission_id"]
    assert f"\n{COMPLAINT}</textarea>" in answer.text
    publisher.fail = False
    assert operator.post(ROUTE, data=form).status_code == 303
    assert [s.submission_id for s in publisher.published] == [UUID(form["submission_id"])]


# --- on the real domain: a double submit is one case, and the handler sees it ---------------


class StorePublisher(RecordingPublisher):
    """Hands each submission to the real application, as the in-process publisher does."""

    def __init__(self, app: CasesApplication) -> None:
        super().__init__()
        self.app = app
        self.results: list[RecordResult] = []

    async def publish(self, submission: IntakeSubmission) -> None:
        await super().publish(submission)
        self.results.append(self.app.record_submissions([submission]))


@pytest.fixture
def world(
    settings: Settings, organisation: Organisation, store: CasesApplication,
    store_queries: StoreQueries,
) -> Iterator[tuple[TestClient, StorePublisher]]:
    publisher = StorePublisher(store)
    services = WebServices(
        settings=settings, organisation=organisation, publisher=publisher,
        queries=store_queries, health=FakeHealth(), clock=lambda: NOW,
        desk=make_desk(store, organisation),
    )
    with TestClient(create_app(services), follow_redirects=False) as client:
        yield client, publisher


def test_a_double_submit_is_one_case_in_the_handlers_queue(
    world: tuple[TestClient, StorePublisher], store: CasesApplication
) -> None:
    client, publisher = world
    log_in(client, "tongdai.nhattan")
    page = client.get(ROUTE)
    form = call_form(page.text)
    assert client.post(ROUTE, data=form).status_code == 303
    assert client.post(ROUTE, data=form).status_code == 303  # the second click
    submission_id = UUID(form["submission_id"])
    assert publisher.results[0].recorded == [submission_id]
    assert publisher.results[1].duplicates == [submission_id]
    received = [
        n for n in store.recorder.select_notifications(start=1, limit=100)
        if n.topic.endswith("Case.Received")
    ]
    assert len(received) == 1
    case: Case = store.repository.get(case_id_for(submission_id))
    assert case.channel == "hotline" and case.reported_by == "tongdai.nhattan"

    client.cookies.clear()
    log_in(client, "canbo.nhattan")
    code = tracking_code_for(submission_id)
    queue = client.get("/staff/queue", params={"channel": "hotline"})
    assert code in queue.text
    assert queue.text.count(f'href="/staff/cases/{case_id_for(submission_id)}"') == 1
    case_page = client.get(f"/staff/cases/{case_id_for(submission_id)}")
    assert "Đường dây nóng" in case_page.text
    assert '<span id="contact-phone">0912345678</span>' in case_page.text
    assert 'id="case-reported-by">Đinh Văn Tổng' in case_page.text
