"""Rebuild a projection from position zero into a fresh schema, compare, and swap it in.

The tracking position lives in the same schema as the rows, so after the swap the live
runner reads the rebuilt position and carries on: whatever it wrote into the old schema
meanwhile is applied again from the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.application import Application
from psycopg import sql

from projections.runner import BatchedProjectionRunner, ViewProjection
from projections.views import TABLES

SAMPLE_ROWS = 5  # differing rows shown per table and side
REBUILD_LOCK = 0x7265_6275  # advisory lock held by the one rebuild-and-compare at a time


@dataclass(frozen=True)
class TableDifference:
    table: str
    only_in_first: int
    only_in_second: int
    first_rows: tuple[tuple[str, ...], ...] = ()  # the first rows only in the first schema
    second_rows: tuple[tuple[str, ...], ...] = ()


def rebuild_into(
    app: Application[Any], conninfo: str, projection: ViewProjection, schema: str
) -> int:
    """Drop ``schema``, replay the whole log into it; returns the events applied."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    return replay_into(app, conninfo, projection, schema)


def replay_into(
    app: Application[Any], conninfo: str, projection: ViewProjection, schema: str
) -> int:
    """Replay the whole log through ``projection`` into ``schema`` as it is (another
    projection's tables beside it are kept); returns the events applied."""
    runner = BatchedProjectionRunner(app, conninfo, projection, schema=schema, page_size=5000)
    try:
        return runner.catch_up()
    finally:
        runner.close()


def has_tables(conninfo: str, schema: str, tables: tuple[str, ...]) -> bool:
    with psycopg.connect(conninfo) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = ANY(%s)",
            (schema, list(tables)),
        ).fetchone()
    return found is not None and found[0] == len(tables)


def compare_schemas(
    conninfo: str, first: str, second: str, tables: tuple[str, ...] = TABLES
) -> list[TableDifference]:
    """Row-by-row comparison: the tables whose rows differ, with how many on each side."""
    differences = []
    with psycopg.connect(conninfo) as conn:
        for table in tables:
            a = sql.SQL("{}.{}").format(sql.Identifier(first), sql.Identifier(table))
            b = sql.SQL("{}.{}").format(sql.Identifier(second), sql.Identifier(table))
            count = sql.SQL("SELECT count(*) FROM (SELECT * FROM {} EXCEPT ALL SELECT * FROM {}) d")
            only_a = conn.execute(count.format(a, b)).fetchone()
            only_b = conn.execute(count.format(b, a)).fetchone()
            assert only_a is not None and only_b is not None
            if only_a[0] or only_b[0]:
                differences.append(TableDifference(
                    table, only_a[0], only_b[0], _sample(conn, a, b), _sample(conn, b, a)
                ))  # fmt: skip
    return differences


def _sample(conn: psycopg.Connection[Any], a: sql.Composable, b: sql.Composable
            ) -> tuple[tuple[str, ...], ...]:
    query = sql.SQL("SELECT * FROM {} EXCEPT ALL SELECT * FROM {} LIMIT {}").format(
        a, b, sql.Literal(SAMPLE_ROWS)
    )
    return tuple(tuple("" if v is None else str(v) for v in row) for row in conn.execute(query))


@dataclass(frozen=True)
class RebuildReport:
    events: int  # events replayed from position zero
    rebuilt_schema: str
    differences: list[TableDifference]


class RebuildBusy(RuntimeError):
    """Another rebuild-and-compare holds the lock."""


def rebuild_and_compare(
    app: Application[Any],
    conninfo: str,
    live_schema: str,
    stage: Callable[[str], None] = lambda _: None,
) -> RebuildReport:
    """Replay the case views from position zero into ``<live>_rebuild`` and compare them
    with the live ones row by row; one run at a time in the whole database (RebuildBusy).
    When the live schema holds the figures tables, the figures projection (with the
    application's calendar, as ``figures_beside`` runs it) is replayed beside them and its
    tables compared too. ``stage`` hears "replaying", then "comparing". Used by
    ``feedback rebuild`` and the inspector's page."""
    from projections.case_views import CaseViews
    from projections.figures import FIGURE_TABLES
    from projections.figures_runner import figures_projection

    rebuilt = f"{live_schema}_rebuild"
    with psycopg.connect(conninfo, autocommit=True) as lock:
        got = lock.execute("SELECT pg_try_advisory_lock(%s)", (REBUILD_LOCK,)).fetchone()
        if not (got and got[0]):
            raise RebuildBusy("a rebuild of the views is already running")
        try:
            stage("replaying")
            count = rebuild_into(app, conninfo, CaseViews(), rebuilt)
            tables: tuple[str, ...] = TABLES
            if has_tables(conninfo, live_schema, FIGURE_TABLES):
                replay_into(app, conninfo, figures_projection(app), rebuilt)
                tables = TABLES + FIGURE_TABLES
            stage("comparing")
            differences = compare_schemas(conninfo, live_schema, rebuilt, tables)
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (REBUILD_LOCK,))
    return RebuildReport(count, rebuilt, differences)


def swap_in(conninfo: str, rebuilt: str, live: str) -> None:
    """Replace the live schema by the rebuilt one in one transaction."""
    retired = f"{live}_retired"
    with psycopg.connect(conninfo) as conn, conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(retired)))
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(live), sql.Identifier(retired)
            )
        )
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(rebuilt), sql.Identifier(live)
            )
        )
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(retired)))
