"""The optional second factor: sign-in in two steps for an account with a TOTP secret, and
the account page that turns it on (QR code, confirmation code) and off (password)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.totp import decode_secret, new_totp_secret, totp
from tests.web.web_doubles import NOW, hidden, log_in
from web.services import WebServices

USER = "canbo.nhattan"


def code_at(secret: str, seconds: int = 0) -> str:
    return totp(decode_secret(secret), NOW + timedelta(seconds=seconds))


def enable(services: WebServices, org_app: OrganisationApplication, username: str = USER) -> str:
    secret = new_totp_secret()
    org_app.enable_totp(username, secret=secret, code=code_at(secret), actor="system", at=NOW)
    services.refresh_organisation()
    return secret


def send_code(client: TestClient, code: str) -> httpx.Response:
    page = client.get("/login/totp")
    assert page.status_code == 200, page.text
    return client.post("/login/totp", data={"csrf_token": hidden(page.text, "csrf_token"),
                                            "code": code})


def signed_in(client: TestClient) -> bool:
    return client.get("/staff/queue").status_code == 200


def test_without_a_secret_the_password_is_enough(org_client: TestClient) -> None:
    answer = log_in(org_client, USER)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/queue"
    assert signed_in(org_client)


def test_with_a_secret_the_code_is_asked_for(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    answer = log_in(org_client, USER)
    assert answer.status_code == 303 and answer.headers["location"] == "/login/totp"
    assert not signed_in(org_client)  # the password alone opens nothing

    page = org_client.get("/login/totp")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert page.headers["cache-control"] == "no-store"

    wrong = send_code(org_client, "000000" if code_at(secret) != "000000" else "111111")
    assert wrong.status_code == 401
    assert "Mã xác thực không đúng" in wrong.text
    assert not signed_in(org_client)

    right = send_code(org_client, code_at(secret))
    assert right.status_code == 303
    assert right.headers["location"] == "/staff/queue"
    assert signed_in(org_client)


def test_a_code_from_the_previous_period_is_accepted_and_once_only(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    code = code_at(secret, -30)  # clock drift of one period
    log_in(org_client, USER)
    assert send_code(org_client, code).status_code == 303
    org_client.cookies.clear()
    log_in(org_client, USER)
    again = send_code(org_client, code)
    assert again.status_code == 401
    assert not signed_in(org_client)


def test_the_second_step_keeps_the_page_asked_for(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    assert log_in(org_client, USER, next_url="/staff/my").headers["location"] == "/login/totp"
    answer = send_code(org_client, code_at(secret))
    assert answer.headers["location"] == "/staff/my"


def test_the_second_step_expires_after_five_minutes(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    log_in(org_client, USER)
    token = hidden(org_client.get("/login/totp").text, "csrf_token")
    org_services.clock = lambda: NOW + timedelta(minutes=6)
    late = org_client.post("/login/totp", data={"csrf_token": token,
                                                "code": code_at(secret, 360)})
    assert late.status_code == 401
    assert "Phiên đăng nhập đã hết hạn" in late.text
    assert org_client.get("/login/totp").headers["location"] == "/login"
    assert not signed_in(org_client)


def test_five_wrong_codes_ask_for_the_password_again(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    log_in(org_client, USER)
    token = hidden(org_client.get("/login/totp").text, "csrf_token")
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    answers = [org_client.post("/login/totp", data={"csrf_token": token, "code": wrong})
               for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert "quá nhiều lần" in answers[-1].text and 'type="password"' in answers[-1].text
    late = org_client.post("/login/totp", data={"csrf_token": token, "code": code_at(secret)})
    assert late.status_code == 401 and not signed_in(org_client)


def test_the_code_form_needs_its_csrf_token(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    log_in(org_client, USER)
    answer = org_client.post("/login/totp", data={"code": code_at(secret)})
    assert answer.status_code == 403 and not signed_in(org_client)


def test_enabling_the_second_factor_on_the_account_page(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    log_in(org_client, USER)
    page = org_client.get("/staff/account/totp")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<svg class="qr"' in page.text and "<path" in page.text
    assert "<script" not in page.text.split("</head>")[1]
    assert "otpauth://totp/" in page.text
    secret_text = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret_text
    secret = secret_text.group(1).replace(" ", "")
    assert org_client.get("/staff/account/totp").text.count(secret_text.group(1)) == 1  # same

    token = hidden(page.text, "csrf_token")
    wrong = org_client.post("/staff/account/totp",
                            data={"csrf_token": token, "action": "enable", "code": "12345"})
    assert wrong.status_code == 422 and "Mã xác thực không khớp" in wrong.text
    assert org_app.staff_member(USER).totp_secret is None

    done = org_client.post("/staff/account/totp", data={"csrf_token": token, "action": "enable",
                                                        "code": code_at(secret)})
    assert done.status_code == 303 and done.headers["location"] == "/staff/account/totp"
    assert org_app.staff_member(USER).totp_secret == secret
    assert org_services.organisation.staff[USER].totp_secret == secret
    after = org_client.get("/staff/account/totp")
    assert "Đã bật xác thực hai bước" in after.text and '<svg class="qr"' not in after.text

    org_client.cookies.clear()
    assert log_in(org_client, USER).headers["location"] == "/login/totp"


def test_enabling_needs_the_csrf_token(org_client: TestClient,
                                       org_app: OrganisationApplication) -> None:
    log_in(org_client, USER)
    org_client.get("/staff/account/totp")
    answer = org_client.post("/staff/account/totp", data={"action": "enable", "code": "123456"})
    assert answer.status_code == 403
    assert org_app.staff_member(USER).totp_secret is None


def test_disabling_asks_for_the_password_again(
    org_client: TestClient, org_services: WebServices, org_app: OrganisationApplication
) -> None:
    secret = enable(org_services, org_app)
    log_in(org_client, USER)
    send_code(org_client, code_at(secret))
    page = org_client.get("/staff/account/totp")
    assert 'id="totp-disable"' in page.text
    token = hidden(page.text, "csrf_token")
    wrong = org_client.post("/staff/account/totp",
                            data={"csrf_token": token, "action": "disable", "password": "nope"})
    assert wrong.status_code == 401 and "Mật khẩu không đúng." in wrong.text
    assert org_app.staff_member(USER).totp_secret == secret
    done = org_client.post("/staff/account/totp", data={
        "csrf_token": token, "action": "disable", "password": "demo-2026"})
    assert done.status_code == 303
    assert org_app.staff_member(USER).totp_secret is None
    org_client.cookies.clear()
    assert log_in(org_client, USER).headers["location"] == "/staff/queue"


def test_the_account_page_is_for_every_signed_in_role(org_client: TestClient) -> None:
    assert org_client.get("/staff/account/totp").status_code == 303  # to the login page
    log_in(org_client, "quantri.nhattan")  # an administrator, who sees no cases
    page = org_client.get("/staff/account/totp?lang=en")
    assert page.status_code == 200
    assert "Two-step verification" in page.text and "Organisation" in page.text
    assert "/staff/queue" not in page.text  # no links to pages the role cannot open
