"""The dashboard's folded reads on real PostgreSQL (issue #6, speed): the grouped queries
equal the one-per-figure queries and a plain recount of the views' rows, the overdue
drill-down's pages add up to its figure, whole months read from the monthly rows equal
the days summed, and the case-id index of ``submission_status``
exists after ``create_views`` and after a bulk rebuild."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from feedback_core.application import CasesApplication
from feedback_core.handling import CaseDesk
from feedback_core.intake import Channel
from feedback_core.store import Database
from projections.case_views import CaseViews
from projections.figures import MEASURES
from projections.figures_queries import (
    FigureQueries,
    FigureQueriesAsOf,
    HeldOpen,
    ResolutionFigures,
    Totals,
)
from projections.queries import CLOSED_STATUSES, ViewQueries
from projections.rebuild import rebuild_into
from projections.views import create_views
from tests.integration.test_figures import OCTOBER, TODAY, at, run, scenario
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

DISTRICT = ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
CHILDREN = {"nhat-tan": ["nhat-tan"], "quang-an": ["quang-an"], "phu-thuong": ["phu-thuong"]}
UNANSWERED = 230  # open complaints from 1 October, all overdue by 23 November


@pytest.fixture
def figures(app: CasesApplication, desk: CaseDesk, database: Database
            ) -> Iterator[FigureQueries]:
    """The figures scenario plus complaints nobody answered, spread over two wards and two
    channels, projected."""
    scenario(app, desk)
    app.record_submissions([
        submission(unit_id=unit, office_id=f"{unit}-mc", counter_id=f"{unit}-q1",
                   channel=Channel.QR if n % 3 else Channel.HOTLINE,
                   submitted_at=at(date(2026, 10, 1 + n % 20)))
        for n in range(UNANSWERED)
        for unit in (("phu-thuong",) if n % 4 == 0 else ("quang-an",))
    ])
    run(app, database, page_size=500)
    views = ViewQueries(database.conninfo)
    yield FigureQueries(views.pool)
    views.close()


def queue_rows(database: Database) -> list[dict[str, Any]]:
    with psycopg.connect(database.conninfo) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM views.case_queue")
        names = [c.name for c in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def is_overdue(row: dict[str, Any]) -> bool:
    """The overdue rule written out again, in Python: open, not answered, due before
    today, the clock not stopped before the due date."""
    waiting = row["waiting_since"]
    return (row["status"] not in (*CLOSED_STATUSES, "answered", "resolved")
            and row["due_on"] < TODAY and (waiting is None or waiting >= row["due_on"]))


def test_the_open_cases_read_once_equal_a_plain_recount(
    figures: FigureQueries, database: Database
) -> None:
    found = figures.open_breakdown(DISTRICT, CHILDREN, TODAY)
    rows = [r for r in queue_rows(database) if r["unit_id"] in DISTRICT]
    overdue = [r for r in rows if is_overdue(r)]
    per_unit = Counter(r["unit_id"] for r in overdue)
    assert found.overdue == len(overdue) > UNANSWERED
    assert found.by_group == {child: per_unit[child] for child in CHILDREN}
    assert found.by_group["quang-an"] > found.by_group["phu-thuong"] > 0
    assert found.by_channel == dict(Counter(r["channel"] for r in overdue))
    assert set(found.by_channel) == {"qr", "hotline"}
    held = [r for r in rows if r["assignee"] and r["status"] not in (*CLOSED_STATUSES,
                                                                       "resolved")]
    assert found.held == {
        who: HeldOpen(sum(1 for r in held if r["assignee"] == who),
                      sum(1 for r in held if r["assignee"] == who and is_overdue(r)))
        for who in {r["assignee"] for r in held}
    }
    # And the queries one figure at a time, which the drill-down lists share.
    assert found.overdue == figures.overdue_count(DISTRICT, TODAY)
    for child, below in CHILDREN.items():
        assert found.by_group[child] == figures.overdue_count(below, TODAY)
    assert found.by_channel == figures.overdue_by(DISTRICT, TODAY, "channel")
    assert found.held == figures.held_open(DISTRICT, TODAY)


def test_the_daily_and_resolution_figures_read_once_equal_their_queries(
    figures: FigureQueries,
) -> None:
    start, end = OCTOBER
    daily = figures.totals_breakdown(DISTRICT, start, end)
    assert daily.by_unit == figures.by_unit(DISTRICT, start, end)
    assert daily.by_counter == figures.by_counter(DISTRICT, start, end)
    assert daily.by_channel == figures.by_channel(DISTRICT, start, end)
    trend = figures.trend(DISTRICT, start, end)  # zeros filled in, every day
    assert [d.day for d in trend] == [date(2026, 10, n) for n in range(1, 32)]
    assert sum(d.received for d in trend) == sum(t.received for t in daily.by_unit.values())
    assert sum(t.received for t in daily.by_unit.values()) > UNANSWERED
    handling = figures.resolution_breakdown(DISTRICT, CHILDREN, start, end)
    rolled = figures.handling_time_rolled({"": DISTRICT, **CHILDREN}, start, end)
    assert handling.overall == rolled.pop("") and handling.overall.resolved > 0
    assert handling.by_group == rolled
    assert handling.by_channel == figures.handling_time_by(DISTRICT, start, end, "channel")
    assert handling.by_officer == figures.handling_time_by(DISTRICT, start, end, "officer")


def test_the_overdue_pages_add_up_to_the_figure(figures: FigureQueries) -> None:
    count = figures.overdue_count(DISTRICT, TODAY)
    whole = figures.overdue_list(DISTRICT, TODAY)
    pages = [figures.overdue_page(DISTRICT, TODAY, offset, 100)
             for offset in range(0, count + 100, 100)]
    assert [len(p) for p in pages] == [100, 100, count - 200, 0]
    assert [r.case_id for p in pages for r in p] == [r.case_id for r in whole]
    holder_rows = figures.overdue_list_held_by(DISTRICT, TODAY, "canbo.nhattan")
    assert figures.overdue_page(DISTRICT, TODAY, 0, 100, "canbo.nhattan") == holder_rows


def indexes(database: Database, schema: str, table: str = "submission_status") -> set[str]:
    with psycopg.connect(database.conninfo) as conn:
        return {row[0] for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
            (schema, table))}


def test_submission_status_has_its_case_index_live_and_rebuilt(
    app: CasesApplication, database: Database
) -> None:
    app.record_submissions([submission()])
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        create_views(conn, "views")
        assert "submission_status_by_case" in indexes(database, "views")
        # A deployment made before the index gets it at its next start, no replay.
        conn.execute("DROP INDEX views.submission_status_by_case")
        create_views(conn, "views")
    assert "submission_status_by_case" in indexes(database, "views")
    rebuild_into(app, database.conninfo, CaseViews(), "views_rebuild")
    assert "submission_status_by_case" in indexes(database, "views_rebuild")
    assert "case_queue_unresolved_by_unit" in indexes(database, "views_rebuild", "case_queue")
    # The projection's UPDATE ... WHERE case_id = $1 can use the (partial) index even as a
    # generic plan; seq scans are priced out since the test table is tiny.
    with psycopg.connect(database.conninfo) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("PREPARE by_case(uuid) AS UPDATE views_rebuild.submission_status "
                     "SET status = 'x' WHERE case_id = $1")
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN EXECUTE by_case('{uuid4()}')"))
    assert "submission_status_by_case" in plan


def test_percentiles_from_a_histogram_equal_postgresql_percentile_cont(
    database: Database,
) -> None:
    """``resolution_breakdown`` interpolates from counts per working day; PostgreSQL's own
    ``percentile_cont`` over the expanded values is the oracle, for awkward sizes too."""
    from projections.figures_queries import _from_histogram

    rng = random.Random(6)
    with psycopg.connect(database.conninfo) as conn:
        for size in (1, 2, 3, 7, 10, 11, 101, 999):
            values = [rng.choice((0, 1, 1, 2, 5, 9, 13, 40)) for _ in range(size)]
            median, p90 = conn.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(%s::int[]) v",
                (values,),
            ).fetchone() or (None, None)
            counts = Counter(values)
            bins = sorted((days, n, n, 0, 0) for days, n in counts.items())
            figures = _from_histogram(bins)
            assert (figures.resolved, figures.median_days, figures.p90_days) == (
                size, median, p90), size


@pytest.mark.parametrize("start, end", [
    (date(2026, 10, 1), date(2026, 10, 31)),  # one whole month: the histogram only
    (date(2026, 9, 1), date(2026, 11, 30)),  # whole months around the resolutions
    (date(2026, 10, 3), date(2026, 11, 17)),  # no whole month: resolution rows only
    (date(2026, 9, 20), date(2026, 11, 10)),  # both: October whole, edges from the rows
    (date(2026, 10, 10), date(2026, 10, 20)),  # inside one month
])
def test_handling_times_from_the_monthly_histogram_equal_the_resolution_rows(
    figures: FigureQueries, start: date, end: date,
) -> None:
    """``resolution_breakdown`` reads ``figures_handling`` for whole months and the rows
    for the rest; the per-figure queries read every ``figures_resolution`` row."""
    handling = figures.resolution_breakdown(DISTRICT, CHILDREN, start, end)
    rolled = figures.handling_time_rolled({"": DISTRICT, **CHILDREN}, start, end)
    assert handling.overall == rolled.pop("", ResolutionFigures())
    assert handling.by_group == rolled
    assert handling.by_channel == figures.handling_time_by(DISTRICT, start, end, "channel")
    assert handling.by_officer == figures.handling_time_by(DISTRICT, start, end, "officer")
    listed = figures.resolutions(DISTRICT, start, end)  # the drill-down: the raw rows
    assert handling.overall.resolved == len(listed)


def test_the_whole_year_reads_the_histogram_and_counts_every_resolution(
    figures: FigureQueries, database: Database
) -> None:
    """The histogram is ``figures_resolution`` counted per month and working days, and
    the monthly split really takes the histogram's numbers (a changed bin shows)."""
    with psycopg.connect(database.conninfo) as conn:
        hist = conn.execute(
            "SELECT month, unit_id, channel, officer, working_days, resolved, "
            "on_time, early, late FROM views.figures_handling ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        recount = conn.execute(
            "SELECT date_trunc('month', day)::date, unit_id, channel, officer, "
            "working_days, count(*)::int, sum((answered_on <= due_on)::int)::int, "
            "sum((answered_on < due_on)::int)::int, sum((answered_on > due_on)::int)::int "
            "FROM views.figures_resolution GROUP BY 1, 2, 3, 4, 5 "
            "ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
    assert hist == recount and hist
    year = (date(2025, 11, 24), TODAY)
    before = figures.resolution_breakdown(DISTRICT, CHILDREN, *year)
    assert before.overall.resolved == len(figures.resolutions(DISTRICT, *year)) > 0
    with psycopg.connect(database.conninfo) as conn:
        conn.execute("UPDATE views.figures_handling SET resolved = resolved + 1000 "
                     "WHERE month = '2026-10-01' AND unit_id = ANY(%s)", (DISTRICT,))
    after = figures.resolution_breakdown(DISTRICT, CHILDREN, *year)
    assert after.overall.resolved > before.overall.resolved + 1000
    # As of a day the resolutions are read row by row: the changed bin does not show.
    as_of = FigureQueriesAsOf(figures.pool, date(2030, 1, 1))
    assert as_of.resolution_breakdown(DISTRICT, CHILDREN, *year) == before


def plain_totals(database: Database, column: str, start: date, end: date) -> dict[str, Totals]:
    """The daily figures summed straight from ``figures_daily``, grouped by ``column``."""
    sums = ", ".join(f"sum({m})::int" for m in MEASURES)
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(
            f"SELECT {column}, {sums} FROM views.figures_daily WHERE unit_id = ANY(%s) "
            "AND day BETWEEN %s AND %s GROUP BY 1", (DISTRICT, start, end)).fetchall()
    return {row[0]: Totals(*row[1:]) for row in rows}


@pytest.mark.parametrize("start, end", [
    (date(2026, 10, 1), date(2026, 10, 31)),  # one whole month: the monthly rows only
    (date(2026, 9, 1), date(2026, 11, 30)),  # whole months around every day
    (date(2026, 10, 3), date(2026, 11, 17)),  # no whole month: daily rows only
    (date(2026, 9, 20), date(2026, 11, 10)),  # both: October whole, edges from the days
    (date(2026, 10, 10), date(2026, 10, 20)),  # inside one month
    (date(2025, 11, 24), TODAY),  # the dashboard's year
])
def test_totals_from_the_monthly_rows_equal_a_plain_sum_of_the_days(
    figures: FigureQueries, database: Database, start: date, end: date,
) -> None:
    """``totals_breakdown`` and ``by_unit``/``by_counter``/``by_channel`` read whole months
    from ``figures_monthly``; the days summed straight are the oracle, and as of a day
    (``FigureQueriesAsOf`` sums the daily rows) the figures are the same."""
    daily = figures.totals_breakdown(DISTRICT, start, end)
    expected = {c: plain_totals(database, c, start, end)
                for c in ("unit_id", "counter_id", "channel")}
    assert daily.by_unit == expected["unit_id"] == figures.by_unit(DISTRICT, start, end)
    assert daily.by_counter == expected["counter_id"]
    assert daily.by_channel == expected["channel"] == figures.by_channel(DISTRICT, start, end)
    as_of = FigureQueriesAsOf(figures.pool, date(2030, 1, 1))
    assert as_of.totals_breakdown(DISTRICT, start, end) == daily
    with psycopg.connect(database.conninfo) as conn:
        components = conn.execute(
            "SELECT component, sum(ratings)::int, sum(score_sum)::int "
            "FROM views.figures_component WHERE unit_id = ANY(%s) AND day BETWEEN %s AND %s "
            "GROUP BY 1 ORDER BY 1", (DISTRICT, start, end)).fetchall()
    found = figures.components(DISTRICT, start, end)
    assert [(c.component, c.ratings, c.score_sum) for c in found] == components
    assert as_of.components(DISTRICT, start, end) == found


def test_the_monthly_rows_are_the_days_summed_and_really_read(
    figures: FigureQueries, database: Database
) -> None:
    """``figures_monthly`` is ``figures_daily`` summed per month over every recorded day
    (``figures_component_monthly`` likewise), and a whole month's totals really take its
    numbers (a changed row shows)."""
    keys = "unit_id, counter_id, channel"
    measures = ", ".join(MEASURES)
    sums = ", ".join(f"sum({m})::int" for m in MEASURES)
    with psycopg.connect(database.conninfo) as conn:
        monthly = conn.execute(
            f"SELECT month, {keys}, {measures} FROM views.figures_monthly ORDER BY 1, 2, 3, 4"
        ).fetchall()
        recount = conn.execute(
            f"SELECT date_trunc('month', day)::date, {keys}, {sums} FROM views.figures_daily "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ).fetchall()
    assert monthly == recount and len(monthly) > 1
    with psycopg.connect(database.conninfo) as conn:
        components = conn.execute(
            "SELECT month, unit_id, component, ratings, score_sum "
            "FROM views.figures_component_monthly ORDER BY 1, 2, 3").fetchall()
        recount = conn.execute(
            "SELECT date_trunc('month', day)::date, unit_id, component, sum(ratings)::int, "
            "sum(score_sum)::int FROM views.figures_component GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
    assert components == recount and components
    year = (date(2025, 11, 24), TODAY)
    before = figures.totals(DISTRICT, *year)
    assert before.received > UNANSWERED
    with psycopg.connect(database.conninfo) as conn:
        conn.execute("UPDATE views.figures_monthly SET received = received + 1000 "
                     "WHERE month = '2026-10-01' AND unit_id = 'quang-an' AND channel = 'qr'")
    assert figures.totals(DISTRICT, *year).received == before.received + 1000
    assert figures.totals(DISTRICT, date(2026, 10, 2), date(2026, 10, 31)) == Totals(
        **{m: sum(getattr(t, m) for t in plain_totals(
            database, "unit_id", date(2026, 10, 2), date(2026, 10, 31)).values())
           for m in MEASURES})  # no whole month: the days, untouched
