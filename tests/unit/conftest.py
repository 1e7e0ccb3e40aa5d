"""Fixtures shared by the unit tests of the case desk: an in-memory event store."""

from __future__ import annotations

import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from tests.support.case_desk import scope_of


@pytest.fixture
def app() -> CasesApplication:
    return CasesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def desk(app: CasesApplication) -> CaseDesk:
    return CaseDesk(app, scope_of, BusinessCalendar, DEFAULT_RULES)
