"""The demo district on real PostgreSQL: the organisation completed through its loader,
every submission through the intake handler, every step through the case desk; the
figures the dashboard shows come out plausible, and a second run stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from feedback_cli.demo.district import generate_district
from feedback_cli.main import main
from feedback_core.application import CasesApplication
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.org.loading import load_organisation_file
from feedback_core.settings import DEMO_ORGANISATION
from feedback_core.store import Database, open_application, open_cases_application
from projections.case_views import CaseViews
from projections.figures import FiguresViews
from projections.figures_queries import FigureQueries
from projections.queries import QueueFilters, ViewQueries
from projections.runner import BatchedProjectionRunner

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
TODAY = date(2026, 11, 23)


@pytest.fixture
def apps(database: Database) -> Iterator[tuple[CasesApplication, OrganisationApplication]]:
    cases = open_cases_application(database)
    org = open_application(database, lambda env: OrganisationApplication(env=env))
    load_organisation_file(org, DEMO_ORGANISATION)  # what `feedback run` loads first
    yield cases, org
    cases.close()
    org.close()


def project(app: CasesApplication, database: Database) -> None:
    for projection in (CaseViews(), FiguresViews()):
        runner = BatchedProjectionRunner(app, database.conninfo, projection, page_size=2000)
        try:
            runner.catch_up()
        finally:
            runner.close()


def test_a_small_district_gives_plausible_figures_and_is_idempotent(
    apps: tuple[CasesApplication, OrganisationApplication], database: Database
) -> None:
    cases, org = apps
    report = generate_district(cases, org, seed=11, scale="small", now=NOW)
    stored = cases.recorder.max_notification_id()
    assert report.events == stored and 4000 <= stored < 4010
    directory = directory_as_of(org)
    district = directory.subtree("tay-ho")
    assert len(district) == 9 and "canbo.xuanla2" in directory.staff

    again = generate_district(cases, org, seed=11, scale="small", now=NOW)
    assert (again.recorded, again.events) == (0, 0)
    assert cases.recorder.max_notification_id() == stored
    assert len(directory_as_of(org).staff) == len(directory.staff)

    project(cases, database)
    views = ViewQueries(database.conninfo)
    try:
        figures = FigureQueries(views.pool)
        quarter = figures.totals(district, TODAY - timedelta(days=90), TODAY)
        assert quarter.ratings > 2000 and quarter.received > 100
        assert 0.8 <= (quarter.on_time_share or 0) < 1.0
        assert (quarter.early_share or 0) > 0.5
        assert (quarter.satisfied_share or 0) > 0.6
        assert quarter.refused > 0 and quarter.reopened > 0
        assert 0.3 < (quarter.confirmed_share or 0) < 0.7  # citizens confirming resolution
        assert quarter.harassment > 0 and quarter.second_trip > 0
        overdue = figures.overdue_count(district, TODAY)
        assert 0 < overdue < quarter.received * 0.2
        assert overdue == len(figures.overdue_list(district, TODAY))
        queue = views.search_queue(district, QueueFilters(overdue_on=TODAY), page_size=500)
        assert queue.total == overdue
        assert all(row.assignee for row in figures.overdue_list(district, TODAY))
        by_unit = figures.by_unit(district, TODAY - timedelta(days=90), TODAY)
        assert all(by_unit[u].ratings > 100 for u in district)
    finally:
        views.close()


def test_the_command_stores_a_district_once(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", database.url)
    assert main(["demo-district", "--seed", "3", "--scale", "1500", "--days", "30"]) == 0
    first = capsys.readouterr().out
    stored = re.search(r"([\d,]+) new events", first)
    assert stored and int(stored.group(1).replace(",", "")) >= 1500
    assert main(["demo-district", "--seed", "3", "--scale", "1500", "--days", "30"]) == 0
    assert ", 0 stored now; 0 new events" in capsys.readouterr().out
    assert main(["demo-district", "--scale", "huge"]) == 2
    assert "give small, medium, large or a number of events" in capsys.readouterr().out


def test_seed_stores_the_small_district_and_the_demo_submissions(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`feedback seed` (and `feedback run` before serving): the platform opens populated."""
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", database.url)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)  # the in-process intake
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"demo district: [\d,]+ submissions planned", out)
    cases = open_cases_application(database)
    try:
        stored = cases.recorder.max_notification_id() or 0
        assert stored >= 4000 + 3 * 11  # the district, and three demo submissions a counter
    finally:
        cases.close()
