"""Values that change on effective dates: ``[(date, value), ...]`` in date order."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

Timeline = list[tuple[date, T]]


def value_on(timeline: Timeline[T], on: date) -> T | None:
    """The value in force on ``on`` (the last change effective on or before it), or None."""
    index = bisect_right([when for when, _ in timeline], on)
    return timeline[index - 1][1] if index else None


def record(timeline: Timeline[T], on: date, value: T) -> None:
    """Add a change, keeping date order; a second change on the same day comes after."""
    index = bisect_right([when for when, _ in timeline], on)
    timeline.insert(index, (on, value))


def change_dates(timeline: Timeline[T]) -> set[date]:
    return {when for when, _ in timeline}


LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> date:
    """Today's date in Hà Nội, the default of every 'as of' question."""
    return datetime.now(LOCAL_ZONE).date()
