"""Read-side queries for the Open311 GeoReport v2 API (web/open311, docs/open311.md).

A service request is a case: ``case_queue`` joined to ``open311_request`` (its public
``service_request_id`` and the place it is about). A rating without a complaint has no case
and is no service request. The tracking code is read too, for the client that filed the
request and lookups by it, but it is never the public id. The schema is a parameter and
every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

# Our states that Open311 calls "closed"; every other state of a case is "open".
CLOSED_STATES = ("resolved", "closed", "refused", "withdrawn", "merged")
# The public timeline rows that explain the current state (``status_notes``): the answer,
# the reasons of a refusal (written for the citizen), and a reopening, which makes an
# earlier answer no longer the explanation of the current state.
_NOTE_KINDS = ("answered", "refused", "reopened")
MAX_RESULTS = 1000  # "first 1000 requests returned" (GeoReport v2, Response Volume)


@dataclass(frozen=True)
class ServiceRequestRow:
    service_request_id: str  # public (feedback_core.identity.service_request_id_for)
    tracking_code: str  # private to the citizen: never in a public answer
    case_id: UUID
    unit_id: str
    channel: str
    category: str
    description: str
    status: str  # our legal state (feedback_core.cases.CaseStatus)
    received_at: datetime
    updated_at: datetime
    due_on: date
    status_notes: str | None = None  # the public answer, or the reasons of a refusal
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class RequestQuery:
    """What a GET requests call selects. ``None`` means "any" for each filter."""

    ids: tuple[str, ...] | None = None  # service_request_id
    codes: tuple[str, ...] | None = None  # tracking codes (requests filed before the ids)
    unit_ids: tuple[str, ...] | None = None  # the caller's scope
    received_from: datetime | None = None  # inclusive
    received_to: datetime | None = None  # inclusive
    categories: tuple[str, ...] | None = None  # service_code
    closed: bool | None = None  # True: only closed, False: only open
    limit: int = MAX_RESULTS


@runtime_checkable
class Open311Reader(Protocol):
    def service_requests(self, query: RequestQuery) -> list[ServiceRequestRow]: ...


class Open311Queries:
    """The real reader, on the connection pool of ``projections.queries.ViewQueries``."""

    def __init__(self, pool: ConnectionPool[Any], schema: str = "views") -> None:
        self.pool = pool
        self.schema = schema

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def service_requests(self, query: RequestQuery) -> list[ServiceRequestRow]:
        """Newest first, at most ``query.limit`` rows."""
        where: list[sql.Composable] = [sql.SQL("TRUE")]
        params: dict[str, Any] = {
            "closed_states": list(CLOSED_STATES),
            "note_kinds": list(_NOTE_KINDS),
            "limit": max(0, min(query.limit, MAX_RESULTS)),
        }
        wanted: list[sql.Composable] = []
        if query.ids is not None:
            wanted.append(sql.SQL("o.service_request_id = ANY(%(ids)s)"))
            params["ids"] = list(query.ids)
        if query.codes is not None:
            wanted.append(
                sql.SQL(
                    "q.case_id IN (SELECT case_id FROM {} WHERE tracking_code = ANY(%(codes)s))"
                ).format(self._table("submission_status"))
            )
            params["codes"] = list(query.codes)
        if wanted:
            where.append(sql.SQL("({})").format(sql.SQL(" OR ").join(wanted)))
        if query.unit_ids is not None:
            where.append(sql.SQL("q.unit_id = ANY(%(units)s)"))
            params["units"] = list(query.unit_ids)
        if query.received_from is not None:
            where.append(sql.SQL("q.received_at >= %(received_from)s"))
            params["received_from"] = query.received_from
        if query.received_to is not None:
            where.append(sql.SQL("q.received_at <= %(received_to)s"))
            params["received_to"] = query.received_to
        if query.categories is not None:
            where.append(sql.SQL("q.category = ANY(%(categories)s)"))
            params["categories"] = list(query.categories)
        if query.closed is True:
            where.append(sql.SQL("q.status = ANY(%(closed_states)s)"))
        elif query.closed is False:
            where.append(sql.SQL("q.status <> ALL(%(closed_states)s)"))
        statement = sql.SQL(
            """SELECT o.service_request_id, q.tracking_code, q.case_id, q.unit_id,
                      q.channel, q.category, q.description, q.status, q.received_at,
                      q.updated_at, q.due_on,
                      (SELECT CASE t.kind WHEN 'answered' THEN t.text
                                          WHEN 'refused' THEN t.reason END
                         FROM {timeline} AS t
                        WHERE t.case_id = q.case_id AND t.public
                          AND t.kind = ANY(%(note_kinds)s)
                        ORDER BY t.version DESC LIMIT 1) AS status_notes,
                      o.address, o.latitude, o.longitude
                 FROM {queue} AS q
                 JOIN {open311} AS o ON o.case_id = q.case_id
                WHERE {where}
                ORDER BY q.received_at DESC, o.service_request_id
                LIMIT %(limit)s"""
        ).format(
            timeline=self._table("case_timeline"),
            open311=self._table("open311_request"),
            queue=self._table("case_queue"),
            where=sql.SQL(" AND ").join(where),
        )
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(ServiceRequestRow))
            return cur.execute(statement, params).fetchall()
