"""The case projection: the handlers' queue per unit and the status behind the tracking page,
and the queue's history per recorded day (``case_queue_daily``) behind the figures "as of"
a past day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql

from feedback_core.cases import Case
from feedback_core.identity import service_request_id_for
from feedback_core.ratings import Rating
from projections.case_views_bulk import HISTORY_COLUMNS, CaseViewsBulk
from projections.case_workflow import Patch, fold_patches, timeline_row
from projections.figures import recorded_day

SUMMARY_CHARS = 160

_UPSERT_RATING = """
INSERT INTO {schema}.submission_status AS s
    (tracking_code, submission_id, case_id, unit_id, office_id, counter_id, channel,
     rating, status, received_at)
VALUES (%(tracking_code)s, %(submission_id)s, %(case_id)s, %(unit_id)s, %(office_id)s,
        %(counter_id)s, %(channel)s, %(score)s, 'rated', %(given_at)s)
ON CONFLICT (tracking_code) DO UPDATE SET rating = EXCLUDED.rating
"""

_UPSERT_CASE_STATUS = """
INSERT INTO {schema}.submission_status AS s
    (tracking_code, submission_id, case_id, unit_id, office_id, counter_id, channel,
     category, status, received_at, due_on)
VALUES (%(tracking_code)s, %(submission_id)s, %(case_id)s, %(unit_id)s, %(office_id)s,
        %(counter_id)s, %(channel)s, %(category)s, %(status)s, %(received_at)s, %(due_on)s)
ON CONFLICT (tracking_code) DO UPDATE SET
    case_id = EXCLUDED.case_id, category = EXCLUDED.category,
    status = EXCLUDED.status, due_on = EXCLUDED.due_on
"""

_INSERT_QUEUE = """
INSERT INTO {schema}.case_queue
    (case_id, tracking_code, unit_id, office_id, counter_id, channel, category, summary,
     description, version, updated_at, status, rating, received_at, due_on)
VALUES (%(case_id)s, %(tracking_code)s, %(unit_id)s, %(office_id)s, %(counter_id)s,
        %(channel)s, %(category)s, %(summary)s, %(description)s, %(version)s, %(received_at)s,
        %(status)s,
        (SELECT rating FROM {schema}.submission_status WHERE tracking_code = %(tracking_code)s),
        %(received_at)s, %(due_on)s)
ON CONFLICT (case_id) DO NOTHING
"""

def _rating_row(event: Rating.Given) -> dict[str, Any]:
    return {
        "tracking_code": event.tracking_code,
        "submission_id": event.submission_id,
        "case_id": event.case_id,
        "unit_id": event.unit_id,
        "office_id": event.office_id,
        "counter_id": event.counter_id,
        "channel": event.channel,
        "score": event.score,
        "given_at": event.given_at,
    }


def _case_row(event: Case.Received) -> dict[str, Any]:
    return {
        "case_id": event.originator_id,
        "tracking_code": event.tracking_code,
        "submission_id": event.submission_id,
        "unit_id": event.unit_id,
        "office_id": event.office_id,
        "counter_id": event.counter_id,
        "channel": event.channel,
        "category": event.category,
        "summary": event.description[:SUMMARY_CHARS],
        "description": event.description,
        "version": event.originator_version,
        "status": "received",
        "received_at": event.received_at,
        "due_on": event.due_on,
    }


_INSERT_OPEN311 = """
INSERT INTO {schema}.open311_request (case_id, service_request_id, address, latitude, longitude)
VALUES (%(case_id)s, %(service_request_id)s, %(address)s, %(latitude)s, %(longitude)s)
ON CONFLICT (case_id) DO NOTHING
"""


def _open311_row(event: Case.Received) -> dict[str, Any]:
    return {
        "case_id": event.originator_id,
        "service_request_id": service_request_id_for(event.submission_id),
        "address": event.address,
        "latitude": event.latitude,
        "longitude": event.longitude,
    }


_INSERT_TIMELINE = """
INSERT INTO {schema}.case_timeline
    (case_id, version, at, kind, actor, actor_role, actor_unit, reason, text, public)
VALUES (%(case_id)s, %(version)s, %(at)s, %(kind)s, %(actor)s, %(actor_role)s,
        %(actor_unit)s, %(reason)s, %(text)s, %(public)s)
ON CONFLICT (case_id, version) DO NOTHING
"""

# The queue rows of the cases a run of events changed, as they stand at the end of the run's
# recorded day: the version before ends that day (unless a later one exists: a case's events
# recorded out of day order, which one writer's clock never does), this one runs until the
# next version's day or, usually, stays current (NULL).
_CLOSE_HISTORY = """
UPDATE {schema}.case_queue_daily SET valid_until = %(day)s
WHERE case_id = ANY(%(ids)s) AND recorded_on < %(day)s
  AND (valid_until IS NULL OR valid_until > %(day)s)
"""
_UPSERT_HISTORY = """
INSERT INTO {schema}.case_queue_daily (case_id, recorded_on, valid_until, {columns})
SELECT q.case_id, %(day)s,
       (SELECT min(n.recorded_on) FROM {schema}.case_queue_daily n
        WHERE n.case_id = q.case_id AND n.recorded_on > %(day)s),
       {q_columns}
FROM {schema}.case_queue q WHERE q.case_id = ANY(%(ids)s)
ON CONFLICT (case_id, recorded_on) DO UPDATE SET {updates}
"""

# What the citizen's status row mirrors from the queue row.
_STATUS_COLUMNS = frozenset({"status", "due_on", "unit_id"})


class CaseViews:
    """Applies a page of domain events to the view tables with a few set-based statements."""

    name = "case_views"
    topics: tuple[str, ...] = ()

    def bulk_loader(self) -> CaseViewsBulk:
        """The rebuild's path: the whole log folded in memory, then COPY (fresh schema)."""
        return CaseViewsBulk(SUMMARY_CHARS)

    def apply(self, cur: Cursor[Any], schema: str, events: Sequence[Any]) -> None:
        """The page in runs of one recorded day each (nearly always one run): each run's
        statements, then one history row per case it changed."""
        for day, run in groupby(events, key=recorded_day):
            in_day = list(run)
            self._apply_run(cur, schema, in_day)
            changed = {e.originator_id for e in in_day if isinstance(e, Case.Received | Case.Step)}
            if changed:
                self._snapshot(cur, schema, day, list(changed))

    @staticmethod
    def _snapshot(cur: Cursor[Any], schema: str, day: date, case_ids: list[UUID]) -> None:
        name = sql.Identifier(schema)
        params = {"day": day, "ids": case_ids}
        cur.execute(sql.SQL(_CLOSE_HISTORY).format(schema=name), params)  # type: ignore[arg-type]
        columns = [sql.Identifier(c) for c in HISTORY_COLUMNS]
        upsert = sql.SQL(_UPSERT_HISTORY).format(  # type: ignore[arg-type]
            schema=name,
            columns=sql.SQL(", ").join(columns),
            q_columns=sql.SQL(", ").join(sql.SQL("q.{}").format(c) for c in columns),
            updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(c) for c in columns),
        )
        cur.execute(upsert, params)

    def _apply_run(self, cur: Cursor[Any], schema: str, events: Sequence[Any]) -> None:
        ratings = [_rating_row(e) for e in events if isinstance(e, Rating.Given)]
        cases = [_case_row(e) for e in events if isinstance(e, Case.Received)]
        self._run(cur, schema, _UPSERT_RATING, ratings)
        self._run(cur, schema, _UPSERT_CASE_STATUS, cases)
        # After the ratings: the queue row takes the score from submission_status, which
        # holds it even when a page boundary fell between a rating and its case.
        self._run(cur, schema, _INSERT_QUEUE, cases)
        received = [e for e in events if isinstance(e, Case.Received)]
        self._run(cur, schema, _INSERT_OPEN311, [_open311_row(e) for e in received])
        self._run(cur, schema, _INSERT_TIMELINE, [r for e in events if (r := timeline_row(e))])
        self._apply_patches(cur, schema, fold_patches(events))

    def _apply_patches(self, cur: Cursor[Any], schema: str, patches: dict[UUID, Patch]) -> None:
        """Group the per-case patches by the columns they set: one executemany per shape."""
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for case_id, patch in patches.items():
            shapes.setdefault(tuple(sorted(patch)), []).append({**patch, "case_id": case_id})
        for columns, rows in shapes.items():
            self._update(cur, schema, "case_queue", columns, rows)
            public = tuple(c for c in columns if c in _STATUS_COLUMNS)
            if public:
                self._update(cur, schema, "submission_status", public, rows)

    @staticmethod
    def _update(
        cur: Cursor[Any], schema: str, table: str, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in columns
        )
        query = sql.SQL("UPDATE {}.{} SET {} WHERE case_id = %(case_id)s").format(
            sql.Identifier(schema), sql.Identifier(table), assignments
        )
        cur.executemany(query, rows)

    @staticmethod
    def _run(cur: Cursor[Any], schema: str, statement: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            query = sql.SQL(statement).format(schema=sql.Identifier(schema))  # type: ignore[arg-type]
            cur.executemany(query, rows)
