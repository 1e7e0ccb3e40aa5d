from datetime import date

import pytest

from feedback_core.legal_clock import (
    DEFAULT_RULES,
    BusinessCalendar,
    DayUnit,
    DeadlineRule,
    RuleConfigError,
    calendar_from,
    due_date,
    due_date_with_pauses,
    rules_from_config,
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


# --- names of the days off ---------------------------------------------------------------


def test_days_off_have_names() -> None:
    calendar = calendar_from(
        days_off=[date(2026, 3, 3)],
        make_up_days=[date(2026, 3, 7)],
        reasons={date(2026, 3, 3): "Nghỉ bù theo Quyết định 01/QĐ", date(2026, 3, 7): "Làm bù"},
    )
    assert calendar.day_off_name(date(2026, 2, 17)) == "Lunar New Year"
    assert calendar.day_off_name(date(2026, 3, 3)) == "Nghỉ bù theo Quyết định 01/QĐ"
    assert calendar.day_off_name(date(2026, 3, 8)) == "Sunday"
    assert calendar.day_off_name(date(2026, 3, 14)) == "Saturday"
    assert calendar.day_off_name(date(2026, 3, 7)) is None  # make-up working Saturday
    assert calendar.day_off_name(date(2026, 3, 2)) is None  # an ordinary Monday
    assert calendar_from(days_off=[date(2026, 3, 4)]).day_off_name(date(2026, 3, 4)) == (
        "Day off (decreed)"
    )


def test_holiday_names_do_not_depend_on_the_process_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("LANG", "LC_ALL", "LANGUAGE", "LC_MESSAGES"):
        monkeypatch.setenv(variable, "vi_VN.UTF-8")
    assert BusinessCalendar().day_off_name(date(2026, 2, 17)) == "Lunar New Year"


def test_weekend_working_days_known_to_the_library_count_and_a_decree_overrides_them() -> None:
    # The library knows 2026-08-31 as a day off swapped with Saturday 2026-08-22.
    assert date(2026, 8, 22) in BusinessCalendar().library_weekend_workdays(2026)
    assert BusinessCalendar().is_working_day(date(2026, 8, 22))
    assert not calendar_from(days_off=[date(2026, 8, 22)]).is_working_day(date(2026, 8, 22))


def test_a_decreed_working_day_overrides_a_public_holiday() -> None:
    assert calendar_from(make_up_days=[date(2026, 9, 1)]).is_working_day(date(2026, 9, 1))


def test_public_holidays_of_a_year() -> None:
    listed = dict(BusinessCalendar().public_holidays(2026))
    assert listed[date(2026, 2, 17)] == "Lunar New Year"
    assert all(day.year == 2026 for day in listed)


# --- pauses and extensions -----------------------------------------------------------------


def test_a_pause_stops_the_clock_from_the_day_after_asking_to_the_day_of_the_answer() -> None:
    # Received Mon 2 March; asked Wed 4, answered Fri 6: Thu 5 and Fri 6 do not count.
    result = due_date_with_pauses(
        date(2026, 3, 2), TEN_WORKING, BusinessCalendar(), [(date(2026, 3, 4), date(2026, 3, 6))]
    )
    assert result.paused == (date(2026, 3, 5), date(2026, 3, 6))
    assert result.due == date(2026, 3, 18)


def test_a_pause_over_a_weekend_costs_no_working_day() -> None:
    result = due_date_with_pauses(
        date(2026, 3, 2), TEN_WORKING, BusinessCalendar(), [(date(2026, 3, 6), date(2026, 3, 8))]
    )
    assert result.due == date(2026, 3, 16) and result.paused == ()


def test_a_pause_on_a_calendar_rule_counts_every_day() -> None:
    # Received Wed 4 Nov; waiting from Thu 5 to Sun 8: 3 days back → Tue 17 Nov.
    pauses = [(date(2026, 11, 5), date(2026, 11, 8))]
    result = due_date_with_pauses(date(2026, 11, 4), TEN_CALENDAR, BusinessCalendar(), pauses)
    assert result.paused == (date(2026, 11, 6), date(2026, 11, 7), date(2026, 11, 8))
    assert result.due == date(2026, 11, 17)


def test_an_open_pause_runs_up_to_today_and_needs_today() -> None:
    pauses = [(date(2026, 3, 4), None)]
    result = due_date_with_pauses(
        date(2026, 3, 2), TEN_WORKING, BusinessCalendar(), pauses, today=date(2026, 3, 10)
    )
    assert result.paused == (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9),
                             date(2026, 3, 10))
    assert result.due == date(2026, 3, 20)
    with pytest.raises(ValueError, match="still open"):
        due_date_with_pauses(date(2026, 3, 2), TEN_WORKING, BusinessCalendar(), pauses)


def test_answered_the_same_day_or_after_the_deadline_changes_nothing() -> None:
    calendar = BusinessCalendar()
    plain = due_date(date(2026, 3, 2), TEN_WORKING, calendar).due
    same_day = [(date(2026, 3, 4), date(2026, 3, 4))]
    after = [(date(2026, 3, 16), date(2026, 3, 20))]  # asked on the due date itself
    for pauses in (same_day, after):
        assert due_date_with_pauses(date(2026, 3, 2), TEN_WORKING, calendar, pauses).due == plain


def test_overlapping_pauses_count_each_day_once() -> None:
    pauses = [(date(2026, 3, 4), date(2026, 3, 6)), (date(2026, 3, 5), date(2026, 3, 6))]
    result = due_date_with_pauses(date(2026, 3, 2), TEN_WORKING, BusinessCalendar(), pauses)
    assert result.due == date(2026, 3, 18)


def test_an_extension_adds_days_in_the_rules_unit() -> None:
    calendar = BusinessCalendar()
    working = due_date_with_pauses(date(2026, 3, 2), TEN_WORKING, calendar, extension_days=5)
    assert working.due == date(2026, 3, 23)
    by_calendar = due_date_with_pauses(date(2026, 3, 2), TEN_CALENDAR, calendar, extension_days=5)
    assert by_calendar.due == date(2026, 3, 17)


def test_bad_pauses_and_extensions_are_refused() -> None:
    calendar = BusinessCalendar()
    with pytest.raises(ValueError, match="before it starts"):
        due_date_with_pauses(
            date(2026, 3, 2), TEN_WORKING, calendar, [(date(2026, 3, 6), date(2026, 3, 4))]
        )
    with pytest.raises(ValueError, match="shorten"):
        due_date_with_pauses(date(2026, 3, 2), TEN_WORKING, calendar, extension_days=-1)


# --- rules from configuration --------------------------------------------------------------


def test_default_rules_come_from_the_packaged_file_with_their_sources() -> None:
    expected = {
        "service_feedback": (10, DayUnit.WORKING),
        "hotline_infrastructure": (5, DayUnit.WORKING),
        "complaint_acceptance": (10, DayUnit.CALENDAR),
        "complaint_resolution": (30, DayUnit.CALENDAR),
        "complaint_resolution_complex": (45, DayUnit.CALENDAR),
        "complaint_resolution_remote": (45, DayUnit.CALENDAR),
        "complaint_resolution_remote_complex": (60, DayUnit.CALENDAR),
        "complaint_second_resolution": (45, DayUnit.CALENDAR),
        "complaint_second_resolution_complex": (60, DayUnit.CALENDAR),
        "complaint_second_resolution_remote": (60, DayUnit.CALENDAR),
        "complaint_second_resolution_remote_complex": (70, DayUnit.CALENDAR),
    }
    for code, (days, unit) in expected.items():
        rule = DEFAULT_RULES[code]
        assert (rule.code, rule.days, rule.unit) == (code, days, unit)
    assert "art. 27" in DEFAULT_RULES["complaint_acceptance"].source
    assert "art. 28" in DEFAULT_RULES["complaint_resolution_remote_complex"].source
    assert "local practice" in DEFAULT_RULES["service_feedback"].source
    assert "Ho Chi Minh City" in DEFAULT_RULES["hotline_infrastructure"].source


def test_rules_from_config() -> None:
    rules = rules_from_config(
        {"version": 1, "rules": [
            {"code": "permit_answer", "days": 7, "unit": "working", "source": "Decision 9/QĐ"},
            {"code": "noise", "days": 3, "unit": "calendar", "source": "  local practice  "},
        ]}
    )
    assert list(rules) == ["permit_answer", "noise"]
    assert rules["permit_answer"] == DeadlineRule(
        "permit_answer", 7, DayUnit.WORKING, "Decision 9/QĐ"
    )
    assert rules["noise"].source == "local practice"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, '"rules"'),
        ({"rules": [], "extra": 1}, "unknown keys"),
        ({"rules": ["x"]}, "not an object"),
        ({"rules": [{"code": "a", "days": 1, "unit": "working"}]}, "missing source"),
        ({"rules": [{"code": "a", "days": 1, "unit": "working", "source": "s", "n": 1}]},
         "unknown n"),
        ({"rules": [{"code": "A b", "days": 1, "unit": "working", "source": "s"}]}, "snake"),
        ({"rules": [{"code": "a", "days": True, "unit": "working", "source": "s"}]}, "whole"),
        ({"rules": [{"code": "a", "days": 0, "unit": "working", "source": "s"}]}, "whole"),
        ({"rules": [{"code": "a", "days": 1, "unit": "weeks", "source": "s"}]}, "unit"),
        ({"rules": [{"code": "a", "days": 1, "unit": "working", "source": " "}]}, "source"),
        ({"rules": [{"code": "a", "days": 1, "unit": "working", "source": "s"}] * 2}, "twice"),
    ],
)
def test_bad_rule_configuration_is_refused_with_a_reason(data: dict, message: str) -> None:
    with pytest.raises(RuleConfigError, match=message):
        rules_from_config(data)
