"""The monthly report, the SIPAS outlook page and the public transparency pages over real
PostgreSQL views: their content, role scoping, no personal data on the public pages, and
the public pages' caching headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedback_cli.services import open_inspections
from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.identity import case_id_for
from feedback_core.inspections import InspectionsApplication
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.permissions import Action
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from projections.queries import ViewQueries
from tests.integration.test_as_of import DISTRICT, project
from tests.integration.test_figures import at, scenario, step
from tests.support.qr import with_qr_codes
from tests.support.recorded_clock import recorded_clock
from tests.unit.test_intake import submission
from tests.web.conftest import build_test_organisation, make_desk
from tests.web.web_doubles import NOW, FakeHealth, RecordingPublisher, log_in
from web.app import create_app
from web.services import WebServices

pytestmark = pytest.mark.integration

EMAIL = "nguyen.van.a@example.vn"
PHONE = "0912345678"
SECRET_TEXT = "Ông Trần Văn Bí đòi tiền bồi dưỡng ở quầy số 1"


@pytest.fixture
def web(database: Database) -> Iterator[tuple[TestClient, CasesApplication, Any]]:
    with serving(database, inspections=None) as served:
        yield served


@contextmanager
def serving(
    database: Database, inspections: InspectionsApplication | None
) -> Iterator[tuple[TestClient, CasesApplication, Any]]:
    """The October scenario projected and served; ``ctx`` holds the ids, desk, organisation,
    services and the FastAPI app."""
    app = open_cases_application(database)
    desk = CaseDesk(app, scope_of=lambda actor: DISTRICT, calendar=BusinessCalendar,
                    rules=DEFAULT_RULES)
    # Recorded by the end of October (the store's clock set): as of 31 October shows it all.
    with recorded_clock(datetime(2026, 10, 31, 3, tzinfo=UTC)):
        ids = scenario(app, desk)
        private = submission(
            submitted_at=at(date(2026, 10, 14)), rating=5, description=SECRET_TEXT,
            contact_email=EMAIL, contact_phone=PHONE, wants_updates=True,
            components={c: 5 for c in ("access", "procedures", "officers", "results",
                                       "feedback")},
        )
        app.record_submissions([private])
        step(desk, ids["overdue"], Action.CLAIM, at(date(2026, 10, 7)))  # canbo.nhattan's
        step(desk, case_id_for(private.submission_id), Action.ACCEPT, at(date(2026, 10, 15)))
    project(app, database)
    settings = Settings(secret_key="test-secret")
    org = build_test_organisation()
    queries = ViewQueries(database.conninfo)
    services = WebServices(
        settings=settings, organisation=org, publisher=RecordingPublisher(), queries=queries,
        health=FakeHealth(), clock=lambda: NOW, desk=make_desk(app, org),
        inspections=inspections, **with_qr_codes(settings),
    )
    web_app = create_app(services)
    try:
        with TestClient(web_app, follow_redirects=False) as client:
            yield client, app, {"ids": ids, "desk": desk, "org": org, "services": services,
                                "app": web_app}
    finally:
        queries.pool.close()
        app.close()


def cells(html: str, table_id: str) -> str:
    found = re.search(rf'id="{table_id}".*?</table>', html, re.S)
    assert found, table_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def test_monthly_report_content_and_scope(web: tuple[TestClient, Any, Any]) -> None:
    client, _app, ctx = web
    log_in(client, "lanhdao.tayho")
    page = client.get("/staff/reports/monthly?unit=nhat-tan&month=2026-10")
    assert page.status_code == 200
    assert 'href="/static/print.css"' in page.text
    headline = cells(page.text, "report-headline")
    # October at Nhật Tân (tests/integration/test_figures.py spells the scenario out) plus
    # the private case: 7 received, 4 resolved, 3 on time (75 %).
    assert "Tiếp nhận 7 " in headline and "Đã giải quyết 4 " in headline
    assert "75.0 %" in headline and "chưa đạt" in headline
    # Overdue today (the month is not over in the live tables' sense: shown as of now).
    overdue = cells(page.text, "report-overdue-table")
    assert ctx["org"].staff["canbo.nhattan"].display_name in overdue  # the holder is named
    assert 'id="month-end-link"' in page.text and "as_of=2026-10-31" in page.text
    assert "/staff/sipas?unit=nhat-tan" in page.text
    history = cells(page.text, "report-history")
    assert "10/2026 7 4 " in history and "05/2026 0 0" in history
    assert "Hạng" in cells(page.text, "report-headline") or "Chưa xếp hạng" in headline
    assert client.get("/staff/reports/monthly?unit=nhat-tan&month=2027-01").status_code == 400
    assert client.get("/staff/reports/monthly?unit=nhat-tan&month=tháng10").status_code == 400

    log_in(client, "lanhdao.nhattan")  # a ward head: their ward, not the sibling
    assert client.get("/staff/reports/monthly?month=2026-10").status_code == 200
    assert client.get("/staff/reports/monthly?unit=quang-an&month=2026-10").status_code == 403
    assert client.get("/staff/sipas?unit=quang-an").status_code == 403
    log_in(client, "canbo.nhattan")  # a handler: no reports
    assert client.get("/staff/reports/monthly").status_code == 403


def test_sipas_page_shows_the_outlook_beside_the_national_figure(
    web: tuple[TestClient, Any, Any]
) -> None:
    client, _app, _ctx = web
    log_in(client, "thanhtra.tayho")
    page = client.get("/staff/sipas?unit=tay-ho&from=2026-10-01&to=2026-10-31")
    assert page.status_code == 200
    assert "82,66 %" in page.text  # the national SIPAS 2023 figure, cited
    table = cells(page.text, "sipas-table")
    assert "Chưa đủ số đánh giá" in table  # a handful of ratings: no index, by the method
    assert "<svg" in page.text


def test_transparency_pages_hold_no_personal_data_and_are_cached(
    web: tuple[TestClient, Any, Any]
) -> None:
    client, _app, ctx = web
    listing = client.get("/minh-bach")
    assert listing.status_code == 200 and 'href="/minh-bach/nhat-tan"' in listing.text
    page = client.get("/minh-bach/nhat-tan")
    assert page.status_code == 200
    figures = cells(page.text, "public-figures")
    assert "Tiếp nhận 8 " in figures  # the ward's year: October's 7 and one in November
    staff_names = [s.display_name for s in ctx["org"].staff.values()]
    for private in [EMAIL, PHONE, SECRET_TEXT, "Trần Văn Bí", "canbo.", *staff_names]:
        assert private not in page.text and private not in listing.text
    # The tracking codes are not shown either.
    assert not re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page.text)

    assert page.headers["cache-control"] == "public, max-age=300"
    etag = page.headers["etag"]
    again = client.get("/minh-bach/nhat-tan", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    english = client.get("/minh-bach/nhat-tan?lang=en")
    assert english.headers["etag"] != etag and "Received" in english.text
    assert client.get("/minh-bach/khong-co").status_code == 404


@pytest.fixture
def recorded(database: Database) -> Iterator[tuple[TestClient, InspectionsApplication, Any]]:
    """Served with the inspections log; the scenario recorded by the end of October, so a
    page as of a later past day shows its figures."""
    inspections = open_inspections(database)
    try:
        with serving(database, inspections) as (client, _app, ctx):
            yield client, inspections, ctx
    finally:
        inspections.close()


def shown_as_of(client: TestClient, ctx: Any, url: str, day: date) -> Any:
    """The page as of ``day``: answered at once (no day to prepare)."""
    return client.get(url)


def views_recorded(inspections: InspectionsApplication) -> list[tuple[str, str, date, str]]:
    return [(v.inspector, v.unit_id, v.as_of, v.page) for v in inspections.dashboard_records()]


def test_monthly_report_as_of_is_recorded_before_it_is_shown(
    recorded: tuple[TestClient, InspectionsApplication, Any]
) -> None:
    client, inspections, ctx = recorded
    log_in(client, "thanhtra.tayho")
    url = "/staff/reports/monthly?unit=nhat-tan&month=2026-10&as_of=2026-10-31"
    page = shown_as_of(client, ctx, url, date(2026, 10, 31))
    assert page.status_code == 200
    assert "Tiếp nhận 7 " in cells(page.text, "report-headline")
    assert client.get("/staff/reports/monthly?unit=nhat-tan&month=2026-10").status_code == 200
    # The as-of page only (the live report is not an as-of view), with who, role and when.
    assert views_recorded(inspections) == [
        ("thanhtra.tayho", "nhat-tan", date(2026, 10, 31), "/staff/reports/monthly"),
    ]
    record = next(inspections.dashboard_records())
    assert record.at == NOW and record.role == "inspector"
    assert "/staff/reports/monthly</code>" in client.get("/inspect/log").text

    ctx["services"].inspections = None  # the view cannot be stored: nothing is shown
    refused = client.get(url)
    assert refused.status_code == 503
    assert "Không ghi được nhật ký xem lại" in refused.text
    assert 'id="report-headline"' not in refused.text
    assert len(views_recorded(inspections)) == 1


def test_sipas_as_of_is_recorded_before_it_is_shown(
    recorded: tuple[TestClient, InspectionsApplication, Any]
) -> None:
    client, inspections, ctx = recorded
    log_in(client, "lanhdao.tayho")
    query = "/staff/sipas?unit=tay-ho&from=2026-10-01&to=2026-10-31"
    page = shown_as_of(client, ctx, f"{query}&as_of=2026-11-22", date(2026, 11, 22))
    assert page.status_code == 200
    assert "82,66 %" in page.text and 'id="sipas-table"' in page.text
    assert client.get(query).status_code == 200  # live: not an as-of view
    assert views_recorded(inspections) == [
        ("lanhdao.tayho", "tay-ho", date(2026, 11, 22), "/staff/sipas"),
    ]
    assert next(inspections.dashboard_records()).role == "head"

    ctx["services"].inspections = None
    refused = client.get(f"{query}&as_of=2026-11-22")
    assert refused.status_code == 503
    assert "Không ghi được nhật ký xem lại" in refused.text
    assert 'id="sipas-table"' not in refused.text
    assert len(views_recorded(inspections)) == 1
