"""Test doubles of our own ports (view queries, intake publisher, health) and page helpers.

``FakeQueries`` serves rows a test writes; ``StoreQueries`` serves the views of a real
``CasesApplication`` on the in-memory (POPO) store, built by the projection's own functions
(``projections.case_workflow``), so pages read what a real ``CaseDesk`` just did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for, normalise_tracking_code, tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.ratings import Rating
from projections.case_views import SUMMARY_CHARS
from projections.case_workflow import queue_patch, timeline_row
from projections.queries import (
    CLOSED_STATUSES,
    UNASSIGNED,
    QueueFilters,
    QueuePage,
    QueueRow,
    SubmissionStatus,
    TimelineRow,
)

NOW = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 10:30 in Hà Nội
DEMO_PASSWORD = "demo-2026"


def matches(row: QueueRow, units: list[str], f: QueueFilters, code: str) -> bool:
    """What projections.queries.search_queue selects, in Python."""
    if row.unit_id not in units or row.status in CLOSED_STATUSES:
        return False
    checks = [
        not f.state or row.status == f.state,
        not f.category or row.category == f.category,
        not f.channel or row.channel == f.channel,
        not f.assignee
        or (row.assignee is None if f.assignee == UNASSIGNED else row.assignee == f.assignee),
        f.overdue_on is None
        or (
            row.due_on < f.overdue_on
            and row.status not in ("answered", "resolved")
            and (row.waiting_since is None or row.waiting_since >= row.due_on)
        ),
        row.tracking_code == code if code else f.text.strip().casefold()
        in row.description.casefold(),
    ]
    return all(checks)


def search(
    rows: Iterable[QueueRow], units: list[str], f: QueueFilters, page: int, page_size: int
) -> QueuePage:
    ordered = sorted(rows, key=lambda r: (r.due_on, r.received_at, str(r.case_id)))
    code = normalise_tracking_code(f.text) if f.text else ""
    found = [r for r in ordered if matches(r, units, f, code)]
    if code and not found:
        code = ""
        found = [r for r in ordered if matches(r, units, f, code)]
    start = (page - 1) * page_size
    return QueuePage(
        found[start : start + page_size],
        len(found),
        page,
        page_size,
        has_next=len(found) > start + page_size,
        matched_code=bool(code),
    )


class FakeQueries:
    """Rows we control; queries filter by unit like the SQL does and record what they got."""

    def __init__(self) -> None:
        self.rows: list[QueueRow] = []
        self.statuses: dict[str, SubmissionStatus] = {}
        self.timelines: dict[UUID, list[TimelineRow]] = {}
        self.queue_calls: list[list[str]] = []
        self.search_calls: list[tuple[list[str], QueueFilters, int]] = []
        self.waited: list[int] = []
        self.fail = False

    def _all(self) -> list[QueueRow]:
        return self.rows

    def queue(self, unit_ids: list[str]) -> list[QueueRow]:
        self.queue_calls.append(list(unit_ids))
        return [row for row in self._all() if row.unit_id in unit_ids]

    def search_queue(
        self, unit_ids: list[str], filters: QueueFilters, page: int = 1, page_size: int = 50
    ) -> QueuePage:
        if self.fail:
            raise RuntimeError("database unavailable")
        self.search_calls.append((list(unit_ids), filters, page))
        return search(self._all(), list(unit_ids), filters, page, page_size)

    def incoming_transfers(self, unit_ids: list[str]) -> list[QueueRow]:
        rows = [
            r
            for r in self._all()
            if r.pending_transfer in unit_ids and r.status not in CLOSED_STATUSES
        ]
        return sorted(rows, key=lambda r: (r.due_on, r.received_at))

    def case(self, case_id: UUID) -> QueueRow | None:
        return next((r for r in self._all() if r.case_id == case_id), None)

    def timeline(self, case_id: UUID, public_only: bool = True) -> list[TimelineRow]:
        return [t for t in self.timelines.get(case_id, []) if t.public or not public_only]

    def wait_for(
        self, notification_id: int, projection: str = "case_views", timeout: float = 5.0
    ) -> bool:
        self.waited.append(notification_id)
        return True

    def submission(self, tracking_code: str) -> SubmissionStatus | None:
        if self.fail:
            raise RuntimeError("database unavailable")
        return self.statuses.get(tracking_code)

    def positions(self) -> dict[str, int]:
        return {}


class StoreQueries(FakeQueries):
    """The views of an in-memory ``CasesApplication``, caught up with its log on every read
    (like the projection runner, from the last position it reached)."""

    def __init__(self, app: CasesApplication) -> None:
        super().__init__()
        self.app = app
        self.position = 0
        self.by_id: dict[UUID, QueueRow] = {}
        self.timelines_by_id: dict[UUID, list[TimelineRow]] = {}
        self.ratings: dict[str, int] = {}

    def _catch_up(self) -> None:
        notes = self.app.recorder.select_notifications(
            start=self.position + 1, limit=1_000_000
        )
        for notification in notes:
            self._apply(self.app.mapper.to_domain_event(notification))
            self.position = notification.id

    def _apply(self, event: Any) -> None:
        if isinstance(event, Rating.Given):
            self.ratings[event.tracking_code] = event.score
            self.statuses[event.tracking_code] = _rating_status(event)
        elif isinstance(event, Case.Received):
            self.by_id[event.originator_id] = _received_row(event, self.ratings)
            self.statuses[event.tracking_code] = _case_status(event, self.ratings)
        elif isinstance(event, Case.Step):
            row = replace(
                self.by_id[event.originator_id],
                **queue_patch(event),
                version=event.originator_version,
                updated_at=event.at,
            )
            self.by_id[event.originator_id] = row
            status = self.statuses[row.tracking_code]
            self.statuses[row.tracking_code] = replace(
                status, status=row.status, due_on=row.due_on, unit_id=row.unit_id
            )
        entry = timeline_row(event)
        if entry:
            self.timelines_by_id.setdefault(entry["case_id"], []).append(TimelineRow(**entry))

    def _all(self) -> list[QueueRow]:
        self._catch_up()
        return list(self.by_id.values())

    def case(self, case_id: UUID) -> QueueRow | None:
        self._catch_up()
        return self.by_id.get(case_id)

    def timeline(self, case_id: UUID, public_only: bool = True) -> list[TimelineRow]:
        self._catch_up()
        rows = self.timelines_by_id.get(case_id, [])
        return [t for t in rows if t.public or not public_only]

    def submission(self, tracking_code: str) -> SubmissionStatus | None:
        self._catch_up()
        return self.statuses.get(tracking_code)

    def wait_for(
        self, notification_id: int, projection: str = "case_views", timeout: float = 5.0
    ) -> bool:
        self.waited.append(notification_id)
        self._catch_up()
        return notification_id <= self.position


def _received_row(event: Case.Received, ratings: dict[str, int]) -> QueueRow:
    return QueueRow(
        case_id=event.originator_id,
        tracking_code=event.tracking_code,
        unit_id=event.unit_id,
        office_id=event.office_id,
        counter_id=event.counter_id,
        channel=event.channel,
        category=event.category,
        summary=event.description[:SUMMARY_CHARS],
        description=event.description,
        status="received",
        rating=ratings.get(event.tracking_code),
        received_at=event.received_at,
        due_on=event.due_on,
        version=event.originator_version,
        updated_at=event.received_at,
    )


def _rating_status(event: Rating.Given) -> SubmissionStatus:
    return SubmissionStatus(
        tracking_code=event.tracking_code,
        submission_id=event.submission_id,
        case_id=event.case_id,
        unit_id=event.unit_id,
        office_id=event.office_id,
        counter_id=event.counter_id,
        channel=event.channel,
        rating=event.score,
        category=None,
        status="rated",
        received_at=event.given_at,
        due_on=None,
    )


def _case_status(event: Case.Received, ratings: dict[str, int]) -> SubmissionStatus:
    return SubmissionStatus(
        tracking_code=event.tracking_code,
        submission_id=event.submission_id,
        case_id=event.originator_id,
        unit_id=event.unit_id,
        office_id=event.office_id,
        counter_id=event.counter_id,
        channel=event.channel,
        rating=ratings.get(event.tracking_code),
        category=event.category,
        status="received",
        received_at=event.received_at,
        due_on=event.due_on,
    )


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[IntakeSubmission] = []
        self.started = self.stopped = False
        self.fail = False

    async def start(self) -> None:
        self.started = True

    async def publish(self, submission: IntakeSubmission) -> None:
        if self.fail:
            raise ConnectionError("intake log unreachable")
        self.published.append(submission)

    async def stop(self) -> None:
        self.stopped = True

    def describe(self) -> dict[str, object]:
        return {"kind": "recording"}


class FakeHealth:
    def __init__(self) -> None:
        self.report: dict[str, Any] = {
            "event_store": {"ok": True, "max_notification_id": 12},
            "log": {"ok": True, "kind": "recording"},
            "projections": {"case_views": {"ok": True, "position": 12, "lag": 0}},
        }

    async def __call__(self) -> dict[str, Any]:
        return self.report


def hidden(html: str, name: str) -> str:
    """The value of a hidden input in a rendered form."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def status_row(submission_id: UUID | None = None, **changes: Any) -> SubmissionStatus:
    sid = submission_id or uuid4()
    values: dict[str, Any] = {
        "tracking_code": tracking_code_for(sid),
        "submission_id": sid,
        "case_id": None,
        "unit_id": "nhat-tan",
        "office_id": "nhat-tan-mc",
        "counter_id": "nhat-tan-q1",
        "channel": "qr",
        "rating": 4,
        "category": None,
        "status": "rated",
        "received_at": datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
        "due_on": None,
    }
    values.update(changes)
    return SubmissionStatus(**values)


def queue_row(unit_id: str, counter_id: str, due_on: date, **changes: Any) -> QueueRow:
    sid = uuid4()
    values: dict[str, Any] = {
        "case_id": uuid4(),
        "tracking_code": tracking_code_for(sid),
        "unit_id": unit_id,
        "office_id": f"{unit_id}-mc",
        "counter_id": counter_id,
        "channel": "qr",
        "category": "delay",
        "summary": f"Chờ quá lâu ở {counter_id}",
        "status": "received",
        "rating": 2,
        "received_at": datetime(2026, 11, 10, 1, 0, tzinfo=UTC),
        "due_on": due_on,
    }
    values.update(changes)
    values.setdefault("description", values["summary"])
    return QueueRow(**values)


# --- driving the pages ---------------------------------------------------------------------


def log_in(client: Any, username: str, password: str = DEMO_PASSWORD, next_url: str = "") -> Any:
    page = client.get("/login", params={"next": next_url} if next_url else None)
    data = {"csrf_token": hidden(page.text, "csrf_token"), "username": username}
    data |= {"password": password, "next": hidden(page.text, "next")}
    return client.post("/login", data=data)


def open_case(
    app: CasesApplication, unit: str = "nhat-tan", days_ago: int = 3, **fields: Any
) -> tuple[UUID, str]:
    """A complaint submitted ``days_ago`` days before NOW, stored by the real application."""
    values: dict[str, Any] = {
        "submission_id": uuid4(),
        "channel": Channel.QR,
        "unit_id": unit,
        "office_id": f"{unit}-mc",
        "counter_id": f"{unit}-q1",
        "submitted_at": NOW - timedelta(days=days_ago),
        "rating": 2,
        "description": "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định.",
        "category": ComplaintCategory.HARASSMENT,
    }
    values.update(fields)
    sub = IntakeSubmission(**values)
    app.record_submissions([sub])
    return case_id_for(sub.submission_id), tracking_code_for(sub.submission_id)


def post_step(client: Any, case_id: UUID, action: str, **data: str) -> Any:
    """Post a step the way the case page does: its CSRF token and the version it shows."""
    page = client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200, page.text
    form = {"csrf_token": hidden(page.text, "csrf_token"), "version": hidden(page.text, "version")}
    return client.post(f"/staff/cases/{case_id}/{action}", data=form | data)


def offered(html: str) -> list[str]:
    """The step forms a case page offers."""
    return re.findall(r'id="form-(\w+)"', html)
