"""The calendar application on the library's in-memory (POPO) store: decrees as events."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from feedback_core.calendar_app import (
    CalendarApplication,
    CalendarError,
    CalendarYear,
    DecreeKind,
    calendar_year_id,
    load_deadline_rules,
)
from feedback_core.legal_clock import (
    DEFAULT_RULES,
    DayUnit,
    RuleConfigError,
    due_date,
)

TET_EVE = date(2026, 2, 14)  # a Saturday
MAKE_UP = date(2026, 2, 28)  # a Saturday
BRIDGE = date(2026, 3, 3)  # a Tuesday


@pytest.fixture
def app() -> CalendarApplication:
    return CalendarApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_decrees_build_the_business_calendar(app: CalendarApplication) -> None:
    assert app.decree_day_off(BRIDGE, "Nghỉ bù (Công văn 1/BNV)", "admin.hanoi")
    assert app.decree_working_day(MAKE_UP, "Làm bù cho ngày 3/3", "admin.hanoi")
    calendar = app.calendar()
    assert not calendar.is_working_day(BRIDGE)
    assert calendar.day_off_name(BRIDGE) == "Nghỉ bù (Công văn 1/BNV)"
    assert calendar.is_working_day(MAKE_UP)
    assert calendar.reasons[MAKE_UP] == "Làm bù cho ngày 3/3"
    rule = DEFAULT_RULES["service_feedback"]
    # Received Fri 27 Feb: Sat 28 now counts, Tue 3 Mar does not.
    assert due_date(date(2026, 2, 27), rule, calendar).due == date(2026, 3, 13)


def test_one_aggregate_per_year_with_the_three_events(app: CalendarApplication) -> None:
    app.decree_day_off(BRIDGE, "first", "admin")
    app.decree_working_day(BRIDGE, "changed: a working day after all", "admin")
    app.withdraw(BRIDGE, "entered by mistake", "admin")
    app.decree_working_day(date(2027, 1, 9), "Làm bù", "admin")
    year: CalendarYear = app.repository.get(calendar_year_id(2026))
    assert year.id == calendar_year_id(2026) != calendar_year_id(2027)
    assert year.decrees == {}
    events: list[Any] = list(app.events.get(calendar_year_id(2026)))
    assert [type(e).__name__ for e in events] == [
        "Opened", "DayOffDecreed", "WorkingDayDecreed", "DecreeWithdrawn",
    ]
    assert [e.actor for e in events[1:]] == ["admin"] * 3
    assert events[3].reason == "entered by mistake"
    assert app.years() == [2026, 2027]


def test_the_latest_decree_for_a_day_wins_and_repeating_one_records_nothing(
    app: CalendarApplication,
) -> None:
    assert app.decree_day_off(BRIDGE, "Nghỉ bù", "admin")
    assert not app.decree_day_off(BRIDGE, "  Nghỉ bù ", "someone.else")
    assert app.decree_working_day(BRIDGE, "Đi làm", "admin")
    (decree,) = app.decrees(2026)
    assert (decree.day, decree.kind, decree.reason) == (BRIDGE, DecreeKind.WORKING_DAY, "Đi làm")
    assert app.calendar().is_working_day(BRIDGE)


def test_a_withdrawn_decree_gives_the_day_back_to_the_library(app: CalendarApplication) -> None:
    app.decree_working_day(TET_EVE, "Làm bù", "admin")
    assert app.calendar().is_working_day(TET_EVE)
    withdrawn = app.withdraw(TET_EVE, "the decision was cancelled", "admin")
    assert withdrawn.kind is DecreeKind.WORKING_DAY
    assert app.calendar().day_off_name(TET_EVE) == "Saturday"
    assert app.decrees(2026) == []


@pytest.mark.parametrize(
    ("command", "reason", "actor", "message"),
    [
        ("decree_day_off", " ", "admin", "reason"),
        ("decree_working_day", "Làm bù", " ", "who"),
        ("withdraw", "nothing there", "admin", "no decree"),
    ],
)
def test_bad_decrees_are_refused(
    app: CalendarApplication, command: str, reason: str, actor: str, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        getattr(app, command)(BRIDGE, reason, actor)
    assert app.recorder.max_notification_id() in (None, 0)


def test_the_calendar_of_some_years_and_its_cache(app: CalendarApplication) -> None:
    app.decree_day_off(BRIDGE, "2026", "admin")
    app.decree_day_off(date(2027, 3, 2), "2027", "admin")
    assert app.calendar([2027]).extra_days_off == {date(2027, 3, 2)}
    assert app.calendar().extra_days_off == {BRIDGE, date(2027, 3, 2)}
    first = app.calendar()
    assert app.calendar() is first  # nothing new in the log: the same calendar
    app.withdraw(BRIDGE, "cancelled", "admin")
    assert app.calendar() is not first and app.calendar().extra_days_off == {date(2027, 3, 2)}


def test_an_empty_calendar_is_the_library_alone(app: CalendarApplication) -> None:
    calendar = app.calendar()
    assert calendar.extra_days_off == calendar.make_up_working_days == frozenset()
    assert calendar.day_off_name(date(2026, 2, 17)) == "Lunar New Year"


# --- the operator's rule file ---------------------------------------------------------------


def test_a_rule_file_overrides_and_extends_the_packaged_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [
        {"code": "service_feedback", "days": 7, "unit": "working", "source": "Quyết định 5/QĐ"},
        {"code": "street_light", "days": 3, "unit": "calendar", "source": "local practice"},
    ]}), encoding="utf-8")
    rules = load_deadline_rules(path)
    assert rules["service_feedback"].days == 7
    assert rules["street_light"].unit is DayUnit.CALENDAR
    assert rules["complaint_resolution"] == DEFAULT_RULES["complaint_resolution"]
    assert DEFAULT_RULES["service_feedback"].days == 10  # the defaults are untouched
    assert load_deadline_rules(None) == load_deadline_rules("") == DEFAULT_RULES


def test_a_bad_rule_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(RuleConfigError, match="cannot read"):
        load_deadline_rules(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(RuleConfigError, match="not valid JSON"):
        load_deadline_rules(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"rules": [{"code": "x", "days": 1}]}), encoding="utf-8")
    with pytest.raises(RuleConfigError, match="wrong.json: rule 'x'"):
        load_deadline_rules(wrong)
