"""Properties of the legal clock, for any rule, date of receipt, decrees, pauses, extension."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_core.legal_clock import (
    DEFAULT_RULES,
    BusinessCalendar,
    DayUnit,
    DeadlineRule,
    DueDate,
    Pause,
    calendar_from,
    due_date,
    due_date_with_pauses,
)

BOUNDED = settings(max_examples=200, deadline=timedelta(seconds=2), database=None)

RULES = st.one_of(
    st.sampled_from(list(DEFAULT_RULES.values())),
    st.builds(
        DeadlineRule,
        code=st.just("generated"),
        days=st.integers(1, 80),
        unit=st.sampled_from(DayUnit),
        source=st.just("property test"),
    ),
)


@dataclass
class Scenario:
    received: date
    rule: DeadlineRule
    calendar: BusinessCalendar
    pauses: list[Pause]
    today: date
    extension: int

    def due(self, **changes: object) -> DueDate:
        args: dict[str, object] = {
            "pauses": self.pauses, "extension_days": self.extension, "today": self.today,
        }
        args.update(changes)
        return due_date_with_pauses(self.received, self.rule, self.calendar, **args)  # type: ignore[arg-type]


@st.composite
def scenarios(draw: st.DrawFn, with_pauses: bool = True) -> Scenario:
    received = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))

    def near(offsets: frozenset[int]) -> list[date]:
        return [received + timedelta(days=o) for o in offsets]

    # Random decrees around the period: whole weeks off, make-up days, even both on one day.
    days_off = near(draw(st.frozensets(st.integers(-10, 200), max_size=40)))
    make_up = near(draw(st.frozensets(st.integers(-10, 200), max_size=12)))
    calendar = calendar_from(days_off, make_up)
    pauses: list[Pause] = []
    today = received
    if with_pauses:
        for offset, length in draw(
            st.lists(st.tuples(st.integers(-5, 120), st.integers(0, 40)), max_size=4)
        ):
            start = received + timedelta(days=offset)
            pauses.append((start, start + timedelta(days=length)))
        if draw(st.booleans()):  # the case waits for the citizen now
            start = received + timedelta(days=draw(st.integers(0, 120)))
            today = start + timedelta(days=draw(st.integers(0, 40)))
            pauses.append((start, None))
    extension = draw(st.integers(0, 30))
    return Scenario(received, draw(RULES), calendar, pauses, today, extension)


def working_days_in(calendar: BusinessCalendar, after: date, until: date) -> list[date]:
    """The working days of (after, until]."""
    return [
        after + timedelta(days=n)
        for n in range(1, (until - after).days + 1)
        if calendar.is_working_day(after + timedelta(days=n))
    ]


@BOUNDED
@given(scenarios())
def test_a_deadline_never_lands_on_a_day_off(s: Scenario) -> None:
    result = s.due()
    assert s.calendar.is_working_day(result.due)
    assert s.calendar.day_off_name(result.due) is None
    assert result.due > s.received


@BOUNDED
@given(scenarios())
def test_skipped_days_are_days_off_and_paused_days_are_inside_the_period(s: Scenario) -> None:
    result = s.due()
    assert all(s.calendar.day_off_name(d) for d in result.skipped)
    assert all(s.received < d < result.due for d in result.skipped)
    assert all(s.received < d < result.due for d in result.paused)
    assert not set(result.skipped) & set(result.paused)


@BOUNDED
@given(scenarios())
def test_pausing_and_resuming_never_shortens_a_deadline(s: Scenario) -> None:
    assert s.due().due >= s.due(pauses=[]).due


@BOUNDED
@given(scenarios(), st.integers(0, 60), st.data())
def test_more_pause_days_never_give_an_earlier_due_date(
    s: Scenario, more: int, data: st.DataObject
) -> None:
    before = s.due().due
    if s.pauses:
        i = data.draw(st.integers(0, len(s.pauses) - 1))
        start, end = s.pauses[i]
        longer = list(s.pauses)
        if end is None:  # still waiting, a few days later
            assert s.due(today=s.today + timedelta(days=more)).due >= before
        else:
            longer[i] = (start, end + timedelta(days=more))
            assert s.due(pauses=longer).due >= before
    extra = (s.received + timedelta(days=more), s.received + timedelta(days=more + 7))
    assert s.due(pauses=[*s.pauses, extra]).due >= before


@BOUNDED
@given(scenarios(), st.integers(0, 30))
def test_an_extension_never_shortens_a_deadline(s: Scenario, more: int) -> None:
    assert s.due(extension_days=s.extension + more).due >= s.due().due
    assert s.due(extension_days=s.extension).due >= s.due(extension_days=0).due


@BOUNDED
@given(scenarios(with_pauses=False))
def test_working_rules_count_exactly_their_working_days(s: Scenario) -> None:
    """With no pause: days + extension working days in the half-open (received, due]."""
    rule = DeadlineRule(s.rule.code, s.rule.days, DayUnit.WORKING, s.rule.source)
    result = due_date_with_pauses(s.received, rule, s.calendar, extension_days=s.extension)
    assert len(working_days_in(s.calendar, s.received, result.due)) == rule.days + s.extension


@BOUNDED
@given(scenarios())
def test_working_rules_with_pauses_count_their_days_plus_the_paused_ones(s: Scenario) -> None:
    rule = DeadlineRule(s.rule.code, s.rule.days, DayUnit.WORKING, s.rule.source)
    result = s.due() if s.rule.unit is DayUnit.WORKING else Scenario(
        s.received, rule, s.calendar, s.pauses, s.today, s.extension
    ).due()
    working = working_days_in(s.calendar, s.received, result.due)
    assert set(result.paused) <= set(working)
    assert len(working) == rule.days + s.extension + len(result.paused)


@BOUNDED
@given(scenarios())
def test_calendar_rules_end_on_the_first_working_day_from_their_last_day(s: Scenario) -> None:
    rule = DeadlineRule(s.rule.code, s.rule.days, DayUnit.CALENDAR, s.rule.source)
    scenario = Scenario(s.received, rule, s.calendar, s.pauses, s.today, s.extension)
    result = scenario.due()
    last = s.received + timedelta(days=rule.days + s.extension + len(result.paused))
    assert result.due == s.calendar.next_working_day(last)


@BOUNDED
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_order_of_the_pauses_does_not_matter(s: Scenario, rnd: random.Random) -> None:
    shuffled = list(s.pauses)
    rnd.shuffle(shuffled)
    assert s.due(pauses=shuffled) == s.due()


@BOUNDED
@given(scenarios(with_pauses=False))
def test_without_pauses_it_is_the_plain_due_date(s: Scenario) -> None:
    assert due_date(s.received, s.rule, s.calendar) == s.due(pauses=[], extension_days=0)


@BOUNDED
@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(1, 80))
def test_without_decrees_working_days_agree_with_the_holidays_library(
    received: date, days: int
) -> None:
    calendar = BusinessCalendar()
    rule = DeadlineRule("t", days, DayUnit.WORKING, "test")
    assert due_date(received, rule, calendar).due == calendar._holidays.get_nth_working_day(
        received, days
    )
