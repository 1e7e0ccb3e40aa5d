"""The admin pages on the real organisation and calendar applications (in memory): the tree
as of a date, changes within the administrator's subtree (refused ones shown with the
domain's reason), a merger passing the open cases on, a unit's history, and the calendar."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication, DecreeKind
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import successor_of
from tests.web.conftest import RecordingPassCases
from tests.web.web_doubles import StoreQueries, hidden, log_in, open_case
from web.services import WebServices

DISTRICT_ADMIN = "quantri.tayho"
WARD_ADMIN = "quantri.nhattan"


def token_of(client: TestClient, page: str = "/admin/org") -> str:
    answer = client.get(page)
    assert answer.status_code == 200, answer.text[-500:]
    return hidden(answer.text, "csrf_token")


def command(client: TestClient, name: str, **fields: str) -> httpx.Response:
    """Post an admin form the way the page does (its CSRF token; the date left as given)."""
    return client.post(f"/admin/org/{name}", data={"csrf_token": token_of(client), **fields})


def decree(client: TestClient, name: str, **fields: str) -> httpx.Response:
    data = {"csrf_token": token_of(client, "/admin/calendar"), **fields}
    return client.post(f"/admin/calendar/{name}", data=data)


@pytest.fixture
def admin(org_client: TestClient) -> TestClient:
    assert log_in(org_client, DISTRICT_ADMIN).headers["location"] == "/admin/org"
    return org_client


# --- the tree -----------------------------------------------------------------------------


def test_the_tree_of_the_district(admin: TestClient) -> None:
    assert admin.get("/admin").headers["location"] == "/admin/org"
    page = admin.get("/admin/org")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    tree = page.text.split('id="org-tree"')[1].split("</section>")[0]
    for name in ("UBND quận Tây Hồ", "UBND phường Nhật Tân", "UBND phường Quảng An",
                 "Bộ phận Một cửa phường Phú Thượng", "Quầy 3 – Lao động – Thương binh và Xã hội",
                 "Nguyễn Thị Lan", "Vũ Thị Hoa"):
        assert name in tree
    assert "Người đứng đầu:" in tree and "lanhdao.tayho" in tree
    counters = page.text.count('action="/admin/org/qr/issue"')  # one per open counter
    assert counters == 11 and page.text.count('action="/admin/org/qr/revoke"') == 11
    assert page.text.count('name="csrf_token"') == 14 + 2 * counters  # 13 forms, the logout
    assert 'action="/admin/org/merge-unit"' in page.text


def test_a_ward_administrator_sees_and_offers_only_the_ward(org_client: TestClient) -> None:
    log_in(org_client, WARD_ADMIN)
    page = org_client.get("/admin/org").text
    assert "UBND phường Nhật Tân" in page and "nhat-tan-q3" in page
    assert "quang-an" not in page and "UBND quận Tây Hồ" not in page


def test_the_tree_as_of_an_earlier_date(admin: TestClient) -> None:
    before = admin.get("/admin/org?as_of=2023-12-31")
    assert before.status_code == 200
    assert "Đơn vị của bạn chưa tồn tại vào ngày này." in before.text
    assert 'value="2023-12-31"' in before.text
    assert admin.get("/admin/org?as_of=31/12/2023").status_code == 400


def test_the_pages_in_english(admin: TestClient) -> None:
    page = admin.get("/admin/org?lang=en").text
    assert "Tây Hồ District People&#39;s Committee" in page and "Rename a unit" in page
    assert "Public holidays" in admin.get("/admin/calendar").text


@pytest.mark.parametrize("username", ["canbo.nhattan", "lanhdao.tayho", "thanhtra.tayho",
                                      "tongdai.tayho"])
def test_other_roles_are_refused(org_client: TestClient, username: str) -> None:
    log_in(org_client, username)
    for path in ("/admin/org", "/admin/calendar", "/admin/org/units/tay-ho"):
        page = org_client.get(path)
        assert page.status_code == 403
        assert "Chỉ quản trị viên hệ thống" in page.text


def test_strangers_are_sent_to_sign_in(org_client: TestClient) -> None:
    answer = org_client.get("/admin/org")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fadmin%2Forg"
    posted = org_client.post("/admin/org/rename-unit", data={})
    assert posted.headers["location"] == "/login?next=%2Fadmin%2Forg"


# --- changes --------------------------------------------------------------------------------


def test_a_renamed_unit_shows_everywhere(
    admin: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    answer = command(admin, "rename-unit", unit_id="nhat-tan", name_vi="UBND phường Nhật Tân mới",
                     name_en="New Nhật Tân Ward", reason="NQ 01/2026")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/org"
    page = admin.get("/admin/org")
    assert "Đã đổi tên đơn vị thành UBND phường Nhật Tân mới." in page.text
    assert "UBND phường Nhật Tân mới" in page.text.split('id="org-tree"')[1]
    assert org_services.organisation.units["nhat-tan"].name_vi == "UBND phường Nhật Tân mới"
    assert "UBND phường Nhật Tân mới" in admin.get("/").text
    assert "New Nhật Tân Ward" in admin.get("/?lang=en").text
    assert org_app.unit("nhat-tan").names_on(date(2026, 11, 23)) == (
        "UBND phường Nhật Tân mới", "New Nhật Tân Ward")
    assert org_app.unit("nhat-tan").names_on(date(2026, 11, 22))[0] == "UBND phường Nhật Tân"


def test_a_renamed_counter_shows_on_the_citizens_pages(admin: TestClient) -> None:
    answer = command(admin, "rename-counter", counter_id="nhat-tan-q1",
                     name_vi="Quầy 1 – Hộ tịch", name_en="Counter 1 – Civil status")
    assert answer.status_code == 303
    assert "Quầy 1 – Hộ tịch" in admin.get("/").text


def test_a_change_dated_later_shows_from_that_date(admin: TestClient) -> None:
    answer = command(admin, "rename-unit", unit_id="quang-an", name_vi="Phường Quảng An",
                     name_en="Quảng An Ward", effective_on="2027-01-01")
    assert answer.status_code == 303
    assert "Phường Quảng An" not in admin.get("/").text
    assert "Phường Quảng An" in admin.get("/admin/org?as_of=2027-01-01").text


def test_a_merger_passes_the_open_cases_on(
    admin: TestClient,
    org_services: WebServices,
    org_app: OrganisationApplication,
    store: CasesApplication,
    store_queries: StoreQueries,
    pass_cases: RecordingPassCases,
) -> None:
    case_id, code = open_case(store, unit="quang-an")
    answer = command(admin, "merge-unit", unit_id="quang-an", into="nhat-tan",
                     reason="Nghị quyết sáp nhập phường")
    assert answer.status_code == 303
    assert pass_cases.calls == [date(2026, 11, 23)]
    assert "Đã sáp nhập quang-an vào nhat-tan. Số phản ánh đang mở đã chuyển sang: 1." in (
        admin.get("/admin/org").text)
    assert successor_of(org_app, "quang-an") == "nhat-tan"
    row = store_queries.case(case_id)
    assert row is not None and row.unit_id == "nhat-tan"
    assert "quang-an" not in org_services.organisation.units  # out of service today
    assert "UBND phường Quảng An" not in admin.get("/").text  # its counters closed with it
    tree = admin.get("/admin/org").text.split('id="org-tree"')[1]
    assert "Đã sáp nhập vào nhat-tan" in tree

    admin.cookies.clear()
    log_in(admin, "canbo.nhattan")
    assert code in admin.get("/staff/queue").text


def test_a_refused_change_shows_the_domains_reason(
    admin: TestClient, org_app: OrganisationApplication
) -> None:
    answer = command(admin, "create-unit", unit_id="nhat-tan", name_vi="Trùng", name_en="Twin",
                     level="ward", parent_id="tay-ho")
    assert answer.status_code == 422
    assert "Thay đổi không được ghi nhận" in answer.text
    assert "unit &#39;nhat-tan&#39; already exists" in answer.text
    merged_into_itself = command(admin, "merge-unit", unit_id="nhat-tan", into="nhat-tan",
                                 reason="Nhầm")
    assert merged_into_itself.status_code == 422
    assert "cannot be merged into itself" in merged_into_itself.text
    assert org_app.unit("nhat-tan").successor_id is None


def test_a_reason_is_required_where_the_rules_ask_for_one(admin: TestClient) -> None:
    answer = command(admin, "close-counter", counter_id="nhat-tan-q3", reason="  ")
    assert answer.status_code == 422
    assert "Vui lòng điền đầy đủ các thông tin bắt buộc." in answer.text


def test_a_bad_date_is_refused(admin: TestClient) -> None:
    answer = command(admin, "close-counter", counter_id="nhat-tan-q3", reason="QĐ 5",
                     effective_on="mai")
    assert answer.status_code == 422 and "Ngày không hợp lệ" in answer.text


def test_outside_the_subtree_is_refused(org_client: TestClient,
                                        org_app: OrganisationApplication) -> None:
    log_in(org_client, WARD_ADMIN)
    for name, fields in (
        ("rename-unit", {"unit_id": "quang-an", "name_vi": "X", "name_en": "X"}),
        ("rename-unit", {"unit_id": "tay-ho", "name_vi": "X", "name_en": "X"}),
        ("merge-unit", {"unit_id": "nhat-tan", "into": "quang-an", "reason": "R"}),
        ("close-counter", {"counter_id": "tay-ho-q1", "reason": "R"}),
        ("reset-password", {"username": "canbo.quangan", "password": "mật-khẩu-mới-1"}),
    ):
        answer = command(org_client, name, **fields)
        assert answer.status_code == 403, name
        assert "không thuộc phạm vi quản trị của bạn" in answer.text
    assert org_app.unit("quang-an").names_on(date(2026, 11, 23))[0] == "UBND phường Quảng An"


def test_every_form_needs_its_csrf_token(admin: TestClient,
                                         org_app: OrganisationApplication) -> None:
    answer = admin.post("/admin/org/close-counter",
                        data={"counter_id": "nhat-tan-q3", "reason": "QĐ 5"})
    assert answer.status_code == 403
    assert not org_app.counter("nhat-tan-q3").is_closed
    assert admin.post("/admin/calendar/day-off",
                      data={"day": "2026-12-01", "reason": "QĐ"}).status_code == 403


def test_unknown_command_is_404(admin: TestClient) -> None:
    assert command(admin, "abolish-everything").status_code == 404


def test_staff_accounts_from_registration_to_deactivation(org_client: TestClient) -> None:
    log_in(org_client, DISTRICT_ADMIN)
    too_short = command(org_client, "register-staff", username="canbo.moi",
                        display_name="Cán Bộ Mới", role="handler", unit_id="quang-an",
                        password="ngan")
    assert too_short.status_code == 422 and "at least 8 characters" in too_short.text
    created = command(org_client, "register-staff", username="canbo.moi",
                      display_name="Cán Bộ Mới", role="handler", unit_id="quang-an",
                      password="mat-khau-moi-2026")
    assert created.status_code == 303
    assert command(org_client, "change-role", username="canbo.moi", role="head",
                   reason="QĐ bổ nhiệm").status_code == 303
    assert command(org_client, "move-staff", username="canbo.moi", unit_id="phu-thuong",
                   reason="Điều động").status_code == 303
    assert command(org_client, "reset-password", username="canbo.moi",
                   password="mat-khau-khac-2026").status_code == 303
    tree = org_client.get("/admin/org").text.split('id="org-tree"')[1]
    assert re.search(r'id="staff-canbo.moi">Cán Bộ Mới .*Lãnh đạo', tree)

    org_client.cookies.clear()
    assert log_in(org_client, "canbo.moi", "mat-khau-moi-2026").status_code == 401
    assert log_in(org_client, "canbo.moi", "mat-khau-khac-2026").status_code == 303
    org_client.cookies.clear()
    log_in(org_client, DISTRICT_ADMIN)
    assert command(org_client, "deactivate-staff", username="canbo.moi",
                   reason="Nghỉ việc").status_code == 303
    org_client.cookies.clear()
    assert log_in(org_client, "canbo.moi", "mat-khau-khac-2026").status_code == 401


def test_counters_and_units_created_and_closed(admin: TestClient) -> None:
    assert command(admin, "create-counter", counter_id="nhat-tan-q4", office_id="nhat-tan-mc",
                   name_vi="Quầy 4 – Kinh tế", name_en="Counter 4 – Economy").status_code == 303
    assert "Quầy 4 – Kinh tế" in admin.get("/").text
    assert command(admin, "close-counter", counter_id="nhat-tan-q4",
                   reason="Sắp xếp lại quầy").status_code == 303
    assert "Quầy 4 – Kinh tế" not in admin.get("/").text
    assert command(admin, "create-unit", unit_id="xuan-la", name_vi="UBND phường Xuân La",
                   name_en="Xuân La Ward", level="ward", parent_id="tay-ho").status_code == 303
    assert command(admin, "appoint-head", unit_id="xuan-la",
                   username="lanhdao.tayho").status_code == 303
    assert command(admin, "close-unit", unit_id="xuan-la",
                   reason="Giải thể theo NQ").status_code == 303
    tree = admin.get("/admin/org").text.split('id="org-tree"')[1]
    assert "UBND phường Xuân La" in tree and "Đã giải thể" in tree


def test_the_history_of_a_unit(admin: TestClient) -> None:
    command(admin, "rename-unit", unit_id="phu-thuong", name_vi="UBND phường Phú Thượng (mới)",
            name_en="Phú Thượng Ward (new)", reason="NQ 02/2026")
    page = admin.get("/admin/org/units/phu-thuong")
    assert page.status_code == 200
    rows = page.text.split('id="history"')[1]
    assert "Thành lập" in rows and "Đổi tên" in rows
    assert "NQ 02/2026" in rows and "quantri.tayho" in rows and "23/11/2026" in rows
    assert admin.get("/admin/org/units/no-such-unit").status_code == 404


def test_a_ward_administrator_cannot_read_another_units_history(org_client: TestClient) -> None:
    log_in(org_client, WARD_ADMIN)
    assert org_client.get("/admin/org/units/nhat-tan").status_code == 200
    assert org_client.get("/admin/org/units/nhat-tan-mc").status_code == 200
    assert org_client.get("/admin/org/units/quang-an").status_code == 404


# --- the calendar ---------------------------------------------------------------------------


def test_the_calendar_of_the_year(admin: TestClient) -> None:
    page = admin.get("/admin/calendar")
    assert page.status_code == 200
    assert "Lịch làm việc năm 2026" in page.text
    holidays = page.text.split('id="holidays"')[1]
    assert "Quốc khánh" in holidays and "Thứ Tư, 2 tháng 9, 2026" in holidays
    assert "Chưa có quyết định nào." in page.text
    assert "National Day" in admin.get("/admin/calendar?lang=en").text
    assert "Lịch làm việc năm 2027" in admin.get("/admin/calendar?year=2027&lang=vi").text


def test_a_decreed_day_off_appears_and_counts(
    admin: TestClient, org_services: WebServices, calendar_app: CalendarApplication
) -> None:
    assert org_services.calendar().is_working_day(date(2026, 12, 31))
    answer = decree(admin, "day-off", day="2026-12-31", reason="QĐ 123/QĐ-TTg")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/calendar?year=2026"
    page = admin.get(answer.headers["location"]).text
    assert "Đã ghi nhận ngày nghỉ 31/12/2026." in page
    days_off = page.split('id="days-off"')[1]
    assert "Thứ Năm, 31 tháng 12, 2026" in days_off and "QĐ 123/QĐ-TTg" in days_off
    assert "quantri.tayho" in days_off
    assert [d.kind for d in calendar_app.decrees(2026)] == [DecreeKind.DAY_OFF]
    assert not org_services.calendar().is_working_day(date(2026, 12, 31))

    again = decree(admin, "day-off", day="2026-12-31", reason="QĐ 123/QĐ-TTg")
    assert "đã được ghi nhận trước đó" in admin.get(again.headers["location"]).text

    withdrawn = decree(admin, "withdraw", day="2026-12-31", reason="Nhập nhầm")
    assert withdrawn.status_code == 303
    assert calendar_app.decrees(2026) == []
    assert org_services.calendar().is_working_day(date(2026, 12, 31))


def test_a_make_up_working_day(admin: TestClient, calendar_app: CalendarApplication) -> None:
    answer = decree(admin, "working-day", day="2027-02-06", reason="QĐ bù Tết")
    assert answer.headers["location"] == "/admin/calendar?year=2027"
    page = admin.get("/admin/calendar?year=2027").text.split('id="working-days"')[1]
    assert "QĐ bù Tết" in page
    assert calendar_app.calendar().is_working_day(date(2027, 2, 6))


def test_refused_decrees(admin: TestClient) -> None:
    missing = decree(admin, "day-off", day="2026-12-31", reason="")
    assert missing.status_code == 422
    assert decree(admin, "day-off", day="31/12", reason="QĐ").status_code == 422
    nothing = decree(admin, "withdraw", day="2026-12-30", reason="Nhầm")
    assert nothing.status_code == 422 and "no decree for 2026-12-30" in nothing.text
    assert decree(admin, "celebrate", day="2026-12-30", reason="QĐ").status_code == 404


def test_without_the_applications_the_pages_say_so(client: TestClient) -> None:
    log_in(client, WARD_ADMIN)
    page = client.get("/admin/org")
    assert page.status_code == 503
    assert "chưa được bật" in page.text
    assert client.get("/admin/calendar").status_code == 503
    assert client.get("/staff/account/totp").status_code == 503
