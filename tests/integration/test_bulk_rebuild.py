"""The rebuild's bulk path (fold the whole log in memory, COPY, indexes after the load)
gives the rows, positions and indexes of the live page-by-page runner, whatever its page
size; a projection that already has a position is carried on by the runner instead."""

from __future__ import annotations

import psycopg
import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.store import Database
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews
from projections.rebuild import bulk_replay, compare_schemas, rebuild_all_into, replay_into
from projections.views import TABLES
from tests.integration.test_figures import app, desk, run, scenario

pytestmark = pytest.mark.integration
__all__ = ["app", "desk"]  # the fixtures of the figures tests

ALL_TABLES = TABLES + FIGURE_TABLES


def indexes(conninfo: str, schema: str) -> set[tuple[str, str]]:
    """(name, definition with the schema name taken out) of every index in ``schema``."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {(name, definition.replace(f"{schema}.", "")) for name, definition in rows}


def test_bulk_rebuild_equals_the_live_runner_at_any_page_size(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    run(app, database, page_size=7)  # the live views, page by page
    events = app.recorder.max_notification_id()
    projections: list[CaseViews | FiguresViews] = [CaseViews(), FiguresViews()]

    assert rebuild_all_into(app, database.conninfo, projections, "bulk_default") == events
    assert compare_schemas(database.conninfo, "views", "bulk_default", ALL_TABLES) == []

    # Pages of 2 split every rating from its case and every case from its steps.
    assert bulk_replay(app, database.conninfo, projections, "bulk_small", page_size=2) == events
    assert compare_schemas(database.conninfo, "views", "bulk_small", ALL_TABLES) == []

    live = indexes(database.conninfo, "views")
    assert len(live) > 10 and indexes(database.conninfo, "bulk_default") == live


def test_a_started_projection_is_carried_on_not_loaded_twice(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    run(app, database, page_size=50)
    # The views already hold every event: the runner finds nothing left to apply.
    assert replay_into(app, database.conninfo, CaseViews(), "views") == 0
    rebuild_all_into(app, database.conninfo, [CaseViews(), FiguresViews()], "again")
    assert compare_schemas(database.conninfo, "views", "again", ALL_TABLES) == []


def test_an_empty_log_gives_empty_tables_and_no_position(
    app: CasesApplication, database: Database
) -> None:
    assert rebuild_all_into(app, database.conninfo, [CaseViews(), FiguresViews()], "empty") == 0
    with psycopg.connect(database.conninfo) as conn:
        for table in ALL_TABLES:
            found = conn.execute(f"SELECT count(*) FROM empty.{table}").fetchone()
            assert found == (0,), table
