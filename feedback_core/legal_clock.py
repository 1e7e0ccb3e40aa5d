"""The legal clock: due dates counted in working or calendar days, with pauses.

Counting convention (Civil Code 2015, arts. 147-148, unless a specific law says otherwise):

- The period starts on the day after the event. The day of receipt (or of acceptance, or
  whatever event starts the clock) is never counted, whatever the time of day.
- Each day of the period ends at midnight, local time: the last day is fully available.
- Working rules count working days only; calendar rules count every day.
- When the last day is a day off (weekend, public holiday, decreed day off), the period ends
  at the end of the next working day. This applies to calendar-day periods as well.

Working days: Monday to Friday, minus the public holidays of the ``holidays`` library (lunar
ones and the substitute days it knows included), plus the weekend working days the library
knows; on top of that, the days off and make-up working days decreed each year, which an
admin records as events (see ``feedback_core.calendar_app``) and which win over the library.

This module is pure: no clock, no environment, no files but the rule table packaged with the
code (``data/deadline_rules.json``, read once at import like a constant). An operator's
override file is read by ``feedback_core.calendar_app.load_deadline_rules``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib.resources import files
from typing import Any

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


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DECREED_DAY_OFF = "Day off (decreed)"


def _vietnamese_holidays() -> holidays.HolidayBase:
    # The language is fixed: otherwise the library picks it from the process locale (LANG),
    # and the same date would be named differently on two machines.
    return holidays.country_holidays("VN", language="en_US")


@dataclass
class BusinessCalendar:
    """Which days are working days, and the name of each day off.

    Precedence, first match wins: decreed make-up working day → working; decreed day off →
    off; weekend working day known to the library → working; public holiday → off;
    Saturday and Sunday → off; otherwise working.
    """

    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_working_days: frozenset[date] = field(default_factory=frozenset)
    _holidays: holidays.HolidayBase = field(default_factory=_vietnamese_holidays, repr=False)
    reasons: Mapping[date, str] = field(default_factory=dict)
    """The reason decreed for each extra day off and make-up working day (as entered)."""
    _due_dates: dict[tuple[Any, ...], DueDate] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Memo of ``due_date`` for this calendar (see there)."""

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_working_days:
            return True
        if day in self.extra_days_off:
            return False
        is_holiday = day in self._holidays  # also loads the library's data for that year
        if day in self._library_weekend_workdays():
            return True
        if is_holiday:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def day_off_name(self, day: date) -> str | None:
        """Why ``day`` is not a working day (None when it is one): the decreed reason,
        the public holiday's English name from the library, or "Saturday"/"Sunday"."""
        if self.is_working_day(day):
            return None
        if day in self.extra_days_off:
            return self.reasons.get(day) or DECREED_DAY_OFF
        name = self._holidays.get(day)
        if name:
            return str(name)
        return WEEKDAY_NAMES[day.weekday()]

    def public_holidays(self, year: int) -> list[tuple[date, str]]:
        """The library's public holidays of ``year`` (before any decree), by date."""
        self._load(year)
        return sorted(
            (day, str(name)) for day, name in self._holidays.items() if day.year == year
        )

    def library_weekend_workdays(self, year: int) -> list[date]:
        """Weekend days the library knows as working days (make-up days it has on record)."""
        self._load(year)
        return sorted(d for d in self._library_weekend_workdays() if d.year == year)

    def _load(self, year: int) -> None:
        _ = date(year, 1, 1) in self._holidays  # the library expands years lazily

    def _library_weekend_workdays(self) -> Iterable[date]:
        # ``weekend_workdays`` exists in recent versions of the library only.
        workdays: Iterable[date] = getattr(self._holidays, "weekend_workdays", ())
        return workdays


@dataclass(frozen=True)
class DueDate:
    due: date
    skipped: tuple[date, ...]
    """Days off passed over: not counted (working rules), or passed when the last day
    was a day off (both kinds of rule)."""
    paused: tuple[date, ...] = ()
    """Days that would have counted but fell inside a pause: the period grew by these."""


Pause = tuple[date, date | None]


class _Pauses:
    """The days covered by the pauses: after the start, up to and including the end."""

    def __init__(self, pauses: Sequence[Pause], today: date | None) -> None:
        self._spans: list[tuple[date, date]] = []
        for start, end in pauses:
            if end is None:
                if today is None:
                    raise ValueError(
                        f"the pause from {start} is still open: pass today to count it"
                    )
                end = today
            if end < start:
                raise ValueError(f"a pause cannot end ({end}) before it starts ({start})")
            if end > start:
                self._spans.append((start, end))

    def cover(self, day: date) -> bool:
        return any(start < day <= end for start, end in self._spans)


def due_date_with_pauses(
    received: date,
    rule: DeadlineRule,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause] = (),
    extension_days: int = 0,
    today: date | None = None,
) -> DueDate:
    """The last day of the period, the clock stopped during the pauses.

    Counting: day 1 is the day after ``received``; each following day counts if it is in the
    rule's unit (any day for calendar rules, a working day for working rules) and not inside
    a pause, until ``rule.days + extension_days`` days have counted. The last counted day is
    the due date, moved to the next working day when it is a day off (Civil Code art. 148).

    A pause ``(asked, answered)`` stops the clock on the days after ``asked`` up to and
    including ``answered``: the day the citizen is asked still counts, the day they answer
    does not, and counting resumes the day after the answer (as a period starts the day
    after its event). An open pause ``(asked, None)`` runs up to and including ``today``:
    the due date shown while waiting is the one that holds if the citizen answers today.
    Pauses may overlap; a day inside several counts once. A pause that begins after the
    period's last counted day does not extend it: the period was over.

    So pauses and extensions only ever move the due date later, and with no pause, for a
    working rule of N ≥ 1 days, the due date is the N-th working day after ``received``:
    exactly N + extension_days working days in the half-open interval (received, due].
    """
    if rule.days < 0:
        raise ValueError(f"rule {rule.code} has a negative number of days")
    if extension_days < 0:
        raise ValueError("an extension cannot shorten a period")
    paused_by = _Pauses(pauses, today)
    by_calendar = rule.unit is DayUnit.CALENDAR
    skipped: list[date] = []
    paused: list[date] = []
    day = received
    counted = 0
    while counted < rule.days + extension_days:
        day += timedelta(days=1)
        in_unit = by_calendar or calendar.is_working_day(day)
        if not in_unit:
            skipped.append(day)
        elif paused_by.cover(day):
            paused.append(day)
        else:
            counted += 1
    while not calendar.is_working_day(day):
        skipped.append(day)
        day += timedelta(days=1)
    return DueDate(due=day, skipped=tuple(skipped), paused=tuple(paused))


DUE_DATE_MEMO_SIZE = 4096
"""Entries kept per calendar: a batch of intake falls on a few days and a few rules."""


def due_date(received: date, rule: DeadlineRule, calendar: BusinessCalendar) -> DueDate:
    """The last day of the period that starts the day after ``received`` (no pause).

    Memoised, because every case of an intake batch asks it for the same few days: the
    memo lives on the calendar, so a calendar built after a decree (``CalendarApplication``
    builds a new one whenever its log moves) starts empty, and its key carries the decreed
    days, so replacing them on the same calendar object misses the memo as well.
    """
    key = (received, rule, calendar.extra_days_off, calendar.make_up_working_days)
    memo = calendar._due_dates
    found = memo.get(key)
    if found is None:
        found = due_date_with_pauses(received, rule, calendar)
        if len(memo) >= DUE_DATE_MEMO_SIZE:
            memo.clear()
        memo[key] = found
    return found


def calendar_from(
    days_off: Iterable[date] = (),
    make_up_days: Iterable[date] = (),
    reasons: Mapping[date, str] | None = None,
) -> BusinessCalendar:
    return BusinessCalendar(
        frozenset(days_off), frozenset(make_up_days), reasons=dict(reasons or {})
    )


# --- deadline rules from configuration ---------------------------------------------------

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_KEYS = frozenset({"code", "days", "unit", "source"})
_TOP_KEYS = frozenset({"rules", "version", "comment"})
MAX_DAYS = 366


class RuleConfigError(ValueError):
    """A deadline rule file that cannot be used; the message says which rule and why."""


def rules_from_config(data: Mapping[str, Any]) -> dict[str, DeadlineRule]:
    """Rules from the parsed JSON of a rule file, in file order.

    ``{"rules": [{"code": "service_feedback", "days": 10, "unit": "working",
    "source": "..."}, ...]}``; ``version`` and ``comment`` are allowed beside ``rules``.
    Every rule needs its legal source (or "local practice"), so ``feedback rules`` can cite it.
    """
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RuleConfigError(f"unknown keys in the rule file: {', '.join(sorted(unknown))}")
    entries = data.get("rules")
    if not isinstance(entries, list):
        raise RuleConfigError('the rule file needs "rules": a list of rules')
    rules: dict[str, DeadlineRule] = {}
    for index, entry in enumerate(entries, start=1):
        rule = _rule_from(entry, index)
        if rule.code in rules:
            raise RuleConfigError(f"rule {rule.code!r} is defined twice")
        rules[rule.code] = rule
    return rules


def _rule_from(entry: object, index: int) -> DeadlineRule:
    if not isinstance(entry, Mapping):
        raise RuleConfigError(f"rule #{index} is not an object")
    code = entry.get("code")
    where = f"rule {code!r}" if isinstance(code, str) and code else f"rule #{index}"
    if set(entry) != _RULE_KEYS:
        missing, extra = _RULE_KEYS - set(entry), set(entry) - _RULE_KEYS
        raise RuleConfigError(
            f"{where}: needs exactly code, days, unit, source"
            + (f"; missing {', '.join(sorted(missing))}" if missing else "")
            + (f"; unknown {', '.join(sorted(extra))}" if extra else "")
        )
    if not isinstance(code, str) or not _CODE.match(code):
        raise RuleConfigError(f"{where}: the code must be lower_snake_case")
    days = entry["days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise RuleConfigError(f"{where}: days must be a whole number from 1 to {MAX_DAYS}")
    try:
        unit = DayUnit(entry["unit"])
    except ValueError:
        units = ", ".join(u.value for u in DayUnit)
        raise RuleConfigError(f"{where}: unit must be one of {units}") from None
    source = entry["source"]
    if not isinstance(source, str) or not source.strip():
        raise RuleConfigError(f"{where}: cite the legal source (or the local practice)")
    return DeadlineRule(code, days, unit, source.strip())


def _packaged_rules() -> dict[str, DeadlineRule]:
    text = files("feedback_core").joinpath("data/deadline_rules.json").read_text("utf-8")
    return rules_from_config(json.loads(text))


# The rules shipped with the code (read once, like a constant). Where the law leaves the
# period to local practice or is unclear, the source says so and the rule is configurable.
DEFAULT_RULES: dict[str, DeadlineRule] = _packaged_rules()
