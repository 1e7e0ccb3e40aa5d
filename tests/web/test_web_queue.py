"""The unit queue, my cases and transfers: filters, search, badges, pagination, bulk form."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from fastapi.testclient import TestClient

from projections.queries import UNASSIGNED, QueueFilters
from tests.web.web_doubles import FakeQueries, log_in, queue_row

TODAY = date(2026, 11, 23)  # Monday; NOW is 10:30 that day in Hà Nội


def codes_in(html: str) -> list[str]:
    code = r"([0-9A-Z]{4}(?:-[0-9A-Z]{4}){2})"
    return re.findall(r'<a href="/staff/cases/[0-9a-f-]+">' + code + "</a>", html)


def test_badges_due_today_overdue_waiting_transfer_escalated(
    client: TestClient, queries: FakeQueries
) -> None:
    overdue = queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 19))  # Thu: Fri + Mon late
    today = queue_row("nhat-tan", "nhat-tan-q1", TODAY)
    waiting = queue_row(
        "nhat-tan", "nhat-tan-q1", date(2026, 11, 18),
        status="waiting_for_citizen", waiting_since=date(2026, 11, 16),
    )
    moving = queue_row(
        "nhat-tan", "nhat-tan-q1", date(2026, 12, 10), pending_transfer="quang-an",
        escalated=True,
    )
    queries.rows = [overdue, today, waiting, moving]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue").text
    rows = page.split("<tbody>")[1].split("<tr")[1:]
    by_code = {r: next(row for row in rows if r in row) for r in codes_in(page)}
    assert "Quá hạn 2 ngày làm việc" in by_code[overdue.tracking_code]
    assert "Đến hạn hôm nay" in by_code[today.tracking_code]
    # Asked before its due date: the clock stopped, so it is waiting, not late.
    assert "Chờ công dân" in by_code[waiting.tracking_code]
    assert "Quá hạn" not in by_code[waiting.tracking_code]
    assert "Đang chuyển" in by_code[moving.tracking_code]
    assert "Đã báo cáo lãnh đạo" in by_code[moving.tracking_code]
    assert codes_in(page) == [
        waiting.tracking_code, overdue.tracking_code, today.tracking_code, moving.tracking_code
    ]


def test_overdue_across_a_weekend_counts_working_days(
    client: TestClient, queries: FakeQueries
) -> None:
    queries.rows = [queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 13))]  # a Friday
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue").text
    assert "Quá hạn 6 ngày làm việc" in page  # 16–20 and 23 November; not the weekends


def test_filters_are_query_parameters(client: TestClient, queries: FakeQueries) -> None:
    log_in(client, "lanhdao.tayho")
    params = {
        "state": "accepted", "category": "delay", "channel": "qr", "assignee": UNASSIGNED,
        "overdue": "1", "q": "giấy tờ", "page": "2",
    }
    page = client.get("/staff/queue", params=params)
    assert page.status_code == 200
    units, filters, number = queries.search_calls[-1]
    assert filters == QueueFilters(
        state="accepted", category="delay", channel="qr", assignee=UNASSIGNED,
        overdue_on=TODAY, text="giấy tờ",
    )
    assert number == 2
    assert 'value="accepted" selected' in page.text
    assert 'name="overdue" value="1" checked' in page.text
    assert 'href="/staff/queue">Bỏ lọc</a>' in page.text


def test_unknown_filter_values_are_ignored(client: TestClient, queries: FakeQueries) -> None:
    log_in(client, "canbo.nhattan")
    client.get("/staff/queue", params={"state": "closed", "category": "x", "page": "-3",
                                       "assignee": "nobody"})
    _, filters, number = queries.search_calls[-1]
    assert filters == QueueFilters()
    assert number == 1


def test_search_by_tracking_code_as_typed_or_by_text(
    client: TestClient, queries: FakeQueries
) -> None:
    first = queue_row("nhat-tan", "nhat-tan-q1", TODAY, description="Máy lấy số bị hỏng")
    second = queue_row("nhat-tan", "nhat-tan-q2", TODAY, description="Chờ quá lâu")
    queries.rows = [first, second]
    log_in(client, "canbo.nhattan")
    typed = first.tracking_code.lower().replace("-", " ")
    page = client.get("/staff/queue", params={"q": typed}).text
    assert codes_in(page) == [first.tracking_code]
    assert "tìm theo mã theo dõi" in page
    page = client.get("/staff/queue", params={"q": "MÁY LẤY"}).text
    assert codes_in(page) == [first.tracking_code]
    page = client.get("/staff/queue", params={"q": "không có"}).text
    assert codes_in(page) == [] and "Không có phản ánh nào khớp với bộ lọc." in page


def test_pages_of_fifty(client: TestClient, queries: FakeQueries) -> None:
    queries.rows = [
        queue_row("nhat-tan", "nhat-tan-q1", date(2026, 12, 1 + i % 28)) for i in range(120)
    ]
    log_in(client, "canbo.nhattan")
    first = client.get("/staff/queue?category=delay").text
    assert len(codes_in(first)) == 50
    assert "Số phản ánh: 120" in first
    assert 'href="/staff/queue?category=delay&amp;page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    last = client.get("/staff/queue?category=delay&page=3").text
    assert len(codes_in(last)) == 20
    assert 'href="/staff/queue?category=delay&amp;page=2" rel="prev"' in last
    assert 'rel="next"' not in last
    everything = codes_in(first) + codes_in(client.get("/staff/queue?page=2").text)
    assert len(set(everything + codes_in(last))) == 120


def test_my_cases_are_the_ones_assigned_to_me(client: TestClient, queries: FakeQueries) -> None:
    mine = queue_row("nhat-tan", "nhat-tan-q1", TODAY, assignee="canbo.nhattan",
                     status="in_progress")
    other = queue_row("nhat-tan", "nhat-tan-q1", TODAY, assignee="lanhdao.tayho",
                      status="in_progress")
    queries.rows = [mine, other, queue_row("nhat-tan", "nhat-tan-q1", TODAY)]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/my?assignee=lanhdao.tayho").text
    assert codes_in(page) == [mine.tracking_code]
    assert queries.search_calls[-1][1].assignee == "canbo.nhattan"
    assert "Phản ánh tôi đang xử lý" in page
    assert 'id="assignee"' not in page  # no assignee filter on my own cases
    assert 'aria-current="page">Việc của tôi' in page


def test_the_citizens_words_are_escaped(client: TestClient, queries: FakeQueries) -> None:
    queries.rows = [queue_row("nhat-tan", "nhat-tan-q1", TODAY, summary="<script>x</script>")]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue").text
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_bulk_form_only_for_roles_that_may_assign(
    client: TestClient, queries: FakeQueries
) -> None:
    queries.rows = [queue_row("nhat-tan", "nhat-tan-q1", TODAY, version=4)]
    case = queries.rows[0]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue").text
    assert f'name="case" value="{case.case_id}:4"' in page
    assert 'action="/staff/queue/assign"' in page
    assert '<option value="canbo.nhattan">Nguyễn Thị Lan</option>' in page
    client.cookies.clear()
    log_in(client, "thanhtra.nhattan")
    page = client.get("/staff/queue").text
    assert case.tracking_code in page  # an inspector reads ...
    assert 'name="case"' not in page and "/staff/queue/assign" not in page  # ... only


def test_admins_do_not_see_cases(client: TestClient, queries: FakeQueries) -> None:
    log_in(client, "quantri.nhattan")
    page = client.get("/staff/queue")
    assert page.status_code == 403
    assert "Tài khoản của bạn không có quyền xem phản ánh." in page.text
    assert queries.search_calls == []


def test_transfers_into_the_scope(client: TestClient, queries: FakeQueries) -> None:
    incoming = queue_row("nhat-tan", "nhat-tan-q1", TODAY, pending_transfer="quang-an",
                         status="accepted", version=3)
    outgoing = replace(
        queue_row("quang-an", "quang-an-q1", TODAY), pending_transfer="nhat-tan"
    )
    queries.rows = [incoming, outgoing]
    log_in(client, "canbo.quangan")
    page = client.get("/staff/transfers").text
    assert incoming.tracking_code in page and outgoing.tracking_code not in page
    assert f'action="/staff/cases/{incoming.case_id}/accept_transfer"' in page
    assert f'action="/staff/cases/{incoming.case_id}/return_transfer"' in page
    assert "UBND phường Nhật Tân" in page and "UBND phường Quảng An" in page
    assert 'name="reason" rows="3" maxlength="4000" required' in page
    client.cookies.clear()
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/transfers").text
    assert incoming.tracking_code not in page and outgoing.tracking_code in page


def test_queue_read_side_failure_is_a_500_page(
    client: TestClient, queries: FakeQueries
) -> None:
    log_in(client, "canbo.nhattan")
    queries.fail = True
    with TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies) as other:
        page = other.get("/staff/queue")
    assert page.status_code == 500 and "Hệ thống đang gặp sự cố" in page.text
