"""schemathesis against the app's own OpenAPI document: every operation, a bounded number of
generated requests each (derandomised, so a run is repeatable), 0 server errors.

Requests carry the session of an account whose role opens the operation's pages and, where
the document has a CSRF field or an API key, the real ones, so the fuzzed values reach the
code behind the sign-in, the CSRF check and the key check rather than stopping there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.security.conftest import (
    ADMIN,
    HANDLER,
    HEAD,
    HOTLINE_KEY,
    INSPECTOR,
    OPEN311_KEY,
    OPERATOR,
    build_security_app,
    signed_in,
)

ROLE_OF_PREFIX = (("/admin", ADMIN), ("/inspect", INSPECTOR), ("/staff/hotline", OPERATOR),
                  ("/staff/cases", HANDLER))


class Sessions:
    """A signed-in cookie jar and CSRF token per account, made once per module."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._made: dict[str, tuple[dict[str, str], str]] = {}

    def of(self, path: str) -> tuple[dict[str, str], str]:
        username = next((u for prefix, u in ROLE_OF_PREFIX if path.startswith(prefix)), HEAD)
        if username not in self._made:
            self.client.cookies.clear()
            token = signed_in(self.client, username)
            self._made[username] = (dict(self.client.cookies), token)
        return self._made[username]


# Built at import: schemathesis makes one test per operation when the module is collected.
SECURED = build_security_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", SECURED.app)


@pytest.fixture(scope="module")
def sessions() -> Iterator[Sessions]:
    with TestClient(SECURED.app, follow_redirects=False) as client:
        yield Sessions(client)


def with_real_credentials(case: Any, token: str) -> None:
    """Put the session's CSRF token and the demo API keys where the operation takes them."""
    if isinstance(case.body, dict):
        if "csrf_token" in case.body:
            case.body["csrf_token"] = token
        if "api_key" in case.body:
            case.body["api_key"] = OPEN311_KEY
    if isinstance(case.query, dict) and "api_key" in case.query:
        case.query["api_key"] = OPEN311_KEY
    if case.path.startswith("/api/hotline"):
        case.headers = {**(case.headers or {}), "X-Api-Key": HOTLINE_KEY}
        case.headers.pop("Authorization", None)


def test_the_document_is_served_and_the_docs_uis_are_off(sessions: Sessions) -> None:
    document = sessions.client.get("/openapi.json").json()
    assert document["paths"]["/q/{token}"]["post"]["requestBody"]["content"]
    assert "Open311ApiKey" in document["components"]["securitySchemes"]
    assert sessions.client.get("/docs").status_code == 404
    assert sessions.client.get("/redoc").status_code == 404


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_with_a_server_error(case: Any, sessions: Sessions) -> None:
    cookies, token = sessions.of(case.path)
    with_real_credentials(case, token)
    response = case.call(cookies=cookies)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}\n"
        f"{case.as_curl_command()}\n{response.text[:2000]}"
    )
