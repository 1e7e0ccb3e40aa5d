"""The landing page and the tracking page, with the citizen's own steps on their case."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for, tracking_code_for
from tests.support.qr import qr_url
from tests.web.web_doubles import FakeQueries, hidden, log_in, open_case, post_step, status_row
from web.services import WebServices


def test_landing_lists_every_counter_with_its_qr_link(
    client: TestClient, services: WebServices
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for counter_id in ("tay-ho-q1", "nhat-tan-q3", "phu-thuong-q1"):
        assert f'href="{qr_url(services, counter_id)}"' in page.text
    assert "UBND quận Tây Hồ" in page.text
    assert 'action="/t"' in page.text
    assert 'href="/login"' in page.text


def test_found_rating(client: TestClient, queries: FakeQueries) -> None:
    row = status_row()
    queries.statuses[row.tracking_code] = row
    page = client.get(f"/t/{row.tracking_code}")
    assert page.status_code == 200
    assert row.tracking_code in page.text
    assert "Đã ghi nhận đánh giá" in page.text
    assert "20/11/2026 09:05" in page.text  # 02:05 UTC in Hà Nội
    assert "UBND phường Nhật Tân" in page.text and "Quầy 1 – Tư pháp – Hộ tịch" in page.text
    assert "Hạn trả lời" not in page.text
    assert 'http-equiv="refresh"' not in page.text


def test_found_case_shows_category_and_due_date(client: TestClient, queries: FakeQueries) -> None:
    sid = uuid4()
    row = status_row(
        sid,
        case_id=case_id_for(sid),
        status="received",
        category="harassment",
        due_on=date(2026, 12, 4),
    )
    queries.statuses[row.tracking_code] = row
    page = client.get(f"/t/{row.tracking_code}?new=1")
    assert page.status_code == 200
    assert "Đã tiếp nhận" in page.text
    assert "Sách nhiễu, gây phiền hà" in page.text
    assert "04/12/2026" in page.text
    assert "Đã gửi thành công" in page.text


def test_new_but_not_yet_projected(client: TestClient) -> None:
    code = tracking_code_for(uuid4())
    page = client.get(f"/t/{code}?new=1")
    assert page.status_code == 200
    assert code in page.text
    assert "Đã gửi thành công — hệ thống đang ghi nhận" in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text


def test_new_page_survives_a_read_side_outage(client: TestClient, queries: FakeQueries) -> None:
    queries.fail = True
    page = client.get(f"/t/{tracking_code_for(uuid4())}?new=1")
    assert page.status_code == 200
    assert "hệ thống đang ghi nhận" in page.text


def test_unknown_code_is_404(client: TestClient) -> None:
    page = client.get(f"/t/{tracking_code_for(uuid4())}")
    assert page.status_code == 404
    assert "Không tìm thấy mã theo dõi" in page.text


def test_invalid_code_is_404(client: TestClient) -> None:
    page = client.get("/t/not-a-code")
    assert page.status_code == 404
    assert "Mã theo dõi không hợp lệ" in page.text


def test_lookup_form_normalises_what_people_type(client: TestClient) -> None:
    code = tracking_code_for(uuid4())
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    answer = client.get("/t", params={"code": f"  {typed} "})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/t/{code}"


def test_lookup_form_with_a_bad_code(client: TestClient) -> None:
    answer = client.get("/t", params={"code": "12<script>"})
    assert answer.status_code == 400
    assert "Mã theo dõi không hợp lệ" in answer.text
    assert 'value="12&lt;script&gt;"' in answer.text


# --- the case's public history and the citizen's own steps (real domain, in memory) --------


def staff_steps(client: TestClient, case_id: UUID, *steps: tuple[str, dict[str, str]]) -> None:
    log_in(client, "canbo.nhattan")
    for action, data in steps:
        assert post_step(client, case_id, action, **data).status_code == 303, action
    client.cookies.clear()


def test_public_history_without_officers_or_internal_notes(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    staff_steps(
        desk_client, cid, ("accept", {}), ("claim", {}),
        ("note", {"text": "Nghi ngờ cán bộ quầy 1"}),
        ("ask_citizen", {"text": "Ông/bà nộp hồ sơ vào ngày nào?"}),
    )
    page = desk_client.get(f"/t/{code}")
    assert page.status_code == 200
    history = page.text.split('id="history-heading"')[1]
    assert "Tiếp nhận phản ánh" in history and "Đã thụ lý" in history
    assert "Ông/bà nộp hồ sơ vào ngày nào?" in page.text
    for secret in ("Nghi ngờ cán bộ quầy 1", "Nguyễn Thị Lan", "canbo.nhattan", "Nội bộ",
                   "Phân công"):
        assert secret not in page.text
    assert "phananh_session" not in desk_client.cookies  # no session for citizens


def test_the_citizen_replies_on_the_tracking_page(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}),
                ("ask_citizen", {"text": "Số biên nhận hồ sơ?"}))
    page = desk_client.get(f"/t/{code}").text
    assert "Cơ quan đề nghị bạn bổ sung thông tin" in page
    assert f'action="/t/{code}/reply?lang=vi"' in page
    empty = desk_client.post(f"/t/{code}/reply", data={"version": hidden(page, "version"),
                                                       "text": "  "})
    assert empty.status_code == 422 and "Vui lòng nhập nội dung trả lời." in empty.text
    done = desk_client.post(
        f"/t/{code}/reply", data={"version": hidden(page, "version"), "text": "HS-2026-001"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/t/{code}?done=replied"
    after = desk_client.get(done.headers["location"]).text
    assert "Đã gửi nội dung trả lời của bạn." in after and "HS-2026-001" in after
    assert "Cơ quan đề nghị bạn bổ sung thông tin" not in after
    case: Case = store.repository.get(cid)
    assert case.status == "in_progress" and case.waiting_since is None


def test_not_resolved_reopens_the_case(desk_client: TestClient, store: CasesApplication) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}),
                ("answer", {"text": "Đã chấn chỉnh cán bộ."}))
    page = desk_client.get(f"/t/{code}").text
    assert "Đã giải quyết</button>" in page and "Chưa giải quyết</summary>" in page
    assert "Đã chấn chỉnh cán bộ." in page
    assert f'action="/t/{code}/confirm?lang=vi"' in page
    empty = desk_client.post(f"/t/{code}/reopen", data={"version": hidden(page, "version")})
    assert empty.status_code == 422
    assert "Vui lòng cho biết vì sao phản ánh chưa được giải quyết." in empty.text
    assert "<details open>" in empty.text
    done = desk_client.post(
        f"/t/{code}/reopen",
        data={"version": hidden(page, "version"), "text": "Vẫn bị đòi thêm giấy tờ."},
    )
    assert done.headers["location"] == f"/t/{code}?done=reopened"
    after = desk_client.get(done.headers["location"]).text
    assert "Phản ánh của bạn được mở lại" in after and "Vẫn bị đòi thêm giấy tờ." in after
    assert "Chưa giải quyết</summary>" not in after
    case: Case = store.repository.get(cid)
    assert case.status == "in_progress"


def test_partly_resolved_reopens_with_the_citizens_reason(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}), ("answer", {"text": "Đã xử lý."}))
    page = desk_client.get(f"/t/{code}").text
    assert 'id="outcome-partly"' in page and "Giải quyết một phần" in page
    assert 'name="outcome" value="partly"' in page and 'name="outcome" value="not"' in page
    version = hidden(page, "version")
    empty = desk_client.post(f"/t/{code}/reopen", data={"version": version, "outcome": "partly"})
    assert empty.status_code == 422
    assert 'id="reopen-partly-error"' in empty.text and 'id="reopen-not-error"' not in empty.text
    odd = desk_client.post(
        f"/t/{code}/reopen", data={"version": version, "outcome": "maybe", "text": "Giữ lại"}
    )
    assert odd.status_code == 422 and "Giữ lại" in odd.text
    done = desk_client.post(
        f"/t/{code}/reopen",
        data={"version": version, "outcome": "partly", "text": "Mới trả một nửa hồ sơ."},
    )
    assert done.headers["location"] == f"/t/{code}?done=reopened"
    after = desk_client.get(done.headers["location"]).text
    assert "Giải quyết một phần: Mới trả một nửa hồ sơ." in after
    case: Case = store.repository.get(cid)
    assert case.status == "in_progress"


def citizen_confirmations(store: CasesApplication, case_id: UUID) -> list[Case.CitizenConfirmed]:
    return [e for e in store.events.get(case_id) if isinstance(e, Case.CitizenConfirmed)]


def test_resolved_is_recorded_once_and_shown_on_both_timelines(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}), ("answer", {"text": "Xong."}))
    done = desk_client.post(f"/t/{code}/confirm?lang=en")
    assert done.status_code == 303 and done.headers["location"] == f"/t/{code}?done=confirmed"
    [confirmation] = citizen_confirmations(store, cid)
    assert (confirmation.answer, confirmation.actor_role) == ("resolved", "citizen")
    case: Case = store.repository.get(cid)
    assert case.status == "answered"  # the handler still resolves and closes the case
    thanks = desk_client.get(done.headers["location"]).text
    assert "Thank you for confirming" in thanks
    history = thanks.split('id="history-heading"')[1]
    assert "The citizen confirmed the problem was solved" in history
    assert 'id="confirm-yes"' not in thanks  # answered: nothing more to tap
    again = desk_client.post(f"/t/{code}/confirm")  # a second tap, or the back button
    assert again.status_code == 303 and again.headers["location"] == f"/t/{code}?done=confirmed"
    assert len(citizen_confirmations(store, cid)) == 1
    later = desk_client.get(f"/t/{code}").text
    assert 'id="confirmed"' in later and 'id="confirm-yes"' not in later
    log_in(desk_client, "canbo.nhattan")
    staff_page = desk_client.get(f"/staff/cases/{cid}?lang=vi").text
    assert "Công dân xác nhận đã được giải quyết" in staff_page


def test_a_new_answer_may_be_confirmed_again_and_a_reopened_case_not(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}), ("answer", {"text": "Xong."}))
    assert desk_client.post(f"/t/{code}/confirm").status_code == 303
    version = str(store.repository.get(cid).version)
    reopened = desk_client.post(
        f"/t/{code}/reopen", data={"version": version, "outcome": "not", "text": "Lại bị hẹn"}
    )
    assert reopened.status_code == 303
    refused = desk_client.post(f"/t/{code}/confirm")
    assert refused.status_code == 422 and "Tải lại trang" in refused.text
    staff_steps(desk_client, cid, ("answer", {"text": "Đã trả hồ sơ."}))
    assert 'id="confirm-yes"' in desk_client.get(f"/t/{code}").text
    assert desk_client.post(f"/t/{code}/confirm").status_code == 303
    assert len(citizen_confirmations(store, cid)) == 2
    unknown = tracking_code_for(uuid4())
    assert desk_client.post(f"/t/{unknown}/confirm").status_code == 404


def test_a_stale_citizen_page_is_409(desk_client: TestClient, store: CasesApplication) -> None:
    cid, code = open_case(store)
    staff_steps(desk_client, cid, ("accept", {}), ("claim", {}), ("answer", {"text": "Xong."}))
    page = desk_client.get(f"/t/{code}").text
    staff_steps(desk_client, cid, ("answer", {"text": "Bổ sung câu trả lời."}))
    stale = desk_client.post(
        f"/t/{code}/reopen", data={"version": hidden(page, "version"), "text": "Chưa xong"}
    )
    assert stale.status_code == 409
    assert "Có người vừa thay đổi phản ánh này" in stale.text
    assert f'href="/t/{code}"' in stale.text


def test_citizen_steps_only_on_a_case_in_the_right_state(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store)
    page = desk_client.get(f"/t/{code}").text
    assert "Chưa giải quyết</summary>" not in page and "/reply" not in page
    version = str(store.repository.get(cid).version)
    answer = desk_client.post(f"/t/{code}/reopen", data={"version": version, "text": "Sao?"})
    assert answer.status_code == 422
    assert desk_client.post(f"/t/{code}/close", data={"version": version}).status_code == 404
    unknown = tracking_code_for(uuid4())
    answer = desk_client.post(f"/t/{unknown}/reopen", data={"version": "1", "text": "x"})
    assert answer.status_code == 404


def test_staff_see_the_place_a_request_is_about(
    desk_client: TestClient, store: CasesApplication
) -> None:
    cid, code = open_case(store, address="Bộ phận Một cửa, 655 Lạc Long Quân",
                          latitude=21.081139, longitude=105.818349)
    plain, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(f"/staff/cases/{cid}?lang=vi").text
    place = page.split('id="case-place">')[1].split("</dd>")[0]
    assert "Bộ phận Một cửa, 655 Lạc Long Quân" in place and "21.081139, 105.818349" in place
    assert 'id="case-place"' not in desk_client.get(f"/staff/cases/{plain}").text
    desk_client.cookies.clear()
    assert "Lạc Long Quân" not in desk_client.get(f"/t/{code}").text  # staff only
