"""Figures "as of" a past day read from the live tables' recorded days, on real PostgreSQL:
for several days, every ``FigureQueries`` figure through ``AsOfFigureQueries`` equals the
same figure over a replay of the log's prefix (``AsOfViews.build``), after a month of
workflow recorded day by day (the store's recording clock set per day), late entries
included; the bulk rebuild writes the same history as the live runner."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.permissions import Action
from feedback_core.roles import Actor, Role
from feedback_core.store import Database
from projections.as_of import AsOfViews, verify_day
from projections.as_of_compare import COVERED, compare_as_of
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews
from projections.figures_queries import FigureQueries
from projections.queries import ViewQueries
from projections.rebuild import compare_schemas, rebuild_all_into
from projections.runner import BatchedProjectionRunner
from projections.views import TABLES
from tests.integration.conftest import at
from tests.support.recorded_clock import RecordedClock, recorded_clock
from tests.unit.test_intake import submission
from web.as_of import AsOfFigureQueries

pytestmark = pytest.mark.integration

DISTRICT = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
NHAT_TAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
QUANG_AN = Actor("canbo.quangan", Role.HANDLER, "quang-an")
HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
DAYS = [
    date(2026, 10, 5),
    date(2026, 10, 8),
    date(2026, 10, 9),
    date(2026, 10, 14),
    date(2026, 10, 20),
    date(2026, 11, 3),
]
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


class Workload:
    """A month of a ward's work, each event recorded on the day it was done (or later)."""

    def __init__(self, app: CasesApplication, desk: CaseDesk, clock: RecordedClock) -> None:
        self.app, self.desk, self.clock = app, desk, clock

    def on(self, day: date, hour: int = 9) -> None:
        self.clock.set(at(day, hour))

    def receive(self, day: date, **kw: Any) -> UUID:
        self.on(day, 8)
        kw.setdefault("submitted_at", at(day, 8))
        sub = submission(**kw)
        self.app.record_submissions([sub])
        return case_id_for(sub.submission_id)

    def step(
        self,
        case_id: UUID,
        action: Action,
        day: date,
        actor: Actor = NHAT_TAN,
        hour: int = 10,
        **kw: Any,
    ) -> None:
        self.on(day, hour)
        version: int = self.app.repository.get(case_id).version
        self.desk.act(case_id, version, actor, Request(action, **kw), at(day, hour))


def month_of_work(app: CasesApplication, desk: CaseDesk, clock: RecordedClock) -> dict[str, Any]:
    """In recorded order (the clock only moves forward); ``oct_[n]`` is 1 + n October."""
    w = Workload(app, desk, clock)
    oct_ = [date(2026, 10, d) for d in range(1, 32)]
    ids: dict[str, Any] = {}
    ids["early"] = w.receive(oct_[0], rating=5, components={"officers": 5, "access": 4})
    ids["late"] = w.receive(
        oct_[1], rating=2, category=ComplaintCategory.SECOND_TRIP, components={"officers": 2}
    )
    ids["overdue"] = w.receive(oct_[1], rating=3)
    w.step(ids["early"], Action.ACCEPT, oct_[1])
    w.step(ids["early"], Action.CLAIM, oct_[1], hour=11)
    ids["moved"] = w.receive(oct_[2], rating=4)
    w.step(ids["late"], Action.ACCEPT, oct_[2])
    w.step(ids["overdue"], Action.ACCEPT, oct_[2])
    ids["reopened"] = w.receive(oct_[3], rating=1)
    w.step(ids["early"], Action.START, oct_[3])
    w.step(ids["early"], Action.ANSWER, oct_[3], hour=11, text="Đã giải quyết.")
    w.step(ids["early"], Action.RESOLVE, oct_[3], hour=15)
    w.step(ids["late"], Action.CLAIM, oct_[3], hour=16)
    ids["held"] = w.receive(oct_[4], rating=3, channel=Channel.ZALO)
    w.step(ids["overdue"], Action.CLAIM, oct_[4])
    w.step(ids["reopened"], Action.ACCEPT, oct_[4], hour=11)
    w.step(ids["reopened"], Action.CLAIM, oct_[4], hour=12)
    w.step(ids["reopened"], Action.START, oct_[4], hour=13)
    w.step(ids["held"], Action.ACCEPT, oct_[5])
    w.step(ids["held"], Action.CLAIM, oct_[5], hour=11)
    # Transferred to Quảng An on the 6th, accepted there on the 7th.
    w.step(ids["moved"], Action.TRANSFER, oct_[5], hour=12, to_unit="quang-an", reason="Đúng nơi")
    w.step(ids["held"], Action.ASK_CITIZEN, oct_[6], text="Xin bổ sung số hồ sơ.")
    w.step(ids["moved"], Action.ACCEPT_TRANSFER, oct_[6], actor=QUANG_AN, hour=11)
    w.step(ids["moved"], Action.ACCEPT, oct_[6], actor=QUANG_AN, hour=12)
    # Late entries: a kiosk tap of the 7th sent from the tablet's offline queue on the 8th;
    # a paper card of the 3rd typed in on the 9th; (below) a hotline call of 31 October
    # entered on 2 November. Each changes its business day's figure only from the day
    # it was recorded.
    ids["kiosk"] = w.receive(
        oct_[7],
        channel=Channel.KIOSK,
        submitted_at=at(oct_[6], 16),
        rating=4,
        description="",
        components={"access": 5},
    )
    w.step(ids["moved"], Action.CLAIM, oct_[7], actor=QUANG_AN)
    w.step(ids["reopened"], Action.ANSWER, oct_[7], hour=11, text="Đã giải quyết.")
    w.step(ids["reopened"], Action.RESOLVE, oct_[7], hour=15)
    ids["paper"] = w.receive(
        oct_[8],
        channel=Channel.PAPER,
        submitted_at=at(oct_[2], 10),
        rating=2,
        components={"officers": 1},
    )
    w.step(ids["reopened"], Action.REOPEN, oct_[9], reason="Chưa thỏa đáng")
    w.step(ids["reopened"], Action.ANSWER, oct_[12], text="Đã bổ sung.")
    w.step(ids["reopened"], Action.RESOLVE, oct_[12], hour=15)
    w.on(oct_[13])
    desk.confirm_resolved(ids["reopened"], at(oct_[13]))
    desk.confirm_resolved(ids["early"], at(oct_[13]))
    w.step(ids["held"], Action.RECORD_REPLY, oct_[15], text="Số 123.")
    w.step(ids["overdue"], Action.EXTEND, oct_[16], actor=HEAD, days=5, reason="Phức tạp")
    # A step of the 20th recorded just after midnight: it belongs to the 21st.
    ids["midnight"] = w.receive(oct_[19], rating=5)
    w.clock.set(datetime(2026, 10, 20, 17, 0, 1, tzinfo=UTC))  # 00:00:01 on the 21st
    version: int = app.repository.get(ids["midnight"]).version
    desk.act(ids["midnight"], version, NHAT_TAN, Request(Action.ACCEPT), at(oct_[19], 23))
    for day in oct_[20:]:
        if day.weekday() < 5:
            case = w.receive(day, rating=1 + day.day % 5, components={"officers": day.day % 5 + 1})
            w.step(case, Action.ACCEPT, day, hour=11)
        if day == oct_[27]:
            w.step(ids["late"], Action.START, day, hour=12)
            w.step(ids["late"], Action.ANSWER, day, hour=13, text="Đã giải quyết.")
            w.step(ids["late"], Action.RESOLVE, day, hour=15)
    ids["hotline"] = w.receive(
        date(2026, 11, 2), channel=Channel.HOTLINE, rating=None, submitted_at=at(oct_[30], 20)
    )
    return ids


def project(app: CasesApplication, database: Database, page_size: int) -> None:
    for projection in (CaseViews(), FiguresViews()):
        runner = BatchedProjectionRunner(app, database.conninfo, projection, page_size=page_size)
        try:
            runner.catch_up()
        finally:
            runner.close()


def test_every_figure_as_of_a_day_equals_the_replay_of_its_prefix(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    with recorded_clock(at(date(2026, 10, 1), 8)) as clock:
        ids = month_of_work(app, desk, clock)
    project(app, database, page_size=7)  # pages that cross recorded days
    public = {
        name
        for name, member in inspect.getmembers(FigureQueries, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public == COVERED  # the proof covers every figure the pages can ask for

    views = ViewQueries(database.conninfo)
    replays = AsOfViews(app, database.conninfo, keep=len(DAYS))
    try:
        for day in DAYS:
            built = replays.build(day)
            compared, differences = compare_as_of(
                AsOfFigureQueries(views.pool, day), FigureQueries(views.pool, built.schema), day
            )
            assert compared >= 50
            assert [d.line() for d in differences] == []

        def as_of(day: date) -> AsOfFigureQueries:
            return AsOfFigureQueries(views.pool, day)

        oct3 = (date(2026, 10, 3), date(2026, 10, 3))
        # The paper card of 3 October counts for the 3rd from the 9th (recorded) on.
        assert as_of(date(2026, 10, 8)).totals(DISTRICT, *oct3).ratings == 1
        assert as_of(date(2026, 10, 9)).totals(DISTRICT, *oct3).ratings == 2
        paper = as_of(date(2026, 10, 9)).by_channel(DISTRICT, *oct3)["paper"]
        assert (paper.ratings, paper.received) == (1, 1)
        # The kiosk tap of the 7th, recorded on the 8th.
        oct7 = (date(2026, 10, 7), date(2026, 10, 7))
        assert "kiosk" not in as_of(date(2026, 10, 7)).by_channel(DISTRICT, *oct7)
        assert as_of(date(2026, 10, 8)).by_channel(DISTRICT, *oct7)["kiosk"].ratings == 1
        # The hotline call of 31 October, entered on 2 November.
        assert (
            as_of(date(2026, 10, 31))
            .totals(DISTRICT, date(2026, 10, 31), date(2026, 10, 31))
            .received
            == 0
        )
        assert (
            as_of(date(2026, 11, 2))
            .totals(DISTRICT, date(2026, 10, 31), date(2026, 10, 31))
            .received
            == 1
        )
        # The transferred case: Nhật Tân's until the 7th, then Quảng An's.
        moved = ids["moved"]
        assert moved in _open_ids(as_of(date(2026, 10, 6)), ["nhat-tan"])
        assert moved in _open_ids(as_of(date(2026, 10, 7)), ["quang-an"])
        assert moved not in _open_ids(as_of(date(2026, 10, 7)), ["nhat-tan"])
        # Held and overdue then; the step recorded after midnight belongs to the 21st.
        held = as_of(date(2026, 10, 14)).held_open(DISTRICT, date(2026, 10, 14))
        assert held["canbo.nhattan"].open >= 2
        assert as_of(date(2026, 10, 20)).overdue_page(DISTRICT, date(2026, 10, 20), 0, 100)
        midnight = {r.case_id: r for r in _open(as_of(date(2026, 10, 20)), DISTRICT)}
        assert midnight[ids["midnight"]].status == "received"
        after = {r.case_id: r for r in _open(as_of(date(2026, 10, 21)), DISTRICT)}
        assert after[ids["midnight"]].status == "accepted"
        # The reopened case: resolved once as of the 8th, twice as of the 13th.
        assert as_of(date(2026, 10, 8)).handling_time(DISTRICT, *OCTOBER).resolved == 2
        assert as_of(date(2026, 10, 13)).handling_time(DISTRICT, *OCTOBER).resolved == 3
        assert as_of(date(2026, 10, 14)).totals(DISTRICT, *OCTOBER).confirmed == 2

        # A figure the temporal tables got wrong is reported, by name.
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(
                "UPDATE views.case_queue_daily SET assignee = 'someone' "
                "WHERE case_id = %s AND valid_until IS NULL",
                (ids["held"],),
            )
        verified = verify_day(replays, date(2026, 11, 3))
        assert not verified.behind and verified.compared >= 50
        assert {d.figure for d in verified.differences} >= {"held_open", "open_breakdown"}
    finally:
        replays.drop_all()
        views.pool.close()


def _open(figures: AsOfFigureQueries, units: list[str]) -> list[Any]:
    """The cases open and not answered on the day: the overdue list's rows, counted ten
    years on (``FigureQueries.overdue_list`` itself: the as-of one keeps "today" at the day)."""
    return FigureQueries.overdue_list(figures, units, figures.day + timedelta(days=3650))


def _open_ids(figures: AsOfFigureQueries, units: list[str]) -> set[Any]:
    return {r.case_id for r in _open(figures, units)}


def test_the_bulk_rebuild_writes_the_live_runners_history(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    with recorded_clock(at(date(2026, 10, 1), 8)) as clock:
        month_of_work(app, desk, clock)
    project(app, database, page_size=3)
    rebuild_all_into(app, database.conninfo, [CaseViews(), FiguresViews()], "rebuilt")
    assert compare_schemas(database.conninfo, "views", "rebuilt", TABLES + FIGURE_TABLES) == []
    with psycopg.connect(database.conninfo) as conn:
        versions = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE valid_until IS NULL), "
            "count(DISTINCT case_id) FROM views.case_queue_daily"
        ).fetchone()
    assert versions is not None and versions[0] > versions[1] == versions[2]
