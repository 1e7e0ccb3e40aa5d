"""Read-side queries over the view tables, for the web pages and /healthz."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

CLOSED_STATUSES = ["refused", "closed", "withdrawn", "merged"]


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
    description: str = ""
    assignee: str | None = None
    pending_transfer: str | None = None
    escalated: bool = False
    waiting_since: date | None = None
    merged_into: UUID | None = None
    version: int = 1
    updated_at: datetime | None = None


@dataclass(frozen=True)
class TimelineRow:
    case_id: UUID
    version: int
    at: datetime
    kind: str
    actor: str
    actor_role: str
    actor_unit: str
    reason: str
    text: str
    public: bool


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
            "SELECT * FROM {} WHERE unit_id = ANY(%s) AND status <> ALL(%s) "
            "ORDER BY due_on, received_at LIMIT %s"
        ).format(self._table("case_queue"))
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, (unit_ids, CLOSED_STATUSES, limit)).fetchall()

    def case(self, case_id: UUID) -> QueueRow | None:
        query = sql.SQL("SELECT * FROM {} WHERE case_id = %s").format(self._table("case_queue"))
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(QueueRow))
            return cur.execute(query, (case_id,)).fetchone()

    def timeline(self, case_id: UUID, public_only: bool = True) -> list[TimelineRow]:
        """A case's history in order; citizens get only the public rows."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE case_id = %s AND (public OR NOT %s) ORDER BY version"
        ).format(self._table("case_timeline"))
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(TimelineRow))
            return cur.execute(query, (case_id, public_only)).fetchall()

    def wait_for(self, notification_id: int, projection: str = "case_views",
                 timeout: float = 5.0) -> bool:
        """Read-your-writes: wait until the views include ``notification_id``."""
        deadline = time.monotonic() + timeout
        while self.positions().get(projection, 0) < notification_id:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

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
