"""Read-side queries over the view tables, for the web pages and /healthz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool


@dataclass(frozen=True)
class QueueRow:
    case_id: UUID
    tracking_code: str
    unit_id: str
    office_id: str
    counter_id: str
    channel: str
    category: str
    summary: str
    status: str
    rating: int | None
    received_at: datetime
    due_on: date


@dataclass(frozen=True)
class SubmissionStatus:
    tracking_code: str
    submission_id: UUID
    case_id: UUID | None
    unit_id: str
    office_id: str
    counter_id: str
    channel: str
    rating: int | None
    category: str | None
    status: str
    received_at: datetime
    due_on: date | None


class ViewQueries:
    def __init__(self, conninfo: str, schema: str = "views", max_size: int = 4) -> None:
        self.schema = schema
        self.pool: ConnectionPool[Any] = ConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=True
        )

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def queue(self, unit_ids: list[str], limit: int = 200) -> list[QueueRow]:
        """Open cases of the given units, the most urgent first."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE unit_id = ANY(%s) ORDER BY due_on, received_at LIMIT %s"
        ).format(self._table("case_queue"))
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, (unit_ids, limit)).fetchall()

    def submission(self, tracking_code: str) -> SubmissionStatus | None:
        query = sql.SQL("SELECT * FROM {} WHERE tracking_code = %s").format(
            self._table("submission_status")
        )
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SubmissionStatus))
            return cur.execute(query, (tracking_code,)).fetchone()

    def positions(self) -> dict[str, int]:
        query = sql.SQL("SELECT projection, notification_id FROM {}").format(
            self._table("projection_position")
        )
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return {r["projection"]: r["notification_id"] for r in cur.execute(query)}

    def close(self) -> None:
        self.pool.close()
