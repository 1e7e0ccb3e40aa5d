"""The machine endpoints of the route table (``test_access_routes.ROUTES``): a missing or
wrong API key or signature is 401/403 and publishes nothing; a kiosk's device token opens the
kiosk form and nothing else (every other GET with it is refused or not found)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedback_core.devices import DevicesApplication
from tests.web.conftest import POPO
from tests.web.test_access_routes import MACHINE, PUBLIC, ROUTES, Reading, app_routes
from tests.web.web_doubles import NOW

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")  # a tracking code's shape


@pytest.fixture(scope="module")
def world() -> Iterator[Reading]:
    built = Reading()
    yield built
    for client in built.clients.values():
        client.close()


@pytest.fixture(scope="module")
def kiosk_token(world: Reading) -> str:
    if world.services.devices is None:
        world.services.devices = DevicesApplication(env=POPO)
    return world.services.devices.enrol("nhat-tan-q1", NOW, "lanhdao.nhattan", "Máy 1",
                                        "canbo.nhattan")


def with_token(path: str, token: str) -> str:
    """The route's path with every parameter replaced by the token (``.{fmt}`` by json)."""
    path = path.replace(".{fmt}", ".json").replace("{rest:path}", token)
    return re.sub(r"\{[^}]+\}", token, path)


KIOSK_PAGES = {"GET /kiosk/{token}", "GET /kiosk/{token}/thanks"}


def test_a_kiosk_token_reads_nothing_but_its_form(world: Reading, kiosk_token: str) -> None:
    """Every GET route with the token in its path, a bearer header, an API-key header and
    ``?api_key=``: refused or not found, except the kiosk form and its thank-you screen,
    which carry no tracking code."""
    gets = sorted(r for r in app_routes(world) if r.startswith(("GET ", "* ")))
    assert len(gets) > 40
    headers = {"Authorization": f"Bearer {kiosk_token}", "X-Api-Key": kiosk_token}
    with TestClient(world.app, follow_redirects=False) as device:
        for route in gets:
            path = with_token(route.split(" ", 1)[1], kiosk_token)
            answer = device.get(path, headers=headers, params={"api_key": kiosk_token})
            if route in KIOSK_PAGES:
                assert answer.status_code == 200, route
                assert not CODE.search(answer.text), route
            elif re.search(r"\{(?!fmt\})", route):  # the token as an id, a code, a unit
                assert answer.status_code in (303, 400, 401, 403, 404), (route, answer.status_code)
                if answer.status_code == 303:
                    assert answer.headers["location"].startswith("/login"), route
            elif ROUTES[route] != PUBLIC:  # staff and machine reads ignore the token
                assert answer.status_code in (303, 401, 403, 404), (route, answer.status_code)


def published(world: Reading) -> int:
    return len(world.services.publisher.published)  # type: ignore[attr-defined]


CALL = {"call_id": "matrix-1", "unit_id": "nhat-tan", "called_at": "2026-11-23T10:00:00+07:00",
        "description": "Cán bộ hẹn lại nhiều lần.", "category": "delay"}
MACHINE_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/hotline/v1/calls", {"json": CALL}),
    ("/api/hotline/v1/calls", {"json": CALL, "headers": {"Authorization": "Bearer wrong"}}),
    ("/api/hotline/v1/calls", {"json": CALL, "headers": {"X-Api-Key": "wrong"}}),
    ("/open311/v2/requests.json", {"data": {"service_code": "delay", "description": "Chậm"}}),
    ("/open311/v2/requests.json", {"data": {"service_code": "delay", "description": "Chậm",
                                             "api_key": "wrong"}}),
    # No OA is configured in this world (404 unknown OA); a forged signature for a configured
    # OA: test_zalo_webhook.py::test_a_forged_signature_is_refused_and_nothing_is_published.
    ("/zalo/webhook", {"content": json.dumps({"event_name": "user_send_text",
                                              "message": {"text": "Chậm"}})}),
    ("/zalo/webhook", {"content": json.dumps({"event_name": "user_send_text"}),
                       "headers": {"X-ZEvent-Signature": "mac=" + "0" * 64}}),
]


@pytest.mark.parametrize(("path", "request_args"), MACHINE_POSTS,
                         ids=[f"{p}-{i}" for i, (p, _) in enumerate(MACHINE_POSTS)])
def test_machine_posts_without_a_valid_key_publish_nothing(
    world: Reading, path: str, request_args: dict[str, Any]
) -> None:
    assert ROUTES[f"POST {path.replace('.json', '.{fmt}')}"] == MACHINE
    before = published(world), world.recorded()
    with TestClient(world.app, follow_redirects=False) as machine:
        answer = machine.post(path, **request_args)
    refused = (401, 403, 404) if path == "/zalo/webhook" else (401, 403)
    assert answer.status_code in refused, (path, answer.status_code, answer.text[:300])
    assert (published(world), world.recorded()) == before


def test_a_staff_session_is_no_api_key(world: Reading) -> None:
    """Signed in as the operator, the hotline API still wants its key."""
    before = published(world)
    answer = world.client("operator").post("/api/hotline/v1/calls", json=CALL)
    assert answer.status_code == 401
    assert published(world) == before
