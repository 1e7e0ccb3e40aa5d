"""Security headers on every page the app serves (each GET operation of its OpenAPI document,
signed out and signed in with a role that opens it, plus error pages and static files), HSTS
only over TLS, and cookies HttpOnly, SameSite and - over TLS - Secure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from feedback_core.settings import Settings
from tests.security.conftest import (
    ADMIN,
    HEAD,
    INSPECTOR,
    OPERATOR,
    SecurityApp,
    build_security_app,
    signed_in,
)
from web.app import SESSION_COOKIE
from web.i18n import LANG_COOKIE

BASE_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def pages(secured: SecurityApp) -> list[str]:
    """A URL for every GET operation, path parameters filled with a plausible value."""
    token = secured.services.qr_token_of("nhat-tan-q1")
    values = {"token": token, "fmt": "json", "unit_id": "nhat-tan", "counter_id": "nhat-tan-q1",
              "table": "units", "service_code": "delay"}
    document = secured.app.openapi()
    urls = []
    for path, operations in document["paths"].items():
        if "get" in operations:
            urls.append(re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x1"), path))
    return urls


def assert_secure_headers(response: object, url: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in BASE_HEADERS.items():
        assert headers.get(name) == value, (url, name)
    csp = headers.get("content-security-policy", "")
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and "'unsafe-inline'" not in script_src.group(1), (url, csp)
    assert "frame-ancestors 'none'" in csp, url
    assert "strict-transport-security" not in headers, url  # plain HTTP here


@pytest.fixture(scope="module")
def secured_module() -> SecurityApp:
    return build_security_app()


@pytest.fixture(scope="module")
def clients(secured_module: SecurityApp) -> Iterator[dict[str, TestClient]]:
    made: dict[str, TestClient] = {}
    try:
        for who in ("", HEAD, ADMIN, INSPECTOR, OPERATOR):
            client = TestClient(secured_module.app, follow_redirects=False)
            client.__enter__()
            made[who] = client
            if who:
                signed_in(client, who)
        yield made
    finally:
        for client in made.values():
            client.__exit__(None, None, None)


def test_every_page_has_the_headers_for_every_role(
    secured_module: SecurityApp, clients: dict[str, TestClient]
) -> None:
    urls = pages(secured_module)
    assert len(urls) > 30
    seen: set[int] = set()
    for who, client in clients.items():
        for url in urls:
            answer = client.get(url)
            seen.add(answer.status_code)
            assert_secure_headers(answer, f"{who or 'anonymous'} {url}")
    assert {200, 303} <= seen


@pytest.mark.parametrize("method,url", [
    ("GET", "/no-such-page"), ("DELETE", "/"), ("GET", "/static/site.css"),
    ("POST", "/logout"), ("GET", "/q/forged-token"), ("GET", "/openapi.json"),
])
def test_error_pages_and_static_files_have_them_too(
    clients: dict[str, TestClient], method: str, url: str
) -> None:
    assert_secure_headers(clients[""].request(method, url), url)


def test_cookies_are_httponly_and_samesite_and_not_secure_over_plain_http(
    secured: SecurityApp,
) -> None:
    with TestClient(secured.app, follow_redirects=False) as client:
        cookies = client.get("/login?lang=en").headers.get_list("set-cookie")
    assert {c.split("=")[0] for c in cookies} == {SESSION_COOKIE, LANG_COOKIE}
    for cookie in cookies:
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered, cookie
        assert "secure" not in lowered.replace("samesite", ""), cookie


def tls_cookies_and_hsts(client: TestClient) -> tuple[list[str], str | None]:
    answer = client.get("/login?lang=vi")
    return answer.headers.get_list("set-cookie"), answer.headers.get("strict-transport-security")


def test_over_https_hsts_is_sent_and_cookies_are_secure(secured: SecurityApp) -> None:
    with TestClient(secured.app, base_url="https://testserver", follow_redirects=False) as c:
        cookies, hsts = tls_cookies_and_hsts(c)
        assert hsts and "max-age=31536000" in hsts
        assert cookies and all("; Secure" in cookie for cookie in cookies)
        assert "strict-transport-security" in c.get("/staff/queue").headers  # a redirect too


@pytest.mark.parametrize("trusted,expect_tls", [("*", True), ("10.9.8.7", False)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    secured: SecurityApp, trusted: str, expect_tls: bool
) -> None:
    """uvicorn's own proxy-headers middleware, as ``feedback web`` configures it from
    FEEDBACK_TRUSTED_PROXIES (forwarded_allow_ips)."""
    behind_proxy: Any = ProxyHeadersMiddleware(secured.app, trusted_hosts=trusted)  # type: ignore[arg-type]
    with TestClient(behind_proxy, follow_redirects=False) as client:
        client.headers["X-Forwarded-Proto"] = "https"
        cookies, hsts = tls_cookies_and_hsts(client)
    assert bool(hsts) is expect_tls
    assert all(("; Secure" in c) is expect_tls for c in cookies)


def test_secure_cookies_can_be_forced_by_setting() -> None:
    forced = build_security_app(Settings(secret_key="s", secure_cookies=True))
    with TestClient(forced.app, follow_redirects=False) as client:
        cookies, hsts = tls_cookies_and_hsts(client)
    assert cookies and all("; Secure" in c for c in cookies)
    assert hsts is None  # HSTS still only over TLS
