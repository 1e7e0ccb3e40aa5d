"""The legal clock: due dates counted in working or calendar days.

Counting follows the Civil Code 2015, arts. 147-148: a period starts on the day after
the event and, when its last day is a weekend or public holiday, ends at the end of the
next working day. Public holidays (lunar ones included) come from the ``holidays`` library;
the days off and make-up working days decreed each year are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import holidays


class DayUnit(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class DeadlineRule:
    code: str
    days: int
    unit: DayUnit
    source: str


@dataclass
class BusinessCalendar:
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_working_days: frozenset[date] = field(default_factory=frozenset)
    _holidays: holidays.HolidayBase = field(
        default_factory=lambda: holidays.country_holidays("VN"), repr=False
    )

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_working_days:
            return True
        if day in self.extra_days_off or day in self._holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


@dataclass(frozen=True)
class DueDate:
    due: date
    skipped: tuple[date, ...]


def due_date(received: date, rule: DeadlineRule, calendar: BusinessCalendar) -> DueDate:
    """The last day of the period that starts the day after ``received``."""
    skipped: list[date] = []
    day = received
    if rule.unit is DayUnit.CALENDAR:
        day = received + timedelta(days=rule.days)
    else:
        counted = 0
        while counted < rule.days:
            day += timedelta(days=1)
            if calendar.is_working_day(day):
                counted += 1
            else:
                skipped.append(day)
    while not calendar.is_working_day(day):
        skipped.append(day)
        day += timedelta(days=1)
    return DueDate(due=day, skipped=tuple(skipped))


def calendar_from(
    days_off: Iterable[date] = (), make_up_days: Iterable[date] = ()
) -> BusinessCalendar:
    return BusinessCalendar(frozenset(days_off), frozenset(make_up_days))


# Configurable rules; where the law leaves the period to local practice, the source says so.
DEFAULT_RULES: dict[str, DeadlineRule] = {
    rule.code: rule
    for rule in (
        DeadlineRule(
            "service_feedback",
            10,
            DayUnit.WORKING,
            "Feedback on service quality at a one-stop office: local practice, configurable "
            "(Decree 20/2008/NĐ-CP sets the track for feedback on administrative regulations)",
        ),
        DeadlineRule(
            "complaint_acceptance",
            10,
            DayUnit.CALENDAR,
            "Law on Complaints 2011, art. 27: accept (thụ lý) or refuse within 10 days of receipt",
        ),
        DeadlineRule(
            "complaint_resolution",
            30,
            DayUnit.CALENDAR,
            "Law on Complaints 2011, art. 28: first-time resolution within 30 days of acceptance",
        ),
    )
}
