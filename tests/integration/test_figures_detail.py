"""Handling time in working days, per officer and per channel, on real PostgreSQL: the
figures projection's percentiles checked against ``statistics`` over a plain recount of the
same events, with a decreed day off the recount knows too; and an old version of the
figures tables replayed from zero."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.legal_clock import DEFAULT_RULES, calendar_from
from feedback_core.local_time import local_date
from feedback_core.permissions import Action
from feedback_core.ratings import Rating
from feedback_core.store import Database, open_cases_application
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews, ensure_current_version
from projections.figures_queries import FigureQueries, HeldOpen, ResolutionFigures
from projections.queries import CLOSED_STATUSES, ViewQueries
from projections.rebuild import compare_schemas, rebuild_into
from projections.runner import BatchedProjectionRunner
from tests.integration.test_figures import OCTOBER, TODAY, all_events, at, recount, scenario, step
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

# A decreed day off (Thursday 8 October 2026): the desk's due dates and the figures'
# working days both skip it, and so does the recount below.
DECREED = calendar_from(days_off=[date(2026, 10, 8)], reasons={date(2026, 10, 8): "test"})
DISTRICT = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database, calendar=lambda: DECREED)
    yield application
    application.close()


@pytest.fixture
def desk(app: CasesApplication) -> CaseDesk:
    return CaseDesk(app, scope_of=lambda actor: DISTRICT, calendar=lambda: DECREED,
                    rules=DEFAULT_RULES)


def run(app: CasesApplication, database: Database, page_size: int = 4) -> None:
    for projection in (CaseViews(), FiguresViews(lambda: DECREED)):
        runner = BatchedProjectionRunner(app, database.conninfo, projection, page_size=page_size)
        try:
            runner.catch_up()
        finally:
            runner.close()


@dataclass(frozen=True)
class Resolved:
    unit: str
    channel: str
    officer: str
    day: date
    working_days: int
    on_time: bool


def working_days(start: date, end: date) -> int:
    """Days in (start, end] that are working days: Monday to Friday, no public holiday of
    the library, not the decreed day off (October 2026 has no public holiday)."""
    return sum(
        1 for k in range(1, (end - start).days + 1)
        if (start + timedelta(days=k)).weekday() < 5
        and start + timedelta(days=k) != date(2026, 10, 8)
    )


def recount_resolutions(events: list[Any]) -> list[Resolved]:
    """Every Resolved step, recounted from the events alone."""
    case: dict[UUID, dict[str, Any]] = {}
    found = []
    for e in events:
        if isinstance(e, Rating.Given):
            continue
        if isinstance(e, Case.Received):
            case[e.originator_id] = {"unit": e.unit_id, "channel": e.channel,
                                     "received": local_date(e.received_at), "due": e.due_on}
            continue
        c = case[e.originator_id]
        if hasattr(e, "due_on"):
            c["due"] = e.due_on
        if isinstance(e, Case.TransferAccepted):
            c["unit"] = e.to_unit
        if isinstance(e, Case.Answered):
            c["answered"], c["by"] = local_date(e.at), e.actor
        if isinstance(e, Case.Resolved):
            found.append(Resolved(c["unit"], c["channel"], c["by"], local_date(e.at),
                                  working_days(c["received"], c["answered"]),
                                  c["answered"] <= c["due"]))
    return found


def expected(rows: list[Resolved]) -> ResolutionFigures:
    days = sorted(r.working_days for r in rows)
    if not days:
        return ResolutionFigures()
    p90 = statistics.quantiles(days, n=10, method="inclusive")[8] if len(days) > 1 else days[0]
    on_time = sum(r.on_time for r in rows)
    return ResolutionFigures(len(rows), on_time, 0, len(rows) - on_time,
                             float(statistics.median(days)), float(p90))


def same(found: ResolutionFigures, wanted: ResolutionFigures) -> bool:
    """Equal but for ``early`` (not recounted here), percentiles to rounding."""
    return (
        (found.resolved, found.on_time, found.late) == (wanted.resolved, wanted.on_time,
                                                        wanted.late)
        and found.median_days == pytest.approx(wanted.median_days)
        and found.p90_days == pytest.approx(wanted.p90_days)
    )


def more_cases(app: CasesApplication, desk: CaseDesk) -> None:
    """A hotline case in Quảng An answered by its officer, and a case transferred there."""
    subs = [
        submission(channel=Channel.HOTLINE, rating=None, unit_id="quang-an",
                   office_id="quang-an-mc", counter_id="quang-an-q1",
                   submitted_at=at(date(2026, 10, 5)), category=ComplaintCategory.DELAY),
        submission(channel=Channel.HOTLINE, rating=None, submitted_at=at(date(2026, 10, 6)),
                   category=ComplaintCategory.ATTITUDE),
    ]
    app.record_submissions(subs)
    from feedback_core.handling import Request
    from feedback_core.roles import Actor, Role

    officer = Actor("canbo.quangan", Role.HANDLER, "quang-an")
    first = case_id_for(subs[0].submission_id)
    for request, when in (
        (Request(Action.ACCEPT), at(date(2026, 10, 6))),
        (Request(Action.CLAIM), at(date(2026, 10, 6), 10)),
        (Request(Action.START), at(date(2026, 10, 6), 11)),
        (Request(Action.ANSWER, text="Xong."), at(date(2026, 10, 20))),
        (Request(Action.RESOLVE), at(date(2026, 10, 21))),
    ):
        desk.act(first, app.repository.get(first).version, officer, request, when)
    second = case_id_for(subs[1].submission_id)
    step(desk, second, Action.ACCEPT, at(date(2026, 10, 7)))
    step(desk, second, Action.CLAIM, at(date(2026, 10, 7), 10))  # held, open, overdue


def test_percentiles_officers_and_channels_equal_a_recount(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    more_cases(app, desk)
    run(app, database)
    views = ViewQueries(database.conninfo)
    figures = FigureQueries(views.pool)
    try:
        events = all_events(app)
        resolutions = [r for r in recount_resolutions(events) if OCTOBER[0] <= r.day <= OCTOBER[1]]
        assert len(resolutions) >= 5  # the reopened case counts twice
        for scope in (["nhat-tan"], ["quang-an"], DISTRICT):
            rows = [r for r in resolutions if r.unit in scope]
            found = figures.handling_time(scope, *OCTOBER)
            assert same(found, expected(rows)), scope
            # The sample is the resolved figure, and the drill-down list has that many rows.
            assert found.resolved == figures.totals(scope, *OCTOBER).resolved
            assert len(figures.resolutions(scope, *OCTOBER)) == found.resolved
        # Rolled up per ward in one statement = each ward on its own.
        rolled = figures.handling_time_rolled(
            {"nhat-tan": ["nhat-tan"], "quang-an": ["quang-an"]}, *OCTOBER
        )
        assert rolled["quang-an"] == figures.handling_time(["quang-an"], *OCTOBER)
        # A decreed day off is not a working day: received Wednesday 7 October, answered
        # Friday 9 October, the day between decreed off: 1 working day (not 2).
        ninth = figures.resolutions(["nhat-tan"], date(2026, 10, 9), date(2026, 10, 9))
        assert [(r.answered_on, r.working_days) for r in ninth] == [(date(2026, 10, 9), 1)]

        by_officer = figures.handling_time_by(DISTRICT, *OCTOBER, "officer")
        assert set(by_officer) == {r.officer for r in resolutions}
        for officer, found in by_officer.items():
            assert same(found, expected([r for r in resolutions if r.officer == officer]))
            assert len(figures.resolutions(DISTRICT, *OCTOBER, officer=officer)) == found.resolved

        by_channel = figures.handling_time_by(DISTRICT, *OCTOBER, "channel")
        assert set(by_channel) == {"qr", "hotline"}
        for channel, found in by_channel.items():
            assert same(found, expected([r for r in resolutions if r.channel == channel]))
        totals = figures.by_channel(DISTRICT, *OCTOBER)
        for channel in ("qr", "hotline"):
            assert totals[channel] == recount(only_channel(events, channel), set(DISTRICT),
                                              *OCTOBER)
        assert sum(totals.values(), type(totals["qr"])()) == figures.totals(DISTRICT, *OCTOBER)

        # Held now, and overdue: equal to a recount, and to the holder's overdue list.
        held = figures.held_open(DISTRICT, TODAY)
        assert held == recount_held(events, app)
        overdue_by_holder = figures.overdue_by(DISTRICT, TODAY, "assignee")
        for officer, h in held.items():
            listed = figures.overdue_list_held_by(DISTRICT, TODAY, officer)
            assert h.overdue == len(listed) == overdue_by_holder.get(officer, 0)
        assert sum(figures.overdue_by(DISTRICT, TODAY, "channel").values()) == (
            figures.overdue_count(DISTRICT, TODAY)
        )
    finally:
        views.close()


def only_channel(events: list[Any], channel: str) -> list[Any]:
    cases = {e.originator_id for e in events
             if isinstance(e, Case.Received) and e.channel == channel}
    return [e for e in events
            if (isinstance(e, Rating.Given) and e.channel == channel)
            or (not isinstance(e, Rating.Given) and e.originator_id in cases)]


def recount_held(events: list[Any], app: CasesApplication) -> dict[str, HeldOpen]:
    """Open cases per assignee, and of those the ones past their due date, not answered,
    not waiting since before it (from the aggregates the events build)."""
    held: dict[str, list[int]] = {}
    for case_id in {e.originator_id for e in events if isinstance(e, Case.Received)}:
        case: Any = app.repository.get(case_id)
        if case.assignee is None or case.status in (*CLOSED_STATUSES, "resolved"):
            continue
        counts = held.setdefault(case.assignee, [0, 0])
        counts[0] += 1
        waiting = case.pauses[-1][0] if case.pauses and case.pauses[-1][1] is None else None
        counts[1] += (case.due_on < TODAY and case.status != "answered"
                      and (waiting is None or waiting >= case.due_on))
    return {k: HeldOpen(*v) for k, v in held.items()}


def test_tables_of_an_older_version_replay_from_zero(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    run(app, database)
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        assert not ensure_current_version(conn, "views")  # current: nothing to do
        # What version 1 left behind: no comment, no resolution table.
        conn.execute("COMMENT ON TABLE views.figures_case IS NULL")
        conn.execute("DROP TABLE views.figures_resolution")
        assert ensure_current_version(conn, "views")
        position = conn.execute(
            "SELECT count(*) FROM views.projection_position WHERE projection = 'case_figures'"
        ).fetchone()
        assert position == (0,)
        assert conn.execute("SELECT count(*) FROM views.figures_daily").fetchone() == (0,)
    run(app, database)
    rebuild_into(app, database.conninfo, FiguresViews(lambda: DECREED), "figures_rebuild")
    assert compare_schemas(database.conninfo, "views", "figures_rebuild", FIGURE_TABLES) == []


def test_the_dashboard_on_real_figures_agrees_with_its_lists(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    """The web's dashboard built from the real queries: every table, the officer overdue
    figures equal to their lists, and the officers of a ward only."""
    import json

    from feedback_core.organisation import organisation_from_dict
    from feedback_core.roles import Actor, Role
    from feedback_core.settings import DEMO_ORGANISATION
    from web.dashboard import Period, build_dashboard
    from web.dashboard_tables import TABLES, table_rows
    from web.principal import StaffPrincipal

    scenario(app, desk)
    more_cases(app, desk)
    run(app, database)
    org = organisation_from_dict(json.loads(DEMO_ORGANISATION.read_text("utf-8")))
    views = ViewQueries(database.conninfo)
    figures = FigureQueries(views.pool)
    try:
        head = StaffPrincipal(org.staff["lanhdao.tayho"], Actor("lanhdao.tayho", Role.HEAD,
                                                                 "tay-ho"), tuple(DISTRICT))
        board = build_dashboard(figures, org, head, "tay-ho", Period(*OCTOBER), TODAY, "month")
        assert board.handling == figures.handling_time(DISTRICT, *OCTOBER)
        assert [d.day for d in board.trend_points] == [date(2026, 10, 1)]
        officers = {o.account.username: o for o in board.officers}
        assert officers["canbo.quangan"].handling.resolved == 1
        assert officers["canbo.nhattan"].held.overdue == len(
            figures.overdue_list_held_by(DISTRICT, TODAY, "canbo.nhattan")
        )
        hotline = next(c for c in board.channels if c.channel == "hotline")
        assert (hotline.totals.received, hotline.handling.resolved) == (2, 1)
        for table in TABLES:
            header, rows = table_rows(table, board, [], org)
            assert all(len(row) == len(header) for row in rows), table
        ward = StaffPrincipal(org.staff["canbo.nhattan"],
                              Actor("lanhdao.nhattan", Role.HEAD, "nhat-tan"), ("nhat-tan",))
        ward_board = build_dashboard(figures, org, ward, "nhat-tan", Period(*OCTOBER), TODAY)
        assert {o.account.unit_id for o in ward_board.officers} == {"nhat-tan"}
    finally:
        views.close()
