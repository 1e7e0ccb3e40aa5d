"""Test doubles of our own ports (view queries, intake publisher, health) and page helpers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from feedback_core.identity import tracking_code_for
from feedback_core.intake import IntakeSubmission
from projections.queries import QueueRow, SubmissionStatus

NOW = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 10:30 in Hà Nội
DEMO_PASSWORD = "demo-2026"


class FakeQueries:
    """Rows we control; ``queue`` filters by unit like the SQL does and records what it got."""

    def __init__(self) -> None:
        self.rows: list[QueueRow] = []
        self.statuses: dict[str, SubmissionStatus] = {}
        self.queue_calls: list[list[str]] = []
        self.fail = False

    def queue(self, unit_ids: list[str]) -> list[QueueRow]:
        self.queue_calls.append(list(unit_ids))
        return [row for row in self.rows if row.unit_id in unit_ids]

    def submission(self, tracking_code: str) -> SubmissionStatus | None:
        if self.fail:
            raise RuntimeError("database unavailable")
        return self.statuses.get(tracking_code)

    def positions(self) -> dict[str, int]:
        return {}


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
    return QueueRow(**values)
