"""The citizens' "Đã giải quyết" (``Case.CitizenConfirmed``) in the figures: counted as
``confirmed`` on its day for the unit holding the case, equal to a plain recount of the
events, read as a share of the resolutions, and equal again after a rebuild from zero."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk
from feedback_core.identity import case_id_for
from feedback_core.local_time import local_date
from feedback_core.store import Database
from projections.figures import FIGURE_TABLES, FIGURES_VERSION, FiguresViews
from projections.figures_queries import FigureQueries
from projections.queries import ViewQueries
from projections.rebuild import compare_schemas, rebuild_into
from tests.integration.test_figures import (
    OCTOBER,
    all_events,
    at,
    handle,
    recount,
    run,
    scenario,
)
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


def confirmations(events: list[Any], units: set[str], start: date, end: date) -> int:
    """A plain recount of the citizens' confirmations (the holding unit is the one
    received at: nothing is transferred in this scenario)."""
    unit_of = {e.originator_id: e.unit_id for e in events if isinstance(e, Case.Received)}
    return sum(
        1 for e in events
        if isinstance(e, Case.CitizenConfirmed)
        and unit_of[e.originator_id] in units and start <= local_date(e.at) <= end
    )


def test_citizen_confirmations_equal_a_plain_recount(
    app: CasesApplication, desk: CaseDesk, database: Database  # noqa: F811
) -> None:
    assert FIGURES_VERSION >= 3  # the measure changed the tables: they replay
    ids = scenario(app, desk)
    # Two of the four resolved cases in October are confirmed by their citizens; one taps
    # twice (one event); one confirmation is given in November (counts in November).
    assert desk.confirm_resolved(ids["early"], at(date(2026, 10, 7))) is not None
    assert desk.confirm_resolved(ids["early"], at(date(2026, 10, 7), 10)) is None
    assert desk.confirm_resolved(ids["reopened"], at(date(2026, 10, 14))) is not None
    late_citizen = submission(submitted_at=at(date(2026, 10, 20)), rating=3)
    app.record_submissions([late_citizen])
    late_id = case_id_for(late_citizen.submission_id)
    handle(desk, late_id, date(2026, 10, 21), date(2026, 10, 30))
    assert desk.confirm_resolved(late_id, at(date(2026, 11, 4))) is not None
    run(app, database, page_size=4)

    views = ViewQueries(database.conninfo)
    try:
        figures = FigureQueries(views.pool)
        events = all_events(app)
        ward = {"nhat-tan"}
        october = figures.totals(sorted(ward), *OCTOBER)
        assert october.confirmed == confirmations(events, ward, *OCTOBER) == 2
        assert october.resolved == 5
        assert october.confirmed_share == pytest.approx(2 / 5)
        # Every other measure is unchanged by the new one: the plain recount of
        # test_figures, with the confirmations added.
        plain = recount(events, ward, *OCTOBER)
        assert october == type(plain)(**{**plain.__dict__, "confirmed": 2})
        november = figures.totals(sorted(ward), date(2026, 11, 1), date(2026, 11, 30))
        assert november.confirmed == 1
    finally:
        views.close()

    replayed = rebuild_into(app, database.conninfo, FiguresViews(), "figures_rebuild")
    assert replayed == app.recorder.max_notification_id()
    assert compare_schemas(database.conninfo, "views", "figures_rebuild", FIGURE_TABLES) == []
