"""Read-side queries over the view tables, for the web pages and /healthz."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

from feedback_core.identity import normalise_tracking_code
from feedback_core.store import CONNECT_TIMEOUT_S

CLOSED_STATUSES = ["refused", "closed", "withdrawn", "merged"]
# The same list as SQL text: a constant in the statement (not a parameter) lets the planner
# match partial indexes written with the same predicate.
_OPEN = sql.SQL("status NOT IN ({})").format(
    sql.SQL(", ").join(sql.Literal(s) for s in CLOSED_STATUSES)
)
UNASSIGNED = "unassigned"  # the assignee filter's value for "nobody yet"
MAX_PAGE_SIZE = 200
# Counting stops here: an exact count of a large filtered result costs as much as reading it,
# and "more than 1,000" is as useful to a handler as the exact figure.
COUNT_CAP = 1000


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


@dataclass(frozen=True)
class QueueFilters:
    """What a handler narrows the queue to; empty strings mean "any"."""

    state: str = ""
    category: str = ""
    channel: str = ""
    assignee: str = ""  # a username, or UNASSIGNED
    overdue_on: date | None = None  # only cases overdue on this local date
    text: str = ""  # a tracking code, or words of the citizen's text


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int  # at most COUNT_CAP; see ``more_than_total``
    page: int
    page_size: int
    has_next: bool = False
    more_than_total: bool = False  # counting stopped at COUNT_CAP
    matched_code: bool = False  # the search text was found as a tracking code

    @property
    def pages(self) -> int:
        """Pages of the counted rows (there are more when ``more_than_total``)."""
        return max(1, -(-self.total // self.page_size))


@dataclass
class _Where:
    parts: list[sql.Composable] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str | sql.Composable, **params: Any) -> None:
        self.parts.append(sql.SQL(clause) if isinstance(clause, str) else clause)  # type: ignore[arg-type]
        self.params.update(params)

    def sql(self) -> sql.Composable:
        return sql.SQL(" AND ").join(self.parts)


def like_pattern(text: str) -> str:
    """``%text%`` for ILIKE, with the wildcard characters typed by the user taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ViewQueries:
    def __init__(self, conninfo: str, schema: str = "views", max_size: int = 4) -> None:
        self.schema = schema
        # After a PostgreSQL restart the pooled connections are broken: each is checked
        # when lent (a broken one is replaced), and a request waits at most 5 s for one,
        # so an outage gives a quick 503 (web.errors) rather than a hang or a 500.
        self.pool: ConnectionPool[Any] = ConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=True,
            check=ConnectionPool.check_connection, timeout=CONNECT_TIMEOUT_S,
        )

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def queue(self, unit_ids: list[str], limit: int = 200) -> list[QueueRow]:
        """Open cases of the given units, the most urgent first."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE unit_id = ANY(%s) AND {} "
            "ORDER BY due_on, received_at LIMIT %s"
        ).format(self._table("case_queue"), _OPEN)
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, (unit_ids, limit)).fetchall()

    def search_queue(
        self, unit_ids: list[str], filters: QueueFilters, page: int = 1, page_size: int = 50
    ) -> QueuePage:
        """One page of the open cases of ``unit_ids`` that match ``filters``, by due date.

        A search text that reads as a tracking code is looked up as one first (through the
        primary key of ``submission_status``); when no open case in scope has that code, the
        text is searched in the citizen's words like any other text.
        """
        page = max(1, page)
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        code = normalise_tracking_code(filters.text) if filters.text else ""
        if code:
            found = self._search(unit_ids, filters, page, page_size, code=code)
            if found.total:
                return found
        return self._search(unit_ids, filters, page, page_size, code="")

    def _search(
        self, unit_ids: list[str], f: QueueFilters, page: int, page_size: int, code: str
    ) -> QueuePage:
        where = _Where()
        where.add("unit_id = ANY(%(units)s)", units=list(unit_ids))
        where.parts.append(_OPEN)
        if f.state:
            where.add("status = %(state)s", state=f.state)
        if f.category:
            where.add("category = %(category)s", category=f.category)
        if f.channel:
            where.add("channel = %(channel)s", channel=f.channel)
        if f.assignee == UNASSIGNED:
            where.add("assignee IS NULL")
        elif f.assignee:
            where.add("assignee = %(assignee)s", assignee=f.assignee)
        if f.overdue_on is not None:
            # Past the due date and not answered yet, unless the clock stopped before it
            # (waiting for the citizen since before the due date moves it; see web.badges).
            where.add(
                "due_on < %(today)s AND status NOT IN ('answered', 'resolved') "
                "AND (waiting_since IS NULL OR waiting_since >= due_on)",
                today=f.overdue_on,
            )
        if code:
            by_code = sql.SQL(
                "case_id = (SELECT case_id FROM {} WHERE tracking_code = %(code)s)"
            ).format(self._table("submission_status"))
            where.add(by_code, code=code)
        elif f.text.strip():
            # ``summary`` is the first characters of ``description``: one column covers both.
            where.add("description ILIKE %(pattern)s", pattern=like_pattern(f.text.strip()))
        table, condition = self._table("case_queue"), where.sql()
        rows_query = sql.SQL(
            "SELECT * FROM {} WHERE {} ORDER BY due_on, received_at, case_id "
            "LIMIT %(limit)s OFFSET %(offset)s"
        ).format(table, condition)
        count_query = sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT %(cap)s) AS found"
        ).format(table, condition)
        offset = (page - 1) * page_size
        params = {**where.params, "limit": page_size + 1, "offset": offset, "cap": COUNT_CAP + 1}
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(QueueRow))
            rows = cur.execute(rows_query, params).fetchall()
            has_next = len(rows) > page_size
            if not has_next and (rows or page == 1):
                counted = offset + len(rows)  # the last page: no need to count
            else:
                found = conn.execute(count_query, params).fetchone()
                counted = int(found[0]) if found else 0
        return QueuePage(
            rows[:page_size],
            min(counted, COUNT_CAP),
            page,
            page_size,
            has_next=has_next,
            more_than_total=counted > COUNT_CAP,
            matched_code=bool(code),
        )

    def incoming_transfers(self, unit_ids: list[str]) -> list[QueueRow]:
        """Open cases that another unit asks one of ``unit_ids`` to take over."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE pending_transfer = ANY(%s) AND {} "
            "ORDER BY due_on, received_at, case_id"
        ).format(self._table("case_queue"), _OPEN)
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, (list(unit_ids),)).fetchall()

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

    def wait_for(
        self, notification_id: int, projection: str = "case_views", timeout: float = 5.0
    ) -> bool:
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
