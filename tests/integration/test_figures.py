"""The figures projection on real PostgreSQL: the workflow driven through the real desk on
chosen business dates, figures checked against a plain recount of the same events, the
overdue figure equal to its list, and a rebuild from zero equal to the live tables."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.intake import ComplaintCategory
from feedback_core.local_time import local_date
from feedback_core.permissions import Action
from feedback_core.ratings import Rating
from feedback_core.roles import Actor, Role
from feedback_core.store import Database
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews
from projections.figures_queries import FigureQueries, Totals
from projections.queries import ViewQueries
from projections.rebuild import compare_schemas, rebuild_into
from projections.runner import BatchedProjectionRunner
from tests.integration.conftest import at
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

HANDLER = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
TODAY = date(2026, 11, 23)
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def step(desk: CaseDesk, case_id: UUID, action: Action, when: datetime, **kw: Any) -> None:
    version: int = desk.app.repository.get(case_id).version
    actor = HEAD if action in (Action.EXTEND,) else HANDLER
    desk.act(case_id, version, actor, Request(action, **kw), when)


def handle(desk: CaseDesk, case_id: UUID, accepted: date, answered: date) -> None:
    step(desk, case_id, Action.ACCEPT, at(accepted))
    step(desk, case_id, Action.CLAIM, at(accepted, 10))
    step(desk, case_id, Action.START, at(accepted, 11))
    step(desk, case_id, Action.ANSWER, at(answered), text="Đã giải quyết.")
    step(desk, case_id, Action.RESOLVE, at(answered, 15))


def scenario(app: CasesApplication, desk: CaseDesk) -> dict[str, UUID]:
    """Cases received in October 2026 at Nhật Tân and Quảng An, handled on chosen dates."""
    subs = {
        "early": submission(submitted_at=at(date(2026, 10, 1)), rating=5,
                            components={"officers": 5, "access": 4}),
        "late": submission(submitted_at=at(date(2026, 10, 2)), rating=2,
                           category=ComplaintCategory.SECOND_TRIP, components={"officers": 2}),
        "overdue": submission(submitted_at=at(date(2026, 10, 5)), rating=3),
        "refused": submission(submitted_at=at(date(2026, 10, 6)), rating=1),
        "reopened": submission(submitted_at=at(date(2026, 10, 7)), rating=4),
        "quang_an": submission(unit_id="quang-an", office_id="quang-an-mc",
                               counter_id="quang-an-q1", submitted_at=at(date(2026, 10, 8)),
                               rating=5, category=ComplaintCategory.DELAY),
        "rated_only": submission(submitted_at=at(date(2026, 10, 9)), rating=5, description="",
                                 components={"results": 5}),
        # Received at 23:30 on 31 October in Hà Nội: 16:30 UTC, still October locally.
        "late_evening": submission(
            submitted_at=datetime(2026, 10, 31, 16, 30, tzinfo=UTC), rating=4
        ),
        "november": submission(submitted_at=at(date(2026, 11, 2)), rating=4),
    }
    app.record_submissions(list(subs.values()))
    ids = {name: case_id_for(s.submission_id) for name, s in subs.items()}
    handle(desk, ids["early"], date(2026, 10, 2), date(2026, 10, 6))
    handle(desk, ids["late"], date(2026, 10, 2), date(2026, 10, 28))
    step(desk, ids["overdue"], Action.ACCEPT, at(date(2026, 10, 6)))
    step(desk, ids["refused"], Action.REFUSE, at(date(2026, 10, 7)),
         reason="Không thuộc thẩm quyền")
    handle(desk, ids["reopened"], date(2026, 10, 8), date(2026, 10, 9))
    step(desk, ids["reopened"], Action.REOPEN, at(date(2026, 10, 12)), reason="Chưa thỏa đáng")
    step(desk, ids["reopened"], Action.ANSWER, at(date(2026, 10, 13)), text="Đã bổ sung.")
    step(desk, ids["reopened"], Action.RESOLVE, at(date(2026, 10, 13), 16))
    step(desk, ids["quang_an"], Action.ACCEPT, at(date(2026, 10, 9)))
    step(desk, ids["november"], Action.ACCEPT, at(date(2026, 11, 3)))
    return ids


def all_events(app: CasesApplication) -> list[Any]:
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def recount(events: list[Any], units: set[str], start: date, end: date) -> Totals:
    """A plain recount over the events, independent of the projection's code."""
    counts: Counter[str] = Counter()
    unit_of: dict[UUID, str] = {}
    due: dict[UUID, date] = {}
    answered: dict[UUID, date] = {}
    for e in events:
        if isinstance(e, Rating.Given):
            if e.unit_id in units and start <= local_date(e.given_at) <= end:
                counts["ratings"] += 1
                counts["satisfied"] += e.score >= 4
                counts["score_sum"] += e.score
            continue
        if isinstance(e, Case.Received):
            unit_of[e.originator_id], due[e.originator_id] = e.unit_id, e.due_on
            if e.unit_id in units and start <= local_date(e.received_at) <= end:
                counts["received"] += 1
                counts["harassment"] += e.category == "harassment"
                counts["second_trip"] += e.category == "second_trip"
            continue
        case = e.originator_id
        if hasattr(e, "due_on"):
            due[case] = e.due_on
        day = local_date(e.at)
        if isinstance(e, Case.Answered):
            answered[case] = day
        if unit_of[case] not in units or not start <= day <= end:
            continue
        kind = type(e).__name__
        if kind in ("Accepted", "Refused", "Reopened"):
            counts[kind.lower()] += 1
        if kind == "Resolved":
            counts["resolved"] += 1
            counts["on_time"] += answered[case] <= due[case]
            counts["early"] += answered[case] < due[case]
            counts["late"] += answered[case] > due[case]
    return Totals(**counts)


def run(app: CasesApplication, database: Database, page_size: int) -> None:
    for projection in (CaseViews(), FiguresViews()):
        runner = BatchedProjectionRunner(app, database.conninfo, projection, page_size=page_size)
        try:
            runner.catch_up()
        finally:
            runner.close()


def test_figures_equal_a_plain_recount_and_the_drill_down(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    ids = scenario(app, desk)
    run(app, database, page_size=5)  # pages cut through cases and their steps
    views = ViewQueries(database.conninfo)
    figures = FigureQueries(views.pool)
    try:
        events = all_events(app)
        ward = ["nhat-tan"]
        district = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
        october = figures.totals(ward, *OCTOBER)
        assert october == recount(events, set(ward), *OCTOBER)
        assert figures.totals(district, *OCTOBER) == recount(events, set(district), *OCTOBER)
        # The scenario, spelled out.
        assert october.received == 6  # the late-evening case of 31 October included
        assert (october.resolved, october.on_time, october.early, october.late) == (4, 3, 3, 1)
        assert (october.accepted, october.refused, october.reopened) == (4, 1, 1)
        assert (october.second_trip, october.harassment) == (1, 5)
        assert (october.ratings, october.satisfied) == (7, 4)
        assert october.on_time_share == pytest.approx(3 / 4)
        assert figures.by_unit(district, *OCTOBER)["quang-an"].received == 1
        components = {c.component: c for c in figures.components(ward, *OCTOBER)}
        assert (components["officers"].ratings, components["officers"].score_sum) == (2, 7)
        assert components["results"].mean == 5
        trend = figures.trend(ward, *OCTOBER)
        assert len(trend) == 31 and sum(d.received for d in trend) == 6
        assert sum(d.resolved for d in trend) == 4  # the reopened case resolved twice

        # Open overdue on 23 November: the accepted one, Quảng An's, and the two open since
        # 31 October / 2 November whose ten working days have passed. Figure == list.
        for scope in (ward, ["quang-an"], district):
            count = figures.overdue_count(scope, TODAY)
            listed = figures.overdue_list(scope, TODAY)
            assert count == len(listed)
            assert {r.unit_id for r in listed} <= set(scope)
        listed_ids = {r.case_id for r in figures.overdue_list(district, TODAY)}
        assert ids["overdue"] in listed_ids and ids["quang_an"] in listed_ids
        assert ids["early"] not in listed_ids and ids["refused"] not in listed_ids
        # The queue's own overdue filter agrees with the figure.
        from projections.queries import QueueFilters

        queue = views.search_queue(district, QueueFilters(overdue_on=TODAY), page_size=200)
        assert queue.total == figures.overdue_count(district, TODAY)
    finally:
        views.close()


def test_rebuild_from_zero_equals_live(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    scenario(app, desk)
    run(app, database, page_size=3)
    replayed = rebuild_into(app, database.conninfo, FiguresViews(), "figures_rebuild")
    assert replayed == app.recorder.max_notification_id()
    assert compare_schemas(database.conninfo, "views", "figures_rebuild", FIGURE_TABLES) == []
    # One more step after the live run: live catches up, and equals a fresh rebuild again.
    step(desk, case_id_for_any(app), Action.NOTE, at(TODAY), text="ghi chú")
    run(app, database, page_size=3)
    rebuild_into(app, database.conninfo, FiguresViews(), "figures_rebuild")
    assert compare_schemas(database.conninfo, "views", "figures_rebuild", FIGURE_TABLES) == []


def case_id_for_any(app: CasesApplication) -> UUID:
    event = next(e for e in all_events(app) if isinstance(e, Case.Received))
    return event.originator_id


def test_an_empty_schema_reads_as_zero(database: Database) -> None:
    views = ViewQueries(database.conninfo)  # no runner yet: no figures tables
    try:
        figures = FigureQueries(views.pool)
        assert figures.totals(["nhat-tan"], *OCTOBER) == Totals()
        assert figures.components(["nhat-tan"], *OCTOBER) == []
    finally:
        views.close()


def test_transfers_count_at_the_unit_holding_the_case(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    sub = submission(submitted_at=at(date(2026, 10, 1)))
    app.record_submissions([sub])
    case_id = case_id_for(sub.submission_id)
    step(desk, case_id, Action.ACCEPT, at(date(2026, 10, 1), 10))
    step(desk, case_id, Action.TRANSFER, at(date(2026, 10, 2)), to_unit="quang-an",
         reason="Thuộc địa bàn Quảng An")
    version: int = app.repository.get(case_id).version
    desk.act(case_id, version, Actor("canbo.quangan", Role.HANDLER, "quang-an"),
             Request(Action.ACCEPT_TRANSFER), at(date(2026, 10, 3)))
    version = app.repository.get(case_id).version
    desk.act(case_id, version, Actor("canbo.quangan", Role.HANDLER, "quang-an"),
             Request(Action.CLAIM), at(date(2026, 10, 3), 10))
    for request, when in (
        (Request(Action.START), at(date(2026, 10, 3), 11)),
        (Request(Action.ANSWER, text="Xong."), at(date(2026, 10, 5))),
        (Request(Action.RESOLVE), at(date(2026, 10, 5), 12)),
    ):
        version = app.repository.get(case_id).version
        desk.act(case_id, version, Actor("canbo.quangan", Role.HANDLER, "quang-an"),
                 request, when)
    run(app, database, page_size=2)
    views = ViewQueries(database.conninfo)
    try:
        figures = FigureQueries(views.pool)
        by_unit = figures.by_unit(["nhat-tan", "quang-an"], *OCTOBER)
        assert (by_unit["nhat-tan"].received, by_unit["nhat-tan"].resolved) == (1, 0)
        assert (by_unit["quang-an"].received, by_unit["quang-an"].resolved) == (0, 1)
        assert by_unit["quang-an"].on_time == 1
        assert figures.totals(["nhat-tan", "quang-an"], *OCTOBER) == recount(
            all_events(app), {"nhat-tan", "quang-an"}, *OCTOBER
        )
    finally:
        views.close()
