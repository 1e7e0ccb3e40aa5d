"""The calendar application on a real PostgreSQL: decrees survive, instances agree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from feedback_core.calendar_app import (
    CalendarApplication,
    CalendarYear,
    DecreeKind,
    open_calendar_application,
)
from feedback_core.legal_clock import DEFAULT_RULES, due_date
from feedback_core.store import Database

pytestmark = pytest.mark.integration

BRIDGE = date(2026, 3, 3)  # a Tuesday
MAKE_UP = date(2026, 2, 28)  # a Saturday


@pytest.fixture
def apps(database: Database) -> Iterator[tuple[CalendarApplication, CalendarApplication]]:
    first, second = open_calendar_application(database), open_calendar_application(database)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_decrees_are_stored_and_every_instance_builds_the_same_calendar(
    apps: tuple[CalendarApplication, CalendarApplication], database: Database
) -> None:
    admin, web = apps
    before = web.calendar()
    admin.decree_day_off(BRIDGE, "Nghỉ bù (Công văn 1/BNV)", "admin.hanoi")
    admin.decree_working_day(MAKE_UP, "Làm bù cho ngày 3/3", "admin.hanoi")
    admin.decree_day_off(date(2027, 2, 5), "Nghỉ Tết 2027", "admin.hanoi")
    admin.withdraw(date(2027, 2, 5), "wrong year", "admin.hanoi")

    after = web.calendar()  # the log moved: rebuilt, not the cached one
    assert after is not before
    assert after.extra_days_off == {BRIDGE} and after.make_up_working_days == {MAKE_UP}
    assert after.day_off_name(BRIDGE) == "Nghỉ bù (Công văn 1/BNV)"
    assert due_date(date(2026, 2, 27), DEFAULT_RULES["service_feedback"], after).due == date(
        2026, 3, 13
    )
    assert web.years() == [2026, 2027]

    reopened = open_calendar_application(database)
    try:
        assert [(d.day, d.kind) for d in reopened.decrees(2026)] == [
            (MAKE_UP, DecreeKind.WORKING_DAY), (BRIDGE, DecreeKind.DAY_OFF),
        ]
        assert reopened.decrees(2027) == []
    finally:
        reopened.close()


def test_two_admins_opening_the_same_year_at_once_both_get_their_decree(
    apps: tuple[CalendarApplication, CalendarApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = apps
    stale = CalendarYear(2026)  # second loaded the year before first created it
    loaded: list[CalendarYear] = []
    original = second._year

    def load(year: int) -> CalendarYear:
        loaded.append(stale if not loaded else original(year))
        return loaded[-1]

    monkeypatch.setattr(second, "_year", load)
    first.decree_day_off(BRIDGE, "Nghỉ bù", "admin.one")
    assert second.decree_working_day(MAKE_UP, "Làm bù", "admin.two")  # retried on conflict
    assert len(loaded) == 2 and loaded[1].version == 3  # reloaded: Opened, first decree, ours
    assert {d.day for d in first.decrees(2026)} == {BRIDGE, MAKE_UP}
