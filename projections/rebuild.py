"""Rebuild a projection from position zero into a fresh schema, compare, and swap it in.

The tracking position lives in the same schema as the rows, so after the swap the live
runner reads the rebuilt position and carries on: whatever it wrote into the old schema
meanwhile is applied again from the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.application import Application
from psycopg import sql

from projections.runner import BatchedProjectionRunner, ViewProjection
from projections.views import TABLES


@dataclass(frozen=True)
class TableDifference:
    table: str
    only_in_first: int
    only_in_second: int


def rebuild_into(
    app: Application[Any], conninfo: str, projection: ViewProjection, schema: str
) -> int:
    """Drop ``schema``, replay the whole log into it; returns the events applied."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    runner = BatchedProjectionRunner(app, conninfo, projection, schema=schema, page_size=5000)
    try:
        return runner.catch_up()
    finally:
        runner.close()


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
                differences.append(TableDifference(table, only_a[0], only_b[0]))
    return differences


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
