"""Which cases a unit holds (for moving the open cases of a merged unit)."""

from __future__ import annotations

from uuid import UUID

import psycopg
from psycopg import sql

from projections.queries import CLOSED_STATUSES


def open_case_ids(conninfo: str, unit_id: str, schema: str = "views") -> list[UUID]:
    query = sql.SQL(
        "SELECT case_id FROM {}.case_queue WHERE unit_id = %s AND status <> ALL(%s)"
    ).format(sql.Identifier(schema))
    with psycopg.connect(conninfo) as conn:
        return [row[0] for row in conn.execute(query, (unit_id, CLOSED_STATUSES))]
