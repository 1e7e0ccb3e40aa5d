"""Hanoi's 2025 reform: a ward merged into another hands over its open cases, while the
history still says which unit was responsible before the merger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedback_cli.mergers import pass_cases_of_merged_units
from feedback_cli.services import Core
from feedback_core.calendar_app import open_calendar_application
from feedback_core.identity import case_id_for
from feedback_core.local_time import local_date
from feedback_core.org.directory import directory_as_of, responsible_unit
from feedback_core.org.loading import load_organisation_file
from feedback_core.org.store import open_organisation_application
from feedback_core.settings import DEMO_ORGANISATION
from feedback_core.store import Database, open_cases_application
from projections.case_views import CaseViews
from projections.queries import ViewQueries
from projections.runner import BatchedProjectionRunner
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


def test_open_cases_follow_the_merged_unit(database: Database) -> None:
    calendar = open_calendar_application(database)
    core = Core(database, open_cases_application(database, calendar.calendar), calendar)
    org = open_organisation_application(database)
    runner = BatchedProjectionRunner(core.app, database.conninfo, CaseViews())
    views = ViewQueries(database.conninfo)
    try:
        today = local_date(datetime.now(UTC))
        load_organisation_file(org, DEMO_ORGANISATION, effective_on=today - timedelta(days=30))
        subs = [submission(unit_id="quang-an") for _ in range(3)]
        core.app.record_submissions(subs)
        runner.catch_up()

        org.merge_unit("quang-an", into="nhat-tan", effective_on=today, actor="quantri.tayho",
                       reason="Sắp xếp đơn vị hành chính cấp xã 2025")
        moved = pass_cases_of_merged_units(core, org, "views")
        assert moved == {"quang-an": 3}
        runner.catch_up()

        assert {r.case_id for r in views.queue(["nhat-tan"])} == {
            case_id_for(s.submission_id) for s in subs
        }
        assert views.queue(["quang-an"]) == []
        timeline = views.timeline(case_id_for(subs[0].submission_id), public_only=False)
        assert timeline[-1].kind == "transferred" and timeline[-1].actor == "system"
        # History: yesterday Quảng An answered for itself, today Nhật Tân answers for it.
        assert responsible_unit(org, "quang-an", today - timedelta(days=1)) == "quang-an"
        assert responsible_unit(org, "quang-an", today) == "nhat-tan"
        assert "quang-an" in directory_as_of(org, today - timedelta(days=1)).units
        assert pass_cases_of_merged_units(core, org, "views") == {}  # idempotent
    finally:
        views.close()
        runner.close()
        org.close()
        core.app.close()
        calendar.close()
