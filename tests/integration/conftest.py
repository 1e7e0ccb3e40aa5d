"""Fixtures of the integration tests that drive cases through the real event store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.store import Database, open_cases_application

DISTRICT = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]


def at(day: date, hour: int = 9) -> datetime:
    """A time on a local day (Hà Nội is UTC+7)."""
    return datetime(day.year, day.month, day.day, hour - 7, 0, tzinfo=UTC)


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    """The cases application on a fresh database (a module may define its own ``app``)."""
    application = open_cases_application(database)
    yield application
    application.close()


@pytest.fixture
def desk(app: CasesApplication) -> CaseDesk:
    """The case desk of the Tây Hồ district: every actor's scope is the whole district."""
    return CaseDesk(app, scope_of=lambda actor: DISTRICT, calendar=BusinessCalendar,
                    rules=DEFAULT_RULES)
