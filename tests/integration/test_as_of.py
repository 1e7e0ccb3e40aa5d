"""The replay of the log's prefix (the proof of the figures "as of" a past day) on real
PostgreSQL: what the live dashboard showed then is what the replay shows later, after more
events (steps on older cases included) changed today's figures; built from an earlier
snapshot it equals a live replay; kept and built once under the advisory lock; and the
dashboards through the web (``?as_of=``), answered at once from the live tables' recorded
days. The figure-by-figure proof: tests/integration/test_as_of_temporal.py."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from feedback_cli.services import open_inspections
from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.permissions import Action
from feedback_core.settings import Settings
from feedback_core.store import Database
from projections.as_of import (
    SKIPPED_INDEXES,
    AsOfBusy,
    AsOfViews,
    DailyVerification,
    cutoff_position,
    end_of,
    schema_for,
)
from projections.case_views import CaseViews
from projections.figures import FIGURE_TABLES, FiguresViews
from projections.figures_queries import FigureQueries
from projections.queries import ViewQueries
from projections.rebuild import compare_schemas
from projections.runner import BatchedProjectionRunner
from projections.views import TABLES
from tests.integration.test_figures import OCTOBER, TODAY, at, scenario, step
from tests.support.qr import with_qr_codes
from tests.support.recorded_clock import recorded_clock
from tests.unit.test_intake import submission
from tests.web.conftest import build_test_organisation, make_desk
from tests.web.web_doubles import NOW, FakeHealth, RecordingPublisher, log_in
from web.app import create_app
from web.services import WebServices

pytestmark = pytest.mark.integration

DISTRICT = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]


def project(app: CasesApplication, database: Database) -> None:
    for projection in (CaseViews(), FiguresViews()):
        runner = BatchedProjectionRunner(app, database.conninfo, projection, page_size=7)
        try:
            runner.catch_up()
        finally:
            runner.close()


@dataclass(frozen=True)
class Seen:
    totals: Any
    by_unit: Any
    components: Any
    trend: Any
    overdue: int
    overdue_ids: list[Any]


def seen(figures: FigureQueries) -> Seen:
    return Seen(
        figures.totals(DISTRICT, *OCTOBER),
        figures.by_unit(DISTRICT, date(2026, 10, 1), TODAY),
        figures.components(DISTRICT, *OCTOBER),
        figures.trend(["nhat-tan"], *OCTOBER),
        figures.overdue_count(DISTRICT, TODAY),
        [r.case_id for r in figures.overdue_list(DISTRICT, TODAY)],
    )


def later_events(app: CasesApplication, desk: CaseDesk, ids: dict[str, Any]) -> None:
    """After the moment captured: steps on older cases and a backdated October receipt."""
    step(desk, ids["overdue"], Action.CLAIM, at(date(2026, 11, 24)))
    step(desk, ids["overdue"], Action.START, at(date(2026, 11, 24), 10))
    step(desk, ids["overdue"], Action.ANSWER, at(date(2026, 11, 24), 11), text="Xong.")
    step(desk, ids["overdue"], Action.RESOLVE, at(date(2026, 11, 24), 15))
    step(desk, ids["early"], Action.REOPEN, at(date(2026, 11, 24)), reason="Xem lại")
    app.record_submissions([submission(submitted_at=at(date(2026, 10, 20)), rating=5)])


def test_as_of_equals_what_the_live_figures_showed_then(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    ids = scenario(app, desk)
    project(app, database)
    views = ViewQueries(database.conninfo)
    try:
        live = FigureQueries(views.pool)
        then = seen(live)
        moment = datetime.now(UTC)
        time.sleep(0.05)
        later_events(app, desk, ids)
        project(app, database)
        now = seen(live)
        assert now != then  # today's figures moved on
        assert now.totals.received == then.totals.received + 1
        assert ids["overdue"] in then.overdue_ids and ids["overdue"] not in now.overdue_ids

        as_of = AsOfViews(app, database.conninfo, cut=lambda day: moment)
        built = as_of.build(date(2026, 11, 23))
        assert built.base is None and built.schema == schema_for(date(2026, 11, 23))
        replayed = seen(FigureQueries(views.pool, built.schema))
        assert replayed == then

        # Kept: found ready, not built again.
        assert as_of.ready(date(2026, 11, 23)) == built.schema
        again = as_of.build(date(2026, 11, 23))
        assert (again.position, again.seconds) == (built.position, built.seconds)

        # A later day starts from the kept one (its tables copied, the rest replayed) and
        # equals the live views row for row.
        whole = AsOfViews(app, database.conninfo, cut=lambda day: datetime.now(UTC))
        latest = whole.build(date(2026, 11, 24))
        assert latest.base == date(2026, 11, 23)
        assert latest.events < built.position  # only the rest of the log was replayed
        assert compare_schemas(database.conninfo, "views", latest.schema,
                               TABLES + FIGURE_TABLES) == []
        assert seen(FigureQueries(views.pool, latest.schema)) == now
        as_of.drop_all()
        assert as_of.ready(date(2026, 11, 23)) is None
    finally:
        views.pool.close()


def test_the_cut_is_the_recorded_time_and_builds_are_locked(
    app: CasesApplication, database: Database
) -> None:
    before = datetime.now(UTC)
    app.record_submissions([submission(rating=4) for _ in range(5)])
    assert cutoff_position(app, before) == 0
    top = app.recorder.max_notification_id()
    assert cutoff_position(app, datetime.now(UTC)) == top
    # The end of a local day: midnight in Hà Nội is 17:00 UTC the day before.
    assert end_of(date(2026, 10, 31)) == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)

    views = AsOfViews(app, database.conninfo)
    with psycopg.connect(database.conninfo, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext(%s))", ("asof:2020-01-01",))
        with pytest.raises(AsOfBusy):
            views.build(date(2020, 1, 1))
    built = views.build(date(2020, 1, 1))  # recorded after that day: nothing in it
    assert built.position == 0
    views.drop_all()


def test_dashboard_as_of_through_the_web(
    app: CasesApplication, desk: CaseDesk, database: Database
) -> None:
    # Recorded on 22 November (the store's clock set), the later events on the 23rd.
    with recorded_clock(datetime(2026, 11, 22, 3, tzinfo=UTC)):
        ids = scenario(app, desk)
    project(app, database)
    settings = Settings(secret_key="test-secret")
    org = build_test_organisation()
    queries = ViewQueries(database.conninfo)
    inspections = open_inspections(database)
    clock = [NOW - timedelta(days=1)]  # the head looks on 22 November...
    services = WebServices(
        settings=settings, organisation=org, publisher=RecordingPublisher(), queries=queries,
        health=FakeHealth(), clock=lambda: clock[0], desk=make_desk(app, org),
        inspections=inspections, **with_qr_codes(settings),
    )
    web = create_app(services)
    query = "unit=tay-ho&from=2026-10-01&to=2026-11-23"
    try:
        with TestClient(web, follow_redirects=False) as client:
            log_in(client, "lanhdao.tayho")
            shown = client.get(f"/staff/dashboard/units.csv?{query}").text
            overdue_then = client.get(f"/staff/dashboard/overdue.csv?{query}").text
            clock[0] = NOW  # ... and an inspector a day later, after more events
            with recorded_clock(datetime(2026, 11, 23, 3, tzinfo=UTC)):
                later_events(app, desk, ids)
            project(app, database)
            assert client.get(f"/staff/dashboard/units.csv?{query}").text != shown

            # Any past day answers at once: nothing prepared, nothing to wait for.
            page = client.get(f"/staff/dashboard?{query}&as_of=2026-11-22")
            assert page.status_code == 200
            assert "Số liệu tại ngày 22/11/2026 (tính lại từ nhật ký sự kiện)" in page.text
            csv_then = client.get(f"/staff/dashboard/units.csv?{query}&as_of=2026-11-22").text
            assert list(csv.reader(io.StringIO(csv_then))) == list(
                csv.reader(io.StringIO(shown))
            )
            overdue = client.get(f"/staff/dashboard/overdue.csv?{query}&as_of=2026-11-22")
            # The rows of then, days overdue included: counted to the as-of day.
            rows_then = list(csv.reader(io.StringIO(overdue_then)))
            assert len(rows_then) > 1
            assert list(csv.reader(io.StringIO(overdue.text))) == rows_then
            # The dashboard's own links stay on that day.
            assert "/staff/dashboard/overdue?unit=tay-ho&amp;from=2026-10-01&amp;to=2026-11-23" \
                "&amp;group=day&amp;as_of=2026-11-22" in page.text
            assert 'name="as_of" value="2026-11-22"' in page.text
            assert "unit=nhat-tan&amp;from=2026-10-01&amp;to=2026-11-23&amp;as_of=2026-11-22" \
                in page.text
            assert "Số liệu tại ngày" not in client.get(f"/staff/dashboard?{query}").text
            # Each as-of page shown was recorded (who, which unit, which day, which page).
            views_recorded = list(inspections.dashboard_records())
            assert [(v.inspector, v.unit_id, v.as_of, v.page) for v in views_recorded] == [
                ("lanhdao.tayho", "tay-ho", date(2026, 11, 22), "/staff/dashboard"),
                ("lanhdao.tayho", "tay-ho", date(2026, 11, 22), "/staff/dashboard/units.csv"),
                ("lanhdao.tayho", "tay-ho", date(2026, 11, 22), "/staff/dashboard/overdue.csv"),
            ]
            assert views_recorded[0].at == NOW and views_recorded[0].role == "head"
            assert list(inspections.records()) == []  # no case was looked at
            listing = client.get("/inspect/log")
            assert listing.status_code == 200
            assert 'id="as-of-views"' in listing.text
            assert listing.text.count("/staff/dashboard/units.csv</code>") == 1

            for bad in ("2026-11-23", "2027-01-01", "hôm qua"):
                refused = client.get(f"/staff/dashboard?{query}&as_of={bad}")
                assert refused.status_code == 400
                assert "Ngày xem lại không hợp lệ" in refused.text
            log_in(client, "canbo.nhattan")
            assert client.get("/staff/dashboard?as_of=2026-11-22").status_code == 403
    finally:
        queries.pool.close()
        inspections.close()


def test_prepare_builds_each_day_from_the_one_before_and_rebuilds_a_crashed_copy(
    app: CasesApplication, database: Database
) -> None:
    """The nightly step: three days prepared oldest first, each from the day before's copy
    (only that day's events replayed), equal to the live replay; a copy whose unlogged rows
    a crash emptied is noticed and built again."""
    days = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    cuts: dict[date, datetime] = {}
    for count, day in enumerate(days, start=2):
        app.record_submissions([submission(rating=1 + i % 5) for i in range(count)])
        cuts[day] = datetime.now(UTC)
        time.sleep(0.01)
    views = AsOfViews(app, database.conninfo, cut=lambda day: cuts[day])
    try:
        built = views.prepare(days[-1], days=3)
        assert [b.day for b in built] == days
        assert [b.base for b in built] == [None, *days[:2]]
        assert [b.events for b in built][1:] == [
            cutoff_position(app, cuts[days[1]]) - cutoff_position(app, cuts[days[0]]),
            cutoff_position(app, cuts[days[2]]) - cutoff_position(app, cuts[days[1]]),
        ]
        assert set(built[1].phases) == {"cutoff", "copy_rows", "indexes", "replay", "catalog"}
        assert views.prepare(days[-1], days=3) == []  # all kept: nothing built again
        # Neither the copies nor the replay from zero build the indexes as-of pages never use
        # (an empty stand-in holds each name); the constraints and the overdue index stay.
        for one in (built[0], built[-1]):
            assert set(as_of_indexes(database, one.schema)) >= {
                "case_queue_pkey", "case_queue_open_by_unit_due", "figures_resolution_unit_day",
                "submission_status_submission_id_key",
            }
            assert set(SKIPPED_INDEXES) == {
                name for name, definition in as_of_indexes(database, one.schema).items()
                if definition.endswith("WHERE false")
            }
        project(app, database)  # the live views over the same (whole) log
        assert compare_schemas(database.conninfo, "views", built[-1].schema,
                               TABLES + FIGURE_TABLES) == []

        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {built[-1].schema}.projection_position")  # as a crash does
        assert views.ready(days[-1]) is None
        rebuilt = views.prepare(days[-1])
        assert [b.base for b in rebuilt] == [days[1]]
        assert compare_schemas(database.conninfo, "views", rebuilt[0].schema,
                               TABLES + FIGURE_TABLES) == []
    finally:
        views.drop_all()


def as_of_indexes(database: Database, schema: str) -> dict[str, str]:
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {str(name): str(definition) for name, definition in rows}


def test_daily_verification_runs_shortly_after_local_midnight() -> None:
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    moments = {
        datetime(2026, 11, 23, 23, 0, tzinfo=hanoi): 3600.0,  # checks hourly
        datetime(2026, 11, 23, 23, 59, tzinfo=hanoi): 360.0,  # 00:05
        datetime(2026, 11, 24, 0, 2, tzinfo=hanoi): 180.0,  # today's round still ahead
        datetime(2026, 11, 24, 0, 6, tzinfo=hanoi): 3600.0,
    }
    for now, seconds in moments.items():
        preparation = DailyVerification(AsOfViews.__new__(AsOfViews), now=repeat(now).__next__)
        assert preparation.seconds_to_next_round() == seconds
        assert preparation.yesterday() == now.date() - timedelta(days=1)
