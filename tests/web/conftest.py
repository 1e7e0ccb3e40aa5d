"""Web test fixtures: the real demo organisation and doubles of our own ports; for the case
pages, a real ``CaseDesk`` on the in-memory store with views projected from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.organisation import Organisation, organisation_from_dict
from feedback_core.qr_tokens import sign_counter
from feedback_core.settings import DEMO_ORGANISATION, Settings
from tests.web.web_doubles import NOW, FakeHealth, FakeQueries, RecordingPublisher, StoreQueries
from web.app import create_app
from web.services import WebServices

# Accounts of every role in the Nhật Tân ward, beside the demo district's handlers and head,
# so the tests cover each role at a ward (password demo-2026, like the demo accounts).
WARD_STAFF = {
    "tongdai.nhattan": ("operator", "Đinh Văn Tổng"),
    "lanhdao.nhattan": ("head", "Bùi Thị Lãnh"),
    "thanhtra.nhattan": ("inspector", "Ngô Văn Tra"),
    "quantri.nhattan": ("admin", "Phan Thị Trị"),
}


def build_test_organisation() -> Organisation:
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        demo = organisation_from_dict(json.load(f))
    handler = demo.staff["canbo.nhattan"]
    staff = dict(demo.staff)
    for username, (role, name) in WARD_STAFF.items():
        staff[username] = replace(handler, username=username, role=role, display_name=name)
    return replace(demo, staff=staff)


@pytest.fixture(scope="session")
def organisation() -> Organisation:
    return build_test_organisation()


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret")


@pytest.fixture
def queries() -> FakeQueries:
    return FakeQueries()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def health() -> FakeHealth:
    return FakeHealth()


@pytest.fixture
def services(
    settings: Settings,
    organisation: Organisation,
    publisher: RecordingPublisher,
    queries: FakeQueries,
    health: FakeHealth,
) -> WebServices:
    return WebServices(
        settings=settings,
        organisation=organisation,
        publisher=publisher,
        queries=queries,
        health=health,
        clock=lambda: NOW,
    )


@pytest.fixture
def client(services: WebServices) -> Iterator[TestClient]:
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> str:
    return sign_counter("nhat-tan-q1", settings.secret)


# --- the real domain, in memory -----------------------------------------------------------


def make_desk(app: CasesApplication, org: Organisation) -> CaseDesk:
    """Wired as feedback_cli.services.build_web wires it."""
    return CaseDesk(
        app,
        scope_of=lambda actor: org.subtree(actor.unit_id),
        calendar=BusinessCalendar,
        rules=DEFAULT_RULES,
        unit_exists=lambda unit: unit in org.units,
    )


@pytest.fixture
def store() -> CasesApplication:
    return CasesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def store_queries(store: CasesApplication) -> StoreQueries:
    return StoreQueries(store)


@pytest.fixture
def desk_services(
    settings: Settings,
    organisation: Organisation,
    publisher: RecordingPublisher,
    store: CasesApplication,
    store_queries: StoreQueries,
    health: FakeHealth,
) -> WebServices:
    return WebServices(
        settings=settings,
        organisation=organisation,
        publisher=publisher,
        queries=store_queries,
        health=health,
        clock=lambda: NOW,
        desk=make_desk(store, organisation),
    )


@pytest.fixture
def desk_client(desk_services: WebServices) -> Iterator[TestClient]:
    with TestClient(create_app(desk_services), follow_redirects=False) as test_client:
        yield test_client
