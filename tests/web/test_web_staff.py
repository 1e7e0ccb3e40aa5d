"""Staff sign-in, CSRF, and the queue limited to the account's units."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from feedback_core.organisation import Organisation
from tests.web.web_doubles import FakeQueries, hidden, queue_row

PASSWORD = "demo-2026"


def log_in(client: TestClient, username: str, password: str = PASSWORD, next_url: str = ""):
    page = client.get("/login", params={"next": next_url} if next_url else None)
    data = {"csrf_token": hidden(page.text, "csrf_token"), "username": username}
    data |= {"password": password, "next": hidden(page.text, "next")}
    return client.post("/login", data=data)


def test_login_page(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'type="password"' in page.text
    assert hidden(page.text, "csrf_token")
    assert page.headers["cache-control"] == "no-store"


def test_good_login_goes_to_the_queue(client: TestClient) -> None:
    answer = log_in(client, "canbo.nhattan")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/queue"
    assert client.get("/staff/queue").status_code == 200


def test_bad_password_is_401(client: TestClient) -> None:
    answer = log_in(client, "canbo.nhattan", "wrong")
    assert answer.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in answer.text
    assert 'value="canbo.nhattan"' in answer.text
    assert client.get("/staff/queue").status_code == 303


def test_unknown_user_is_401(client: TestClient) -> None:
    assert log_in(client, "nobody").status_code == 401


def test_login_without_csrf_token_is_403(client: TestClient) -> None:
    client.get("/login")
    data = {"username": "canbo.nhattan", "password": PASSWORD}
    answer = client.post("/login", data=data)
    assert answer.status_code == 403
    answer = client.post("/login", data=data | {"csrf_token": "guessed"})
    assert answer.status_code == 403
    assert client.get("/staff/queue").status_code == 303


def test_queue_requires_login(client: TestClient) -> None:
    answer = client.get("/staff/queue")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstaff%2Fqueue"


def test_login_returns_to_next_but_never_off_site(client: TestClient) -> None:
    assert (
        log_in(client, "canbo.nhattan", next_url="/staff/queue?lang=en").headers["location"]
        == "/staff/queue?lang=en"
    )
    client.cookies.clear()
    answer = log_in(client, "canbo.nhattan", next_url="//evil.example/")
    assert answer.headers["location"] == "/staff/queue"


def test_queue_shows_only_the_accounts_subtree(
    client: TestClient, queries: FakeQueries, organisation: Organisation
) -> None:
    queries.rows = [
        queue_row("nhat-tan", "nhat-tan-q2", date(2026, 11, 20), summary="<b>Trễ hẹn</b>"),
        queue_row("quang-an", "quang-an-q1", date(2026, 11, 25), summary="Ở Quảng An"),
    ]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue")
    assert [units for units, _, _ in queries.search_calls] == [["nhat-tan"]]
    assert organisation.subtree("nhat-tan") == ["nhat-tan"]
    assert queries.rows[0].tracking_code in page.text
    assert "&lt;b&gt;Trễ hẹn&lt;/b&gt;" in page.text
    assert queries.rows[1].tracking_code not in page.text
    assert "Ở Quảng An" not in page.text
    assert "Nguyễn Thị Lan" in page.text


def test_head_of_district_sees_the_wards_below(client: TestClient, queries: FakeQueries) -> None:
    queries.rows = [
        queue_row("nhat-tan", "nhat-tan-q2", date(2026, 11, 20)),
        queue_row("quang-an", "quang-an-q1", date(2026, 11, 25)),
    ]
    log_in(client, "lanhdao.tayho")
    page = client.get("/staff/queue")
    assert sorted(queries.search_calls[0][0]) == sorted(
        ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
    )
    assert all(row.tracking_code in page.text for row in queries.rows)


def test_queue_columns_and_overdue_marked_in_text(client: TestClient, queries: FakeQueries) -> None:
    overdue = queue_row("nhat-tan", "nhat-tan-q2", date(2026, 11, 20), category="harassment")
    due_today = queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 23), rating=None)
    queries.rows = [overdue, due_today]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue").text
    assert page.count("Quá hạn") == 1
    assert "20/11/2026" in page and "23/11/2026" in page
    assert "10/11/2026 08:00" in page  # received 01:00 UTC
    assert "Sách nhiễu, gây phiền hà" in page
    assert "Quầy 2 – Đất đai – Xây dựng" in page
    assert "2/5" in page


def test_queue_in_english(client: TestClient, queries: FakeQueries) -> None:
    queries.rows = [queue_row("nhat-tan", "nhat-tan-q2", date(2026, 11, 20))]
    log_in(client, "canbo.nhattan")
    page = client.get("/staff/queue?lang=en").text
    assert "working day(s) overdue" in page and "Open complaints" in page
    assert "Counter 2 – Land and construction" in page


def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    log_in(client, "canbo.nhattan")
    assert client.post("/logout", data={}).status_code == 403
    page = client.get("/staff/queue")
    answer = client.post("/logout", data={"csrf_token": hidden(page.text, "csrf_token")})
    assert answer.status_code == 303
    assert client.get("/staff/queue").status_code == 303


def test_csrf_token_changes_at_login(client: TestClient) -> None:
    before = hidden(client.get("/login").text, "csrf_token")
    log_in(client, "canbo.nhattan")
    after = hidden(client.get("/staff/queue").text, "csrf_token")
    assert before != after
