"""Web test fixtures: the real demo organisation and doubles of our own ports; for the case
pages, a real ``CaseDesk`` on the in-memory store with views projected from it; for the admin
pages and the second factor, the real organisation and calendar applications in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.local_time import local_date
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.org.loading import load_organisation_file
from feedback_core.organisation import Organisation, organisation_from_dict
from feedback_core.settings import DEMO_ORGANISATION, Settings
from projections.queries import CLOSED_STATUSES
from tests.support.qr import qr_token, with_qr_codes
from tests.web.web_doubles import NOW, FakeHealth, FakeQueries, RecordingPublisher, StoreQueries
from web.app import create_app
from web.services import PassCases, WebServices

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

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
    return doubled_services(settings, organisation, publisher, queries, health)


def doubled_services(  # noqa: PLR0913
    settings: Settings,
    organisation: Organisation,
    publisher: RecordingPublisher,
    queries: Any,
    health: FakeHealth,
    **parts: Any,
) -> WebServices:
    """The web's services on a fixed clock with the demo QR codes and the given doubles;
    ``parts`` adds what a test wires in (a desk, ...)."""
    return WebServices(
        settings=settings,
        organisation=organisation,
        publisher=publisher,
        queries=queries,
        health=health,
        clock=lambda: NOW,
        **with_qr_codes(settings),
        **parts,
    )


def client_of(services: WebServices) -> Iterator[TestClient]:
    """A test client of the whole app on ``services`` (redirects not followed); a fixture
    yields from it."""
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def client(services: WebServices) -> Iterator[TestClient]:
    yield from client_of(services)


@pytest.fixture
def token(services: WebServices) -> str:
    """The code in service of Quầy 1 of the Nhật Tân ward, as its poster prints it."""
    return qr_token(services, "nhat-tan-q1")


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
    return CasesApplication(env=POPO)


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
    return doubled_services(settings, organisation, publisher, store_queries, health,
                            desk=make_desk(store, organisation))  # fmt: skip


@pytest.fixture
def desk_client(desk_services: WebServices) -> Iterator[TestClient]:
    yield from client_of(desk_services)


# --- the organisation and the calendar, event-sourced in memory ----------------------------


def build_org_app() -> OrganisationApplication:
    """The demo district in the organisation's own store, with the ``WARD_STAFF`` accounts
    registered like the demo ones (same password), as ``feedback org`` would record them."""
    app = OrganisationApplication(env=POPO)
    load_organisation_file(app, DEMO_ORGANISATION)
    password_hash = app.staff_member("canbo.nhattan").password_hash
    with app.changes("system") as changes:
        for username, (role, name) in WARD_STAFF.items():
            changes.register_staff(
                username, display_name=name, role=role, unit_id="nhat-tan",
                password_hash=password_hash, effective_on=date(2024, 1, 1),
            )
    return app


def org_backed_services(
    settings: Settings,
    org_app: OrganisationApplication,
    calendar_app: CalendarApplication,
    store: CasesApplication,
    queries: StoreQueries,
    pass_cases: PassCases | None = None,
) -> WebServices:
    """Wired as feedback_cli.services.build_web wires them: the directory read from the
    organisation's store, the desk reading whatever directory the web holds now."""
    services = WebServices(
        settings=settings,
        organisation=directory_as_of(org_app, local_date(NOW)),
        publisher=RecordingPublisher(),
        queries=queries,
        health=FakeHealth(),
        clock=lambda: NOW,
        org_app=org_app,
        calendar_app=calendar_app,
        pass_cases=pass_cases,
        **with_qr_codes(settings),
    )
    services.desk = CaseDesk(
        store,
        scope_of=lambda actor: services.organisation.subtree(actor.unit_id),
        calendar=calendar_app.calendar,
        rules=DEFAULT_RULES,
        unit_exists=lambda unit: unit in services.organisation.units,
    )
    return services


class RecordingPassCases:
    """Stands in for feedback_cli.mergers.pass_cases_of_merged_units: the open cases of
    every unit merged by ``on`` pass to its successor through the real desk."""

    def __init__(self) -> None:
        self.calls: list[date] = []
        self.services: WebServices | None = None

    def __call__(self, on: date) -> Mapping[str, int]:
        from feedback_core.roles import SYSTEM

        self.calls.append(on)
        services = self.services
        assert services is not None and services.org_app is not None and services.desk
        moved: dict[str, int] = {}
        directory = directory_as_of(services.org_app, on, include_retired=True)
        for unit in directory.units.values():
            if unit.closed and unit.successor_id:
                ids = [row.case_id for row in services.queries.queue([unit.id])
                       if row.status not in CLOSED_STATUSES]
                if ids:
                    services.desk.move_cases_of_merged_unit(
                        ids, unit.successor_id, SYSTEM, NOW, f"{unit.id} merged"
                    )
                    moved[unit.id] = len(ids)
        return moved


@pytest.fixture
def org_app() -> OrganisationApplication:
    return build_org_app()


@pytest.fixture
def calendar_app() -> CalendarApplication:
    return CalendarApplication(env=POPO)


@pytest.fixture
def pass_cases() -> RecordingPassCases:
    return RecordingPassCases()


@pytest.fixture
def org_services(
    settings: Settings,
    org_app: OrganisationApplication,
    calendar_app: CalendarApplication,
    store: CasesApplication,
    store_queries: StoreQueries,
    pass_cases: RecordingPassCases,
) -> WebServices:
    services = org_backed_services(
        settings, org_app, calendar_app, store, store_queries, pass_cases
    )
    pass_cases.services = services
    return services


@pytest.fixture
def org_client(org_services: WebServices) -> Iterator[TestClient]:
    yield from client_of(org_services)
