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

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Connection

from feedback_core.cases import Case
from feedback_core.identity import service_request_id_for
from feedback_core.ratings import Rating
from projections.bulk_copy import copy_rows
from projections.case_workflow import queue_patch, timeline_row
from projections.figures import recorded_day

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
# The queue's columns a case's history keeps per recorded day (``case_queue_daily``): those
# its events change; the rest stay as the case was received and are read from the queue.
HISTORY_COLUMNS = (
    "unit_id",
    "status",
    "due_on",
    "assignee",
    "pending_transfer",
    "escalated",
    "waiting_since",
    "merged_into",
    "version",
    "updated_at",
)
_HISTORY_TABLE = ("case_id", "recorded_on", "valid_until", *HISTORY_COLUMNS)
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
        # The queue row at the end of each recorded day of a case but its last (that one is
        # the final row): kept when a case's first event of a later day comes.
        self.history: dict[tuple[UUID, date], tuple[Any, ...]] = {}
        self.last_day: dict[UUID, date] = {}

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
            self.last_day[case_id] = recorded_day(event)
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
            day, before = recorded_day(event), self.last_day[event.originator_id]
            if day != before:
                self.history[(event.originator_id, before)] = _history_row(queued)
                self.last_day[event.originator_id] = day
            queued.update(patch)
        status = self.status_by_case.get(event.originator_id)
        if status is not None:
            status.update({c: patch[c] for c in STATUS_COLUMNS if c in patch})

    def settle(self) -> None:
        """Nothing to resolve before a worker process forks (``bulk_parallel``)."""

    def prepare(self, conn: Connection[Any], schema: str) -> None:
        """Nothing: ``create_views`` makes its tables."""

    def write_shard(
        self, conn: Connection[Any], schema: str, loaded: Callable[[str], None]
    ) -> None:
        """A shard's rows are its own (``bulk_parallel``): all of them, nothing to sum. The
        queue first, committed and announced (``loaded``): its keys and indexes (the
        trigram index, the longest) are built while the other tables load."""
        self._write_queue(conn, schema)
        conn.commit()
        loaded("case_queue")
        self._write_others(conn, schema)

    def write_merged(self, conn: Connection[Any], schema: str, parts: list[Any]) -> None:
        """Nothing: no case-view row is summed over shards."""

    def write(self, conn: Connection[Any], schema: str) -> None:
        """COPY the folded rows into the (empty) tables of ``schema``."""
        self._write_queue(conn, schema)
        self._write_others(conn, schema)

    def _write_queue(self, conn: Connection[Any], schema: str) -> None:
        copy_rows(
            conn,
            schema,
            "case_queue",
            _QUEUE_TABLE,
            ([r[c] for c in _QUEUE_TABLE] for r in self.queue.values()),
        )

    def _write_others(self, conn: Connection[Any], schema: str) -> None:
        copy_rows(
            conn,
            schema,
            "submission_status",
            _STATUS_TABLE,
            ([r[c] for c in _STATUS_TABLE] for r in self.status.values()),
        )
        copy_rows(conn, schema, "case_queue_daily", _HISTORY_TABLE, self._history_rows())
        copy_rows(conn, schema, "open311_request", _OPEN311_TABLE, self.open311.values())
        copy_rows(conn, schema, "case_timeline", _TIMELINE_TABLE,
                  ([r[c] for c in _TIMELINE_TABLE] for r in self.timeline.values()))  # fmt: skip

    def _history_rows(self) -> Any:
        """Each case's versions in day order, each valid until the next one's day."""
        for case_id, queued in self.queue.items():
            self.history[(case_id, self.last_day[case_id])] = _history_row(queued)
        following: dict[UUID, date | None] = {}
        # UUID's ordering is its int's: sorting by the int skips a Python __lt__ per compare.
        for case_id, day in sorted(self.history, key=_by_case_int, reverse=True):
            yield (case_id, day, following.get(case_id), *self.history[(case_id, day)])
            following[case_id] = day


def _history_row(queued: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(queued[c] for c in HISTORY_COLUMNS)


def _by_case_int(key: tuple[UUID, date]) -> tuple[int, date]:
    return key[0].int, key[1]
