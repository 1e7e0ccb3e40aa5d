"""/healthz reports the components and an overall status."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.web_doubles import FakeHealth
from web.services import WebServices


def test_healthy(client: TestClient, health: FakeHealth) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", **health.report}


def test_degraded_when_a_component_is_not_ok(client: TestClient, health: FakeHealth) -> None:
    health.report["log"] = {"ok": False, "error": "no broker"}
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "degraded"
    assert answer.json()["log"] == {"ok": False, "error": "no broker"}


def test_degraded_when_the_check_itself_fails(client: TestClient, services: WebServices) -> None:
    async def broken() -> dict[str, object]:
        raise RuntimeError("boom")

    services.health = broken
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "degraded"}
