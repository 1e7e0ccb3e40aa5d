"""The case views folded in memory for a rebuild from position zero, then loaded with COPY.

The live projection (``CaseViews.apply``) runs a few upserts and updates per page, because
it must write its rows and its position in one transaction, page after page. A rebuild into
a fresh schema has no reader until the swap, so it can fold the whole log into the final
rows first (in log order, with the live statements' semantics: the first rating or case of
a tracking code makes its status row, a case row is never replaced, a workflow step patches
its queue row and the citizen's status) and write each table once with ``COPY``. Memory:
about 1 KB per case and per rating held until the load (1 M events ≈ 1 GB).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Connection, sql

from feedback_core.cases import Case
from feedback_core.identity import service_request_id_for
from feedback_core.ratings import Rating
from projections.case_workflow import queue_patch, timeline_row

# What the citizen's status row mirrors from the queue row (as ``CaseViews``).
STATUS_COLUMNS = ("status", "due_on", "unit_id")

_STATUS_TABLE = (
    "tracking_code",
    "submission_id",
    "case_id",
    "unit_id",
    "office_id",
    "counter_id",
    "channel",
    "rating",
    "category",
    "status",
    "received_at",
    "due_on",
)
_QUEUE_TABLE = (
    "case_id",
    "tracking_code",
    "unit_id",
    "office_id",
    "counter_id",
    "channel",
    "category",
    "summary",
    "description",
    "status",
    "rating",
    "received_at",
    "due_on",
    "assignee",
    "pending_transfer",
    "escalated",
    "waiting_since",
    "merged_into",
    "version",
    "updated_at",
)
_OPEN311_TABLE = ("case_id", "service_request_id", "address", "latitude", "longitude")
_TIMELINE_TABLE = (
    "case_id",
    "version",
    "at",
    "kind",
    "actor",
    "actor_role",
    "actor_unit",
    "reason",
    "text",
    "public",
)


class CaseViewsBulk:
    """Final rows of the case views, folded from events in log order."""

    def __init__(self, summary_chars: int) -> None:
        self.summary_chars = summary_chars
        self.status: dict[str, dict[str, Any]] = {}  # by tracking code
        self.status_by_case: dict[UUID, dict[str, Any]] = {}
        self.queue: dict[UUID, dict[str, Any]] = {}
        self.open311: dict[UUID, tuple[Any, ...]] = {}
        self.timeline: dict[tuple[UUID, int], dict[str, Any]] = {}

    def add(self, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, Rating.Given):
                self._rating(event)
            elif isinstance(event, Case.Received):
                self._received(event)
            elif isinstance(event, Case.Step):
                self._step(event)
            row = timeline_row(event)
            if row is not None:
                self.timeline.setdefault((row["case_id"], row["version"]), row)

    def _rating(self, event: Rating.Given) -> None:
        row = self.status.get(event.tracking_code)
        if row is not None:  # ON CONFLICT (tracking_code) DO UPDATE SET rating
            row["rating"] = event.score
            return
        row = {
            "tracking_code": event.tracking_code, "submission_id": event.submission_id,
            "case_id": event.case_id, "unit_id": event.unit_id, "office_id": event.office_id,
            "counter_id": event.counter_id, "channel": event.channel, "rating": event.score,
            "category": None, "status": "rated", "received_at": event.given_at,
            "due_on": None,
        }  # fmt: skip
        self.status[event.tracking_code] = row
        if event.case_id is not None:
            self.status_by_case.setdefault(event.case_id, row)

    def _received(self, event: Case.Received) -> None:
        case_id = event.originator_id
        row = self.status.get(event.tracking_code)
        if row is None:
            row = {
                "tracking_code": event.tracking_code, "submission_id": event.submission_id,
                "case_id": case_id, "unit_id": event.unit_id, "office_id": event.office_id,
                "counter_id": event.counter_id, "channel": event.channel, "rating": None,
                "category": event.category, "status": "received",
                "received_at": event.received_at, "due_on": event.due_on,
            }  # fmt: skip
            self.status[event.tracking_code] = row
        else:  # ON CONFLICT (tracking_code) DO UPDATE SET case_id, category, status, due_on
            row.update(
                case_id=case_id, category=event.category, status="received",
                due_on=event.due_on,
            )  # fmt: skip
        self.status_by_case.setdefault(case_id, row)
        if case_id not in self.queue:  # ON CONFLICT (case_id) DO NOTHING
            self.queue[case_id] = {
                "case_id": case_id, "tracking_code": event.tracking_code,
                "unit_id": event.unit_id, "office_id": event.office_id,
                "counter_id": event.counter_id, "channel": event.channel,
                "category": event.category,
                "summary": event.description[: self.summary_chars],
                "description": event.description, "status": "received",
                "rating": row["rating"], "received_at": event.received_at,
                "due_on": event.due_on, "assignee": None, "pending_transfer": None,
                "escalated": False, "waiting_since": None, "merged_into": None,
                "version": event.originator_version, "updated_at": event.received_at,
            }  # fmt: skip
        if case_id not in self.open311:
            self.open311[case_id] = (
                case_id, service_request_id_for(event.submission_id), event.address,
                event.latitude, event.longitude,
            )  # fmt: skip

    def _step(self, event: Any) -> None:
        patch = queue_patch(event)
        patch.update(version=event.originator_version, updated_at=event.at)
        queued = self.queue.get(event.originator_id)
        if queued is not None:
            queued.update(patch)
        status = self.status_by_case.get(event.originator_id)
        if status is not None:
            status.update({c: patch[c] for c in STATUS_COLUMNS if c in patch})

    def write(self, conn: Connection[Any], schema: str) -> None:
        """COPY the folded rows into the (empty) tables of ``schema``."""
        copy_rows(
            conn,
            schema,
            "submission_status",
            _STATUS_TABLE,
            ([r[c] for c in _STATUS_TABLE] for r in self.status.values()),
        )
        copy_rows(
            conn,
            schema,
            "case_queue",
            _QUEUE_TABLE,
            ([r[c] for c in _QUEUE_TABLE] for r in self.queue.values()),
        )
        copy_rows(conn, schema, "open311_request", _OPEN311_TABLE, self.open311.values())
        copy_rows(conn, schema, "case_timeline", _TIMELINE_TABLE,
                  ([r[c] for c in _TIMELINE_TABLE] for r in self.timeline.values()))  # fmt: skip


def copy_rows(
    conn: Connection[Any], schema: str, table: str, columns: Sequence[str], rows: Any
) -> None:
    """``COPY schema.table (columns) FROM STDIN`` with psycopg's row writer."""
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        sql.Identifier(schema), sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )  # fmt: skip
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
