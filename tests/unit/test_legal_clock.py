from datetime import date

from feedback_core.legal_clock import (
    BusinessCalendar,
    DayUnit,
    DeadlineRule,
    calendar_from,
    due_date,
)

TEN_WORKING = DeadlineRule("t", 10, DayUnit.WORKING, "test")
TEN_CALENDAR = DeadlineRule("t", 10, DayUnit.CALENDAR, "test")


def test_counting_starts_the_day_after_receipt() -> None:
    # Monday 2 March 2026: ten working days later is Monday 16 March.
    assert due_date(date(2026, 3, 2), TEN_WORKING, BusinessCalendar()).due == date(2026, 3, 16)


def test_tet_holidays_are_skipped() -> None:
    # Received Friday 13 Feb 2026; Tết runs 16-20 Feb: the week after does not count.
    result = due_date(date(2026, 2, 13), TEN_WORKING, BusinessCalendar())
    assert result.due == date(2026, 3, 6)
    assert date(2026, 2, 17) in result.skipped


def test_calendar_days_ending_on_a_weekend_move_to_the_next_working_day() -> None:
    # 10 calendar days after Wed 4 Nov 2026 is Sat 14 Nov → Mon 16 Nov (Civil Code art. 148).
    result = due_date(date(2026, 11, 4), TEN_CALENDAR, BusinessCalendar())
    assert result.due == date(2026, 11, 16)
    assert result.skipped == (date(2026, 11, 14), date(2026, 11, 15))


def test_decreed_days_off_and_make_up_days() -> None:
    calendar = calendar_from(days_off=[date(2026, 3, 3)], make_up_days=[date(2026, 3, 7)])
    assert not calendar.is_working_day(date(2026, 3, 3))
    assert calendar.is_working_day(date(2026, 3, 7))  # a Saturday
    one = DeadlineRule("t", 1, DayUnit.WORKING, "test")
    assert due_date(date(2026, 3, 2), one, calendar).due == date(2026, 3, 4)
