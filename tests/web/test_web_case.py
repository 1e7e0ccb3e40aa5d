"""The case page and its step forms, on the real domain (CaseDesk on the in-memory store):
what is offered to whom, what each step does, and how every failure is shown."""

from __future__ import annotations

import re
from uuid import uuid4

from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.intake import ComplaintCategory
from tests.web.web_doubles import StoreQueries, hidden, log_in, offered, open_case, post_step


def case_of(store: CasesApplication, case_id: object) -> Case:
    case: Case = store.repository.get(case_id)  # type: ignore[arg-type]
    return case


def test_a_handlers_day_through_the_pages(
    desk_client: TestClient, store: CasesApplication, store_queries: StoreQueries
) -> None:
    cid, code = open_case(store, description="Tôi phải đi lại <b>ba lần</b>.",
                          category=ComplaintCategory.SECOND_TRIP)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(f"/staff/cases/{cid}")
    assert page.status_code == 200
    assert code in page.text and "Tôi phải đi lại &lt;b&gt;ba lần&lt;/b&gt;." in page.text
    assert offered(page.text) == ["accept", "refuse", "transfer", "merge", "escalate", "note",
                                  "withdraw"]
    assert "start" not in offered(page.text)  # not before acceptance

    done = post_step(desk_client, cid, "accept")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/cases/{cid}"
    page = desk_client.get(done.headers["location"])
    assert "Đã thực hiện: Thụ lý." in page.text  # the flash, once
    assert "Đã thụ lý" in page.text  # read your writes: the page shows the new state
    assert store_queries.waited[-1] == store.recorder.max_notification_id()
    assert "Đã thực hiện" not in desk_client.get(f"/staff/cases/{cid}").text

    assert "claim" in offered(page.text) and "start" not in offered(page.text)
    post_step(desk_client, cid, "claim")
    page = desk_client.get(f"/staff/cases/{cid}")
    assert "start" in offered(page.text) and "claim" not in offered(page.text)
    assert 'id="case-assignee">Nguyễn Thị Lan' in page.text
    post_step(desk_client, cid, "start")
    post_step(desk_client, cid, "note", text="Đã gọi điện cho bộ phận một cửa.")
    post_step(desk_client, cid, "ask_citizen", text="Xin số biên nhận hồ sơ?")
    assert case_of(store, cid).status == "waiting_for_citizen"
    page = desk_client.get(f"/staff/cases/{cid}")
    assert "Chờ công dân" in page.text and "record_reply" in offered(page.text)
    post_step(desk_client, cid, "record_reply", text="Số HS-2026-001 (qua điện thoại)")

    page = desk_client.get(f"/staff/cases/{cid}?template=second_trip")
    answer = re.search(r'<textarea id="answer-text"[^>]*>\n(.*?)</textarea>', page.text, re.S)
    assert answer and code in answer.group(1) and "UBND phường Nhật Tân" in answer.group(1)
    assert '<details id="step-answer" open>' in page.text
    assert '<option value="second_trip" selected>' in page.text
    post_step(desk_client, cid, "answer", text=answer.group(1))
    post_step(desk_client, cid, "resolve")
    post_step(desk_client, cid, "close")
    case = case_of(store, cid)
    assert case.status == "closed" and case.assignee == "canbo.nhattan"

    page = desk_client.get(f"/staff/cases/{cid}").text
    assert offered(page) == ["reopen"]
    history = page.split('id="timeline-heading"')[1]
    assert history.count("<li") == 10  # received + nine steps
    assert history.count("Nội bộ") == 2  # the claim and the note are internal
    assert "Đã gọi điện cho bộ phận một cửa." in history
    assert "Nguyễn Thị Lan" in history
    assert code not in desk_client.get("/staff/queue").text  # closed: out of the queue


def test_forms_follow_the_permissions(desk_client: TestClient, store: CasesApplication) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    post_step(desk_client, cid, "accept")
    head = offered(desk_client.get(f"/staff/cases/{cid}").text)
    assert {"assign", "extend", "start"} <= set(head) and "escalate" not in head
    desk_client.cookies.clear()
    log_in(desk_client, "canbo.nhattan")
    handler = offered(desk_client.get(f"/staff/cases/{cid}").text)
    assert "escalate" in handler and "extend" not in handler
    assert "start" not in handler and "answer" not in handler  # not theirs until claimed
    desk_client.cookies.clear()
    log_in(desk_client, "thanhtra.nhattan")
    page = desk_client.get(f"/staff/cases/{cid}")
    assert page.status_code == 200 and offered(page.text) == []
    assert 'name="version"' not in page.text
    desk_client.cookies.clear()
    log_in(desk_client, "tongdai.nhattan")
    assert offered(desk_client.get(f"/staff/cases/{cid}").text) == ["withdraw"]


def test_assign_offers_the_officers_of_the_cases_unit(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    post_step(desk_client, cid, "accept")
    page = desk_client.get(f"/staff/cases/{cid}").text
    options = page.split('id="assign-assignee"')[1].split("</select>")[0]
    assert "canbo.nhattan" in options and "lanhdao.tayho" in options
    assert "canbo.quangan" not in options  # another ward's handler
    refused = post_step(desk_client, cid, "assign", assignee="canbo.quangan")
    assert refused.status_code == 422
    assert "không phụ trách đơn vị" in refused.text
    assert post_step(desk_client, cid, "assign", assignee="canbo.nhattan").status_code == 303
    assert case_of(store, cid).assignee == "canbo.nhattan"


def test_someone_else_changed_it(desk_client: TestClient, store: CasesApplication) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(f"/staff/cases/{cid}").text
    stale = {"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version")}
    assert desk_client.post(f"/staff/cases/{cid}/accept", data=stale).status_code == 303
    again = desk_client.post(
        f"/staff/cases/{cid}/refuse", data=stale | {"reason": "Không thuộc thẩm quyền"}
    )
    assert again.status_code == 409
    assert "Có người vừa thay đổi phản ánh này. Vui lòng tải lại trang." in again.text
    assert f'href="/staff/cases/{cid}"' in again.text and "Tải lại phản ánh" in again.text
    assert case_of(store, cid).status == "accepted"


def test_not_allowed_is_403(desk_client: TestClient, store: CasesApplication) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    post_step(desk_client, cid, "accept")
    answer = post_step(desk_client, cid, "start")  # not claimed
    assert answer.status_code == 403
    assert "Bạn không có quyền thực hiện thao tác này" in answer.text
    assert "claim the case before you start it" in answer.text
    answer = post_step(desk_client, cid, "extend", days="5", reason="Cần xác minh")
    assert answer.status_code == 403  # only a head extends


def test_a_step_the_state_does_not_allow_is_422(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    answer = post_step(desk_client, cid, "resolve")
    assert answer.status_code == 422
    assert "Không thể thực hiện thao tác này ở trạng thái hiện tại" in answer.text
    assert f"cannot resolve case {code}: it is received" in answer.text
    assert case_of(store, cid).status == "received"


def test_form_problems_are_422_and_change_nothing(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    version = case_of(store, cid).version
    for action, data, message in [
        ("note", {"text": "   "}, "Vui lòng nhập nội dung."),
        ("refuse", {}, "Vui lòng nhập lý do."),
        ("extend", {"days": "0", "reason": "Cần thêm thời gian"}, "từ 1 đến 60"),
        ("extend", {"days": "ba", "reason": "Cần thêm thời gian"}, "từ 1 đến 60"),
        ("merge", {"primary": "0000000000", "reason": "Trùng"}, "Không tìm thấy phản ánh"),
        ("transfer", {"reason": "Sai địa bàn"}, "Vui lòng chọn đơn vị nhận."),
        ("note", {"text": "x" * 4001}, "tối đa 4.000 ký tự"),
    ]:
        answer = post_step(desk_client, cid, action, **data)
        assert answer.status_code == 422, (action, data)
        assert message in answer.text
    assert case_of(store, cid).version == version


def test_unknown_cases_and_steps_are_404(desk_client: TestClient, store: CasesApplication) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    csrf = hidden(desk_client.get("/staff/queue").text, "csrf_token")
    for path in (f"/staff/cases/{uuid4()}", "/staff/cases/not-a-uuid"):
        assert desk_client.get(path).status_code == 404
        answer = desk_client.post(f"{path}/accept", data={"csrf_token": csrf, "version": "1"})
        assert answer.status_code == 404
    for step in ("view", "fly"):
        answer = desk_client.post(
            f"/staff/cases/{cid}/{step}", data={"csrf_token": csrf, "version": "1"}
        )
        assert answer.status_code == 404
    answer = desk_client.post(f"/staff/cases/{cid}/accept", data={"csrf_token": csrf})
    assert answer.status_code == 400  # no version: not a page of ours


def test_steps_need_the_csrf_token(desk_client: TestClient, store: CasesApplication) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    version = hidden(desk_client.get(f"/staff/cases/{cid}").text, "version")
    for token in ({}, {"csrf_token": "guessed"}):
        answer = desk_client.post(f"/staff/cases/{cid}/accept", data={"version": version} | token)
        assert answer.status_code == 403
    assert case_of(store, cid).status == "received"


def test_merge_two_duplicates(desk_client: TestClient, store: CasesApplication) -> None:
    primary, primary_code = open_case(store, days_ago=5)
    duplicate, duplicate_code = open_case(store, days_ago=2)
    log_in(desk_client, "canbo.nhattan")
    typed = primary_code.lower().replace("-", " ")
    done = post_step(desk_client, duplicate, "merge", primary=typed, reason="Cùng một sự việc")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/cases/{duplicate}"
    page = desk_client.get(done.headers["location"]).text
    assert f"Đã gộp phản ánh này vào phản ánh {primary_code}." in page
    assert 'id="merged-into"' in page and f'href="/staff/cases/{primary}">{primary_code}' in page
    assert offered(page) == []
    queue = desk_client.get("/staff/queue").text
    assert primary_code in queue and duplicate_code not in queue
    primary_page = desk_client.get(f"/staff/cases/{primary}").text
    assert "Gộp phản ánh trùng" in primary_page and duplicate_code in primary_page


def test_transfer_between_wards(desk_client: TestClient, store: CasesApplication) -> None:
    cid, code = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(f"/staff/cases/{cid}").text
    units = page.split('id="transfer-unit"')[1].split("</select>")[0]
    assert 'value="quang-an"' in units and 'value="nhat-tan"' not in units
    post_step(desk_client, cid, "transfer", to_unit="quang-an", reason="Địa bàn phường Quảng An")
    assert "Đang chuyển" in desk_client.get("/staff/queue").text

    desk_client.cookies.clear()
    log_in(desk_client, "canbo.quangan")
    transfers = desk_client.get("/staff/transfers").text
    assert code in transfers and "Địa bàn phường Quảng An" in transfers
    assert code not in desk_client.get("/staff/queue").text  # not theirs yet
    page = desk_client.get(f"/staff/cases/{cid}")
    assert page.status_code == 200  # the receiver sees the case it is asked to take
    assert offered(page.text) == ["accept_transfer", "return_transfer"]
    done = post_step(desk_client, cid, "accept_transfer")
    assert done.headers["location"] == f"/staff/cases/{cid}"
    assert code in desk_client.get("/staff/queue").text
    assert code not in desk_client.get("/staff/transfers").text

    desk_client.cookies.clear()
    log_in(desk_client, "canbo.nhattan")
    assert code not in desk_client.get("/staff/queue").text
    assert desk_client.get(f"/staff/cases/{cid}").status_code == 404


def test_a_transfer_sent_back_needs_a_reason(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    post_step(desk_client, cid, "transfer", to_unit="quang-an", reason="Địa bàn khác")
    desk_client.cookies.clear()
    log_in(desk_client, "canbo.quangan")
    assert post_step(desk_client, cid, "return_transfer").status_code == 422
    done = post_step(
        desk_client, cid, "return_transfer", reason="Thuộc Nhật Tân", return_to="/staff/transfers"
    )
    assert done.headers["location"] == "/staff/transfers"
    assert code not in desk_client.get("/staff/transfers").text
    assert desk_client.get(f"/staff/cases/{cid}").status_code == 404
    case = case_of(store, cid)
    assert case.unit_id == "nhat-tan" and case.pending_transfer is None


def test_return_to_stays_in_the_staff_area(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    done = post_step(desk_client, cid, "accept", return_to="//evil.example/")
    assert done.headers["location"] == f"/staff/cases/{cid}"


def test_bulk_assignment_reports_each_case(
    desk_client: TestClient, store: CasesApplication
) -> None:
    accepted, accepted_code = open_case(store, days_ago=4)
    received, received_code = open_case(store, days_ago=3)
    other_ward, _ = open_case(store, unit="quang-an")
    log_in(desk_client, "lanhdao.tayho")
    post_step(desk_client, accepted, "accept")
    page = desk_client.get("/staff/queue?category=harassment").text
    chosen = re.findall(r'name="case" value="([^"]+)"', page)
    assert len(chosen) == 3
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "return_to": hidden(page, "return_to"),
        "assignee": "canbo.nhattan",
        "case": chosen,
    }
    result = desk_client.post("/staff/queue/assign", data=data)
    assert result.status_code == 200
    rows = {
        re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", row)[0]: row
        for row in re.findall(r'<tr class="(?:ok|failed)">(.*?)</tr>', result.text, re.S)
    }
    assert "Đã giao" in rows[accepted_code]
    assert "Trạng thái phản ánh không cho phép giao." in rows[received_code]
    assert "accept case" in rows[received_code]  # the domain's reason, as it is
    assert "không phụ trách đơn vị" in result.text  # Nhật Tân's handler, a Quảng An case
    assert case_of(store, accepted).assignee == "canbo.nhattan"
    assert case_of(store, received).assignee is None
    assert case_of(store, other_ward).assignee is None

    page = desk_client.get("/staff/queue?assignee=unassigned").text
    again = re.findall(r'name="case" value="([^"]+)"', page)
    post_step(desk_client, received, "accept")
    stale = [v for v in again if v.startswith(str(received))]
    data |= {"case": stale, "csrf_token": hidden(page, "csrf_token")}
    result = desk_client.post("/staff/queue/assign", data=data)
    assert "Có người vừa thay đổi phản ánh này" in result.text

    page = desk_client.get("/staff/queue?assignee=unassigned").text
    fresh = [v for v in re.findall(r'name="case" value="([^"]+)"', page)
             if v.startswith(str(received))]
    data |= {"case": fresh}
    done = desk_client.post("/staff/queue/assign", data=data)
    assert done.status_code == 303
    assert done.headers["location"] == "/staff/queue?category=harassment"
    assert "Đã giao 1 phản ánh cho Nguyễn Thị Lan." in desk_client.get("/staff/queue").text


def test_bulk_assignment_without_a_choice(desk_client: TestClient, store: CasesApplication) -> None:
    open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    page = desk_client.get("/staff/queue").text
    data = {"csrf_token": hidden(page, "csrf_token"), "assignee": "canbo.nhattan"}
    done = desk_client.post("/staff/queue/assign", data=data)
    assert done.status_code == 303
    assert "Chưa chọn phản ánh nào." in desk_client.get("/staff/queue").text
    assert desk_client.post("/staff/queue/assign", data={"case": "x"}).status_code == 403


def test_case_pages_in_english(desk_client: TestClient, store: CasesApplication) -> None:
    cid, code = open_case(store)
    log_in(desk_client, "lanhdao.tayho")
    post_step(desk_client, cid, "accept")
    page = desk_client.get(f"/staff/cases/{cid}?lang=en&template=harassment").text
    assert '<html lang="en">' in page
    for english in ("Accepted for handling", "Assign", "Extend the deadline", "Answer template",
                    "Harassment – verified, corrected", "History", "Nhật Tân Ward"):
        assert english in page, english
    assert "Kính gửi ông/bà" in page  # the answer itself stays in Vietnamese, for the citizen
    for path in ("/staff/queue", "/staff/my", "/staff/transfers"):
        assert "Staff area" in desk_client.get(path).text
    assert "Progress" in desk_client.get(f"/t/{code}").text
