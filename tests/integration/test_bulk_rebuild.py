"""The rebuild's bulk path (fold the whole log in memory, COPY, indexes after the load)
gives the rows, positions and indexes of the live page-by-page runner, whatever its page
size, in one process or split over worker processes (``projections.bulk_parallel``); a
projection that already has a position is carried on by the runner instead; a failing
worker fails the rebuild and leaves no schema."""

from __future__ import annotations

import multiprocessing

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import sql

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk
from feedback_core.store import Database
from projections.bulk_parallel import RebuildWorkerFailed
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews
from projections.rebuild import (
    WORKERS_SETTING,
    bulk_replay,
    compare_schemas,
    rebuild_all_into,
    rebuild_workers,
    replay_into,
)
from projections.views import TABLES
from tests.integration.test_figures import run, scenario

pytestmark = pytest.mark.integration

ALL_TABLES = TABLES + FIGURE_TABLES


def indexes(conninfo: str, schema: str) -> set[tuple[str, str]]:
    """(name, definition with the schema name taken out) of every index in ``schema``."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {(name, definition.replace(f"{schema}.", "")) for name, definition in rows}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_bulk_rebuild_equals_the_live_runner_at_any_page_size(
    app: CasesApplication, desk: CaseDesk, database: Database, workers: int
) -> None:
    """In one process and split over worker processes (a shard each)."""
    scenario(app, desk)
    run(app, database, page_size=7)  # the live views, page by page
    events = app.recorder.max_notification_id()
    projections: list[CaseViews | FiguresViews] = [CaseViews(), FiguresViews()]

    assert (
        rebuild_all_into(app, database.conninfo, projections, "bulk_default", workers=workers)
        == events
    )
    assert compare_schemas(database.conninfo, "views", "bulk_default", ALL_TABLES) == []

    # Pages of 2 split every rating from its case and every case from its steps.
    assert (
        bulk_replay(app, database.conninfo, projections, "bulk_small", page_size=2, workers=workers)
        == events
    )
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


def test_a_failing_worker_fails_the_rebuild_and_leaves_no_schema(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    """A stored step no decoder can read, on one case: its shard's worker fails, the
    rebuild raises with that worker's error, the schema is gone, no process is left."""
    ids = scenario(app, desk)
    case_id = ids["early"]
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1000, %s, %s)"
            ).format(
                sql.Identifier(recorder.datastore.schema),
                sql.Identifier(recorder.events_table_name),
            ),
            (case_id, get_topic(Case.Accepted), b"{not json"),
        )
    with pytest.raises(RebuildWorkerFailed, match=r"rebuild worker \d failed:(.|\n)*JSON"):
        rebuild_all_into(
            app, database.conninfo, [CaseViews(), FiguresViews()], "bulk_failed", workers=2
        )
    assert multiprocessing.active_children() == []
    with psycopg.connect(database.conninfo) as conn:
        found = conn.execute("SELECT to_regnamespace('bulk_failed')").fetchone()
    assert found == (None,)


def test_a_small_log_is_rebuilt_in_one_process_unless_told(
    app: CasesApplication, desk: CaseDesk, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario(app, desk)
    monkeypatch.delenv(WORKERS_SETTING, raising=False)
    assert rebuild_workers(app) == 1  # far below PARALLEL_FROM events
    assert rebuild_workers(app, 2) == 2
    monkeypatch.setenv(WORKERS_SETTING, "2")
    assert rebuild_workers(app) == 2
    assert rebuild_workers(app, 1) == 1  # the argument wins
