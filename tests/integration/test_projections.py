"""Projections on real PostgreSQL: batched pages, exact resume, rebuild equals live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from feedback_core.application import CasesApplication
from feedback_core.identity import tracking_code_for
from feedback_core.store import Database, open_cases_application
from projections.case_views import CaseViews
from projections.queries import ViewQueries
from projections.rebuild import compare_schemas, rebuild_into, swap_in
from projections.runner import BatchedProjectionRunner
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database)
    yield application
    application.close()


def record_some(app: CasesApplication, count: int, unit: str = "nhat-tan") -> list:
    start = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    subs = [
        submission(unit_id=unit, submitted_at=start + timedelta(days=i % 9, minutes=i),
                   description="" if i % 3 == 2 else f"Phản ánh số {i}")
        for i in range(count)
    ]
    app.record_submissions(subs)
    return subs


def test_runner_pages_resume_and_queue_order(app: CasesApplication, database: Database) -> None:
    subs = record_some(app, 40)
    runner = BatchedProjectionRunner(app, database.conninfo, CaseViews(), page_size=7)
    try:
        assert runner.process_page() == 7
        assert runner.position() == 7
        runner.catch_up()
        assert runner.position() == app.recorder.max_notification_id()
    finally:
        runner.close()

    resumed = BatchedProjectionRunner(app, database.conninfo, CaseViews(), page_size=7)
    try:
        assert resumed.catch_up() == 0  # nothing applied twice after a restart
    finally:
        resumed.close()

    views = ViewQueries(database.conninfo)
    try:
        queue = views.queue(["nhat-tan"])
        complaints = [s for s in subs if s.has_complaint]
        assert len(queue) == len(complaints)
        assert [r.due_on for r in queue] == sorted(r.due_on for r in queue)
        assert all(r.rating == 2 for r in queue)  # the score reached every queue row
        assert views.queue(["quang-an"]) == []
        rated_only = next(s for s in subs if not s.has_complaint)
        status = views.submission(tracking_code_for(rated_only.submission_id))
        assert status is not None and status.status == "rated" and status.case_id is None
    finally:
        views.close()


def test_rebuild_from_zero_equals_live_and_swaps_in(
    app: CasesApplication, database: Database
) -> None:
    record_some(app, 30)
    live = BatchedProjectionRunner(app, database.conninfo, CaseViews(), page_size=4)
    try:
        live.catch_up()
        replayed = rebuild_into(app, database.conninfo, CaseViews(), "views_rebuild")
        assert replayed == 50  # 30 ratings and 20 cases
        assert compare_schemas(database.conninfo, "views", "views_rebuild") == []

        swap_in(database.conninfo, "views_rebuild", "views")
        more = record_some(app, 3, unit="quang-an")
        live.catch_up()  # the live runner carries on in the swapped-in schema
        assert live.position() == app.recorder.max_notification_id()
    finally:
        live.close()
    views = ViewQueries(database.conninfo)
    try:
        assert len(views.queue(["quang-an"])) == sum(s.has_complaint for s in more)
    finally:
        views.close()


def test_compare_reports_a_tampered_view(app: CasesApplication, database: Database) -> None:
    import psycopg

    record_some(app, 6)
    live = BatchedProjectionRunner(app, database.conninfo, CaseViews())
    live.catch_up()
    live.close()
    rebuild_into(app, database.conninfo, CaseViews(), "views_check")
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute("UPDATE views.case_queue SET summary = 'altered' WHERE true")
    (difference,) = compare_schemas(database.conninfo, "views", "views_check")
    assert difference.table == "case_queue"
    assert difference.only_in_first == difference.only_in_second == 4
