"""Rebuild-and-compare covers the figures tables when the live schema has them: the figures
projection replayed beside the case views, an altered figures row reported."""

from __future__ import annotations

import psycopg
import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.store import Database
from projections.figures import FIGURE_TABLES
from projections.rebuild import has_tables, rebuild_and_compare
from projections.views import TABLES
from tests.integration.test_figures import run, scenario

pytestmark = pytest.mark.integration


def test_figures_tables_are_rebuilt_and_compared(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    run(app, database, page_size=7)
    stages: list[str] = []
    report = rebuild_and_compare(app, database.conninfo, "views", stages.append)
    assert report.differences == [] and stages == ["replaying", "comparing"]
    assert has_tables(database.conninfo, report.rebuilt_schema, TABLES + FIGURE_TABLES)
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {report.rebuilt_schema}.figures_daily")
        counted = rows.fetchone()
    assert counted is not None and counted[0] > 0

    with psycopg.connect(database.conninfo, autocommit=True) as conn:  # altered by hand
        conn.execute("UPDATE views.figures_daily SET received = received + 1 "
                     "WHERE ctid = (SELECT ctid FROM views.figures_daily LIMIT 1)")  # fmt: skip
    report = rebuild_and_compare(app, database.conninfo, "views")
    assert [d.table for d in report.differences] == ["figures_daily"]
    assert (report.differences[0].only_in_first, report.differences[0].only_in_second) == (1, 1)


def test_without_live_figures_only_the_case_views_are_compared(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    from projections.case_views import CaseViews
    from projections.runner import BatchedProjectionRunner

    scenario(app, desk)
    runner = BatchedProjectionRunner(app, database.conninfo, CaseViews())
    try:
        runner.catch_up()
    finally:
        runner.close()
    report = rebuild_and_compare(app, database.conninfo, "views")
    assert report.differences == []
    assert not has_tables(database.conninfo, report.rebuilt_schema, FIGURE_TABLES)
