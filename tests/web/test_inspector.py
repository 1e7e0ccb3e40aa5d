"""The inspectors' replay pages: who may open them (inspectors and heads of the case's scope),
what they show (every step with the state after it, the case as of a moment, masked contact),
and that every view is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.inspections import InspectionsApplication
from feedback_core.roles import Actor, Role
from tests.web.conftest import POPO
from tests.web.web_doubles import NOW, log_in, open_case
from web.app import create_app
from web.services import WebServices

HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
STEP = NOW - timedelta(days=2)  # 2026-11-21 10:30 in Hà Nội


@pytest.fixture
def inspections() -> InspectionsApplication:
    return InspectionsApplication(env=POPO)


@pytest.fixture
def inspect_client(
    desk_services: WebServices, inspections: InspectionsApplication
) -> Iterator[TestClient]:
    desk_services.inspections = inspections
    with TestClient(create_app(desk_services), follow_redirects=False) as client:
        yield client


def worked(store: CasesApplication, unit: str = "nhat-tan") -> tuple[UUID, str]:
    case_id, code = open_case(store, unit=unit, contact_phone="0912345678",
                              contact_email="lan.nguyen@gmail.com", wants_updates=True)
    case: Case = store.repository.get(case_id)
    case.accept(HEAD, STEP, "", "standard", date(2026, 11, 21), date(2026, 12, 5))
    case.assign(HEAD, STEP + timedelta(hours=1), f"canbo.{unit.replace('-', '')}", "")
    case.add_note(HEAD, STEP + timedelta(hours=2), "Đã gọi lại cho công dân.")
    store.save(case)
    return case_id, code


def test_an_inspector_replays_a_case_of_the_ward_with_masked_contact(
    inspect_client: TestClient, store: CasesApplication, inspections: InspectionsApplication
) -> None:
    case_id, code = worked(store)
    log_in(inspect_client, "thanhtra.nhattan")
    page = inspect_client.get(f"/inspect/cases/{case_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert code in html
    for version in (1, 2, 3, 4):
        assert f'id="step-{version}"' in html
    assert "Đã gọi lại cho công dân." in html  # internal notes too
    assert "091****678" in html and "0912345678" not in html
    assert "l***@g***.com" in html and "lan.nguyen@gmail.com" not in html
    assert page.headers["cache-control"] == "no-store"
    [record] = list(inspections.records())
    assert (record.inspector, record.case_id, record.tracking_code, record.as_of) == (
        "thanhtra.nhattan", case_id, code, None)


def test_the_case_as_of_an_earlier_moment(
    inspect_client: TestClient, store: CasesApplication, inspections: InspectionsApplication
) -> None:
    case_id, _ = worked(store)
    log_in(inspect_client, "thanhtra.nhattan")
    # 21/11 10:45 in Hà Nội: accepted, not yet assigned (assigned at 11:30)
    html = inspect_client.get(f"/inspect/cases/{case_id}",
                              params={"as_of": "2026-11-21T10:45"}).text
    as_of_part = html.split('id="as-of-state"')[1].split("</dl>")[0]
    assert "Đã thụ lý" in as_of_part
    assert '<dd class="state-version">2</dd>' in as_of_part
    assert '<dd class="state-assignee">—</dd>' in as_of_part
    current = html.split('id="current-state"')[1].split("</dl>")[0]
    assert '<dd class="state-version">4</dd>' in current
    assert [r.as_of is not None for r in inspections.records()] == [True]
    bad = inspect_client.get(f"/inspect/cases/{case_id}", params={"as_of": "yesterday"})
    assert bad.status_code == 200 and 'id="problem"' in bad.text


def test_a_head_sees_the_contact_in_full(
    inspect_client: TestClient, store: CasesApplication
) -> None:
    case_id, _ = worked(store)
    log_in(inspect_client, "lanhdao.nhattan")
    html = inspect_client.get(f"/inspect/cases/{case_id}").text
    assert "0912345678" in html


@pytest.mark.parametrize("username", ["canbo.quangan", "canbo.nhattan", "tongdai.nhattan",
                                      "quantri.nhattan"])
def test_other_roles_are_refused(
    inspect_client: TestClient, store: CasesApplication, inspections: InspectionsApplication,
    username: str,
) -> None:
    case_id, _ = worked(store)
    log_in(inspect_client, username)
    assert inspect_client.get(f"/inspect/cases/{case_id}").status_code == 403
    assert inspect_client.get("/inspect/log").status_code == 403
    assert list(inspections.records()) == []


def test_an_inspector_of_another_ward_is_refused(
    inspect_client: TestClient, store: CasesApplication, inspections: InspectionsApplication
) -> None:
    case_id, _ = worked(store, unit="quang-an")
    log_in(inspect_client, "thanhtra.nhattan")
    assert inspect_client.get(f"/inspect/cases/{case_id}").status_code == 403
    assert inspect_client.get(f"/inspect/cases/{UUID(int=1)}").status_code == 404
    assert list(inspections.records()) == []


def test_the_log_lists_the_views_in_scope_and_search_finds_a_code(
    inspect_client: TestClient, store: CasesApplication
) -> None:
    case_id, code = worked(store)
    log_in(inspect_client, "thanhtra.nhattan")
    found = inspect_client.get("/inspect", params={"code": code})
    assert found.status_code == 303 and found.headers["location"] == f"/inspect/cases/{case_id}"
    inspect_client.get(found.headers["location"])
    missing = inspect_client.get("/inspect", params={"code": "ZZZZ-ZZZZ"})
    assert missing.status_code == 200 and 'id="problem"' in missing.text
    log = inspect_client.get("/inspect/log")
    assert log.status_code == 200
    assert code in log.text and "Ngô Văn Tra" in log.text


def test_without_the_inspections_log_no_replay_is_shown(
    desk_client: TestClient, store: CasesApplication
) -> None:
    case_id, _ = worked(store)
    log_in(desk_client, "thanhtra.nhattan")
    assert desk_client.get(f"/inspect/cases/{case_id}").status_code == 503
