"""The memo of ``due_date``: hit within one calendar, never across a decree.

Every case of an intake batch asks the legal clock for the same few (day, rule) pairs, so
``due_date`` keeps its answers on the calendar; a decree must never be answered from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.legal_clock import (
    DEFAULT_RULES,
    DUE_DATE_MEMO_SIZE,
    BusinessCalendar,
    due_date,
    due_date_with_pauses,
)

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
RULE = DEFAULT_RULES["service_feedback"]  # 10 working days
RECEIVED = date(2026, 2, 27)  # a Friday
BRIDGE = date(2026, 3, 3)  # a Tuesday inside the period


def test_the_same_question_on_the_same_calendar_is_answered_from_the_memo() -> None:
    calendar = BusinessCalendar()
    first = due_date(RECEIVED, RULE, calendar)
    assert due_date(RECEIVED, RULE, calendar) is first
    assert first == due_date_with_pauses(RECEIVED, RULE, calendar)
    other_day = due_date(date(2026, 3, 2), RULE, calendar)
    assert other_day is not first and other_day.due > first.due


def test_a_decree_gives_a_new_calendar_and_a_new_due_date() -> None:
    app = CalendarApplication(env=POPO)
    before = app.calendar()
    due_before = due_date(RECEIVED, RULE, before)
    app.decree_day_off(BRIDGE, "Nghỉ bù (Công văn 1/BNV)", "admin.hanoi")
    after = app.calendar()
    assert after is not before
    assert due_before.due == date(2026, 3, 13)  # a Friday
    assert due_date(RECEIVED, RULE, after).due == date(2026, 3, 16)  # one day later: Monday
    app.withdraw(BRIDGE, "nhập nhầm", "admin.hanoi")
    assert due_date(RECEIVED, RULE, app.calendar()).due == due_before.due
    assert due_date(RECEIVED, RULE, before) is due_before  # the old calendar is unchanged


def test_days_replaced_on_the_same_calendar_object_miss_the_memo() -> None:
    calendar = BusinessCalendar()
    plain = due_date(RECEIVED, RULE, calendar).due
    calendar.extra_days_off = frozenset({BRIDGE})
    assert due_date(RECEIVED, RULE, calendar).due > plain
    calendar.extra_days_off = frozenset()
    calendar.make_up_working_days = frozenset({date(2026, 2, 28)})  # a Saturday counts
    assert due_date(RECEIVED, RULE, calendar).due < plain


def test_the_memo_is_bounded() -> None:
    calendar = BusinessCalendar()
    for offset in range(DUE_DATE_MEMO_SIZE + 10):
        due_date(date.fromordinal(RECEIVED.toordinal() + offset), RULE, calendar)
    assert len(calendar._due_dates) <= DUE_DATE_MEMO_SIZE


@pytest.mark.parametrize(
    ("decree_first", "expected"),
    [
        (False, (date(2026, 3, 13), date(2026, 3, 16))),
        (True, (date(2026, 3, 16), date(2026, 3, 17))),
    ],
)
def test_intake_after_a_decree_uses_the_decree(
    decree_first: bool, expected: tuple[date, date]
) -> None:
    """The consumer's path: Cases wired to the calendar application, as in production."""
    calendar_app = CalendarApplication(env=POPO)
    cases = CasesApplication(env=POPO, calendar=calendar_app.calendar)

    def submit(n: int) -> date:
        sub = IntakeSubmission(
            submission_id=UUID(int=n, version=4),
            channel=Channel.QR,
            unit_id="ward-1",
            office_id="ward-1-mc",
            counter_id="ward-1-q1",
            submitted_at=datetime(2026, 2, 27, 3, 0, tzinfo=UTC),
            rating=1,
            description="Chờ quá lâu",
            category=ComplaintCategory.OTHER,
        )
        cases.record_submissions([sub])
        case: Case = cases.repository.get(case_id_for(sub.submission_id))
        return case.due_on

    if decree_first:
        calendar_app.decree_day_off(BRIDGE, "Nghỉ bù", "admin")
    first = submit(1)
    calendar_app.decree_day_off(date(2026, 3, 4), "Nghỉ bù thêm", "admin")
    second = submit(2)
    assert (first, second) == expected
