"""The legal clock's invariants not covered by tests/unit/test_legal_clock_properties.py:
a later receipt never gives an earlier due date, and the due date is a working day on or
after the receipt, for every rule and any decrees around the period."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_core.legal_clock import DEFAULT_RULES, DeadlineRule, calendar_from, due_date

RULES = st.sampled_from(list(DEFAULT_RULES.values()))
OFFSETS = st.frozensets(st.integers(-10, 150), max_size=30)


@settings(max_examples=200, deadline=None, database=None)
@given(
    received=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    later_by=st.integers(0, 40),
    rule=RULES,
    days_off=OFFSETS,
    make_up=st.frozensets(st.integers(-10, 150), max_size=8),
)
def test_due_dates_are_monotone_in_the_receipt_date(
    received: date, later_by: int, rule: DeadlineRule, days_off: frozenset[int],
    make_up: frozenset[int],
) -> None:
    calendar = calendar_from(
        [received + timedelta(days=o) for o in days_off],
        [received + timedelta(days=o) for o in make_up],
    )
    first = due_date(received, rule, calendar).due
    second = due_date(received + timedelta(days=later_by), rule, calendar).due
    assert first <= second
    assert first >= received and calendar.is_working_day(first)
