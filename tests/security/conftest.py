"""Fixtures of the security tests: the whole app as ``feedback_cli.services.build_web`` wires
it, on the real domain applications in memory (organisation, calendar, QR codes, cases with a
``CaseDesk``), so attacks meet the same code as production; and signed-in clients per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consumers.publisher import InProcessIntakePublisher
from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication
from feedback_core.devices import DevicesApplication
from feedback_core.inspections import InspectionsApplication
from feedback_core.settings import Settings
from tests.web.conftest import POPO, build_org_app, org_backed_services
from tests.web.test_dashboard import FakeFigures
from tests.web.web_doubles import StoreQueries, hidden, log_in
from web.app import create_app
from web.media import MemoryPhotoStore
from web.services import WebServices

# One account per role, each able to reach its own pages (demo password demo-2026).
HEAD = "lanhdao.tayho"
HANDLER = "canbo.nhattan"
ADMIN = "quantri.tayho"
INSPECTOR = "thanhtra.tayho"
OPERATOR = "tongdai.tayho"
HOTLINE_KEY = "demo-hotline-key-2026"
OPEN311_KEY = "demo-open311-key-2026"


@dataclass
class SecurityApp:
    """The app under attack, its services (to look behind the pages) and its store."""

    app: FastAPI
    services: WebServices
    store: CasesApplication


def build_security_app(settings: Settings | None = None) -> SecurityApp:
    store = CasesApplication(env=POPO)
    services = org_backed_services(
        settings or Settings(secret_key="security-test-secret"),
        build_org_app(),
        CalendarApplication(env=POPO),
        store,
        StoreQueries(store),
    )
    services.publisher = InProcessIntakePublisher(store)  # the embedded default's intake
    services.inspections = InspectionsApplication(env=POPO)
    services.photos = MemoryPhotoStore()
    services.devices = DevicesApplication(env=POPO)
    app = create_app(services)
    app.state.figures = FakeFigures()  # the figures' SQL is attacked on PostgreSQL elsewhere
    return SecurityApp(app, services, store)


@pytest.fixture
def secured() -> SecurityApp:
    return build_security_app()


@pytest.fixture
def web(secured: SecurityApp) -> Iterator[TestClient]:
    with TestClient(secured.app, follow_redirects=False) as client:
        yield client


def signed_in(client: TestClient, username: str) -> str:
    """Sign ``client`` in as ``username``; the session's CSRF token (from a staff page)."""
    answer = log_in(client, username)
    assert answer.status_code == 303, answer.text
    page = client.get("/staff/account/totp")
    assert page.status_code == 200, page.text
    return hidden(page.text, "csrf_token")
