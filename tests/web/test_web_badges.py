"""Badges in working days, and the answer templates shipped with the code."""

from __future__ import annotations

from datetime import date

import pytest

from feedback_core.intake import ComplaintCategory
from feedback_core.legal_clock import calendar_from
from tests.web.web_doubles import queue_row
from web.badges import WorkingDays, badges, overdue_days
from web.response_templates import find_template, packaged_templates, templates_for

MONDAY = date(2026, 11, 23)


def kinds(row_changes: dict[str, object], today: date = MONDAY) -> list[str]:
    due = row_changes.pop("due_on", MONDAY)
    row = queue_row("nhat-tan", "nhat-tan-q1", due, **row_changes)  # type: ignore[arg-type]
    return [b.kind for b in badges(row, today, WorkingDays(calendar_from()))]


def test_overdue_counts_working_days_after_the_due_date() -> None:
    days = WorkingDays(calendar_from())
    row = queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 20))  # Friday
    assert overdue_days(row, date(2026, 11, 20), days) == 0  # the due date itself is fine
    assert overdue_days(row, date(2026, 11, 21), days) == 1  # Saturday: late all the same
    assert overdue_days(row, date(2026, 11, 22), days) == 1
    assert overdue_days(row, date(2026, 11, 23), days) == 1  # Monday
    assert overdue_days(row, date(2026, 11, 26), days) == 3  # 23, 25, 26 (24 is a holiday)


def test_decreed_days_off_are_not_counted() -> None:
    days = WorkingDays(calendar_from(days_off=[date(2026, 11, 23)]))
    row = queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 20))
    assert overdue_days(row, date(2026, 11, 25), days) == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ["today"]),
        ({"due_on": date(2026, 11, 24)}, []),
        ({"due_on": date(2026, 11, 20)}, ["overdue"]),
        ({"due_on": date(2026, 11, 20), "status": "answered"}, []),
        ({"status": "waiting_for_citizen", "waiting_since": date(2026, 11, 19)}, ["waiting"]),
        (
            {"due_on": date(2026, 11, 18), "status": "waiting_for_citizen",
             "waiting_since": date(2026, 11, 18)},
            ["overdue", "waiting"],
        ),
        ({"pending_transfer": "quang-an", "escalated": True}, ["today", "transfer", "escalated"]),
    ],
)
def test_badges(changes: dict[str, object], expected: list[str]) -> None:
    assert kinds(dict(changes)) == expected


def test_every_category_has_its_answer_template() -> None:
    for category in ComplaintCategory:
        own = templates_for(category.value)
        assert own[0].code == category.value and own[0].category == category.value
        assert all(t.category in (category.value, None) for t in own)
    codes = [t.code for t in packaged_templates()]
    assert len(codes) == len(set(codes))


def test_template_fill() -> None:
    template = find_template("delay")
    assert template is not None and find_template("nope") is None
    text = template.fill("7KQ2M-9XH4T", "UBND phường Nhật Tân")
    assert "7KQ2M-9XH4T" in text and "UBND phường Nhật Tân" in text and "{" not in text
