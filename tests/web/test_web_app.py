"""App wiring: the publisher's lifespan and the page for unexpected errors."""

from __future__ import annotations

from uuid import uuid4

from fastapi.testclient import TestClient

from feedback_core.identity import tracking_code_for
from tests.web.web_doubles import FakeQueries, RecordingPublisher
from web.app import create_app
from web.services import WebServices


def test_publisher_started_and_stopped_with_the_app(services: WebServices) -> None:
    publisher = services.publisher
    assert isinstance(publisher, RecordingPublisher)
    with TestClient(create_app(services)):
        assert publisher.started and not publisher.stopped
    assert publisher.stopped


def test_unexpected_error_is_an_html_page(services: WebServices, queries: FakeQueries) -> None:
    queries.fail = True
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        page = client.get(f"/t/{tracking_code_for(uuid4())}")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Hệ thống đang gặp sự cố" in page.text
    assert "Traceback" not in page.text and "database unavailable" not in page.text
    assert page.headers["x-content-type-options"] == "nosniff"


def test_citizen_pages_set_no_session_cookie(client: TestClient, token: str) -> None:
    client.get("/")
    client.get(f"/q/{token}")
    assert "phananh_session" not in client.cookies
