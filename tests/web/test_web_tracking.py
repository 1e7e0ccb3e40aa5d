"""The landing page and the tracking page."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from fastapi.testclient import TestClient

from feedback_core.identity import case_id_for, tracking_code_for
from feedback_core.qr_tokens import sign_counter
from feedback_core.settings import Settings
from tests.web.web_doubles import FakeQueries, status_row


def test_landing_lists_every_counter_with_its_qr_link(
    client: TestClient, settings: Settings
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for counter_id in ("tay-ho-q1", "nhat-tan-q3", "phu-thuong-q1"):
        assert f'href="/q/{sign_counter(counter_id, settings.secret)}"' in page.text
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
