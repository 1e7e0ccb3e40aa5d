"""The urgency of a case as a handler sees it: due today, overdue by N working days, and the
states that change what "due" means (waiting for the citizen, being transferred, escalated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from feedback_core.cases import CaseStatus
from feedback_core.legal_clock import BusinessCalendar
from projections.queries import QueueRow
from web.i18n import N_

DUE_TODAY = N_("Đến hạn hôm nay")
OVERDUE = N_("Quá hạn %(n)s ngày làm việc")
WAITING = N_("Chờ công dân")
TRANSFERRING = N_("Đang chuyển")
ESCALATED = N_("Đã báo cáo lãnh đạo")


@dataclass(frozen=True)
class Badge:
    kind: str  # the CSS modifier: today, overdue, waiting, transfer, escalated
    message: str  # a msgid, with ``params``
    params: Mapping[str, int] = field(default_factory=dict)


class WorkingDays:
    """``BusinessCalendar.is_working_day``, remembered per day for one page."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self._calendar = calendar
        self._known: dict[date, bool] = {}
        self._spans: dict[tuple[date, date], int] = {}

    def is_working_day(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._calendar.is_working_day(day)
        return known

    def after_until(self, start: date, end: date) -> int:
        """Working days in (start, end] (a page's rows share a few due dates)."""
        found = self._spans.get((start, end))
        if found is None:
            days = (end - start).days
            found = sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, days + 1))
            self._spans[(start, end)] = found
        return found


def clock_stopped(row: QueueRow) -> bool:
    """Waiting for the citizen since before the due date: the due date will move.

    The legal clock does not count the days of a pause after the question, so a case asked
    about before its due date is not late while it waits (projections.queries filters the
    same way). A question asked on or after the due date does not extend a period that was
    already over.
    """
    return row.waiting_since is not None and row.waiting_since < row.due_on


def overdue_days(row: QueueRow, today: date, days: WorkingDays) -> int:
    """How many working days late an open case is; 0 when it is not late.

    The period ends at the end of the due date, so a case is late from the next day; late on
    a day off after the due date counts as one day (it cannot be "0 days" late).
    """
    if row.status in _NOT_DUE or clock_stopped(row) or row.due_on >= today:
        return 0
    return max(1, days.after_until(row.due_on, today))


def badges(row: QueueRow, today: date, days: WorkingDays) -> list[Badge]:
    found: list[Badge] = []
    late = overdue_days(row, today, days)
    if late:
        found.append(Badge("overdue", OVERDUE, {"n": late}))
    elif row.due_on == today and row.status not in _NOT_DUE and not clock_stopped(row):
        found.append(Badge("today", DUE_TODAY))
    if row.status == CaseStatus.WAITING_FOR_CITIZEN:
        found.append(Badge("waiting", WAITING))
    if row.pending_transfer:
        found.append(Badge("transfer", TRANSFERRING))
    if row.escalated:
        found.append(Badge("escalated", ESCALATED))
    return found


# Answered or finished cases are no longer running against their due date.
_NOT_DUE = frozenset(
    {
        CaseStatus.ANSWERED,
        CaseStatus.RESOLVED,
        CaseStatus.CLOSED,
        CaseStatus.REFUSED,
        CaseStatus.WITHDRAWN,
        CaseStatus.MERGED,
    }
)
