"""The library's per-event ProjectionRunner and our batched runner build the same views."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedback_core.application import CasesApplication
from feedback_core.store import Database, open_cases_application
from projections.case_views import CaseViews
from projections.library_baseline import run_library_projection
from projections.rebuild import compare_schemas
from projections.runner import BatchedProjectionRunner
from projections.views import TABLES
from tests.integration.test_projections import record_some

pytestmark = pytest.mark.integration

# The view tables (case_queue, submission_status, ...); the position is kept differently.
VIEW_TABLES = tuple(table for table in TABLES if table != "projection_position")


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database)
    yield application
    application.close()


def test_library_runner_builds_the_same_views_as_the_batched_runner(
    app: CasesApplication, database: Database
) -> None:
    subs = record_some(app, 50)
    record_some(app, 5, unit="quang-an")
    last = app.recorder.max_notification_id()
    complaints = sum(s.has_complaint for s in subs)
    assert last == 50 + complaints + 5 + 4  # ratings, cases; 4 of the 5 quang-an complain

    batched = BatchedProjectionRunner(app, database.conninfo, CaseViews(), page_size=16)
    try:
        assert batched.catch_up() == last
    finally:
        batched.close()

    assert run_library_projection(database, "library_views", timeout=60) == last
    assert compare_schemas(database.conninfo, "views", "library_views", tables=VIEW_TABLES) == []

    # Resumes from its tracking record: nothing is applied twice, new events are.
    assert run_library_projection(database, "library_views", timeout=30) == 0
    record_some(app, 3, unit="quang-an")
    assert run_library_projection(database, "library_views", timeout=30) == 5
    batched = BatchedProjectionRunner(app, database.conninfo, CaseViews())
    try:
        batched.catch_up()
    finally:
        batched.close()
    assert compare_schemas(database.conninfo, "views", "library_views", tables=VIEW_TABLES) == []


def test_library_runner_stops_at_upto(app: CasesApplication, database: Database) -> None:
    record_some(app, 20)
    assert run_library_projection(database, "library_views", timeout=60, upto=10) >= 10
