"""Figures "as of" a past day over a demo district (issue #6's goal: any past day ≤ 5 s at
1,000,000 events), read from the live tables' recorded days (``FigureQueriesAsOf``).

    .venv/bin/python -m bench.as_of --events 1000000 [--days 365] [--requests 20]
    .venv/bin/python -m bench.as_of --database URL   # a database kept by --keep: no generating

Makes a fresh database, has the demo-district generator (``bench.dashboard``'s, the same
one as ``feedback demo-district``) store ``--events`` events over ``--days`` days, its
submissions in order of time, with the store's recording clock following the business times
(each batch of 100 submissions recorded at its last one's time, each step at its own but
never before its batch: as if entered as they happened, each case's events recorded in
version order), projects
them (case views and figures, from zero, timed), then times the dashboard's queries for the
district (the calls ``bench.dashboard.time_queries`` makes) live, as of yesterday and as of
a day ``--back`` days ago: median and p95 in ms, and the as-of/live ratio. Recorded in
bench/results.json (source ``as_of``). Results: docs/accountability.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from bench.dashboard import applications, bench_database, project
from bench.queue import Figures
from bench.results import Figure, record
from feedback_cli.demo.organisation import ensure_district
from feedback_cli.demo.plan import DistrictPlan
from feedback_cli.demo.populate import BatchingDesk, Report, populate
from feedback_core.application import CasesApplication
from feedback_core.local_time import local_date
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from projections.figures_queries import FigureQueries, FigureQueriesAsOf
from tests.support.recorded_clock import RecordedClock, recorded_clock

GOAL_MS = 5000.0  # "as of" any past day at 1,000,000 events
BATCH = 100  # submissions stored per transaction (``populate``'s default: 1,000)


@contextmanager
def recorded_as_done(cases: CasesApplication, start: datetime) -> Iterator[RecordedClock]:
    """The recording clock set to each batch's last submission time and to each step's time
    while the generator runs (it handles a case's steps right after storing it), never
    before the batch's: a step taken before its case's batch was stored is recorded with
    the batch, so each case's events are recorded in version order, as one writer's clock
    records them (the queue's history, ``case_queue_daily``, relies on it)."""
    with recorded_clock(start) as clock:
        record_submissions = cases.record_submissions
        act, confirm = BatchingDesk.act, BatchingDesk.confirm_resolved
        stored = [start]  # when the current batch was recorded

        def submissions(subs: Any, *args: Any, **kwargs: Any) -> Any:
            stored[0] = max(s.submitted_at for s in subs)
            clock.set(stored[0])
            return record_submissions(subs, *args, **kwargs)

        def stepped(
            self: Any, case_id: Any, version: int, actor: Any, request: Any, at: datetime
        ) -> int:
            clock.set(max(at, stored[0]))
            return act(self, case_id, version, actor, request, at)

        def confirmed(self: Any, case_id: Any, at: datetime) -> int | None:
            clock.set(max(at, stored[0]))
            return confirm(self, case_id, at)

        cases.record_submissions = submissions  # type: ignore[method-assign,assignment]
        BatchingDesk.act = stepped  # type: ignore[method-assign,assignment]
        BatchingDesk.confirm_resolved = confirmed  # type: ignore[method-assign]
        try:
            yield clock
        finally:
            BatchingDesk.act, BatchingDesk.confirm_resolved = act, confirm  # type: ignore[method-assign]
            del cases.record_submissions


def generate_in_time_order(
    cases: CasesApplication, org: OrganisationApplication, seed: int, events: int, days: int,
    now: datetime,
) -> Report:
    """``generate_district``'s district, its submissions stored in order of submission time
    (the plan draws them in random order: recorded so, every batch would be recorded at
    about ``now`` and no past day would have a history), in batches of ``BATCH`` (about
    half an hour of a district's submissions: few are recorded on a later day than they
    came in, as the intake records each within seconds)."""
    ensure_district(org)
    plan = DistrictPlan(directory_as_of(org), seed=seed, events=events, days=days, now=now,
                        calendar=cases.calendar())
    planned = sorted(plan.submissions(), key=lambda p: p.submission.submitted_at)
    return populate(cases, plan.organisation, planned, batch=BATCH)


def dashboard_calls(
    source: FigureQueries, units: list[str], children: dict[str, list[str]], today: date
) -> list[tuple[str, Callable[[], object]]]:
    """What the district head's dashboard asks (90 days), and the year's totals."""
    quarter, year = today - timedelta(days=89), today - timedelta(days=364)
    return [
        ("totals_breakdown, 90 days", lambda: source.totals_breakdown(units, quarter, today)),
        ("totals_breakdown, 365 days", lambda: source.totals_breakdown(units, year, today)),
        (
            "resolution_breakdown, 90 days",
            lambda: source.resolution_breakdown(units, children, quarter, today),
        ),
        ("open_breakdown", lambda: source.open_breakdown(units, children, today)),
        ("components, 90 days", lambda: source.components(units, quarter, today)),
        ("trend, 90 days", lambda: source.trend(units, quarter, today)),
        ("overdue_page (100 rows)", lambda: source.overdue_page(units, today, 0, 100)),
        ("overdue_list (all rows)", lambda: source.overdue_list(units, today)),
    ]


def time_calls(
    calls: list[tuple[str, Callable[[], object]]], repeat: int, label: str
) -> list[Figures]:
    found = []
    for name, call in calls:
        for _ in range(2):
            call()
        took = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            took.append((time.perf_counter() - started) * 1000)
        found.append(Figures(f"{label}: {name}", took, took, ""))
    return found


def dashboard_ms(figures: list[Figures]) -> tuple[float, float]:
    """The dashboard's queries one after the other: sums of the medians and of the p95s."""
    return (
        sum(statistics.median(f.server_ms) for f in figures),
        sum(Figures.p95(f.server_ms) for f in figures),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.as_of",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--back", type=int, default=300, help="the old day: days before today")
    parser.add_argument("--requests", type=int, default=20, help="timed calls per query")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--database", metavar="URL", help="a database kept by --keep")
    parser.add_argument("--no-record", action="store_true", help="leave bench/results.json")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    today = local_date(now)
    with bench_database(args.database, args.keep) as db, applications(db) as (cases, org):
        if not args.database:
            started = time.perf_counter()
            with recorded_as_done(cases, now - timedelta(days=args.days + 1)):
                report = generate_in_time_order(cases, org, args.seed, args.events, args.days,
                                                now)
            print(f"generated: {report.line()} ({time.perf_counter() - started:.0f} s)", flush=True)
        projected = project(cases, db)
        events = cases.recorder.max_notification_id() or 0
        tree = directory_as_of(org, today)
        units = tree.subtree("tay-ho")
        children = {
            u.id: tree.subtree(u.id) for u in tree.units.values() if u.parent_id == "tay-ho"
        }
        pool: ConnectionPool[Any] = ConnectionPool(db.conninfo, min_size=1, max_size=2)
        try:
            with pool.connection() as conn:
                rows = conn.execute(
                    "SELECT (SELECT count(*) FROM views.figures_daily), "
                    "(SELECT count(*) FROM (SELECT DISTINCT unit_id, day, counter_id, channel "
                    " FROM views.figures_daily) d), (SELECT count(*) FROM views.case_queue), "
                    "(SELECT count(*) FROM views.case_queue_daily)"
                ).fetchone()
            assert rows is not None
            days = {
                "live": today,
                "yesterday": today - timedelta(days=1),
                f"{args.back} days back": today - timedelta(days=args.back),
            }
            timed: dict[str, list[Figures]] = {}
            for label, day in days.items():
                source = FigureQueries(pool) if label == "live" else FigureQueriesAsOf(pool, day)
                timed[label] = time_calls(
                    dashboard_calls(source, units, children, day), args.requests, label
                )
        finally:
            pool.close()
    print(
        f"\n{events:,} events; figures_daily {rows[0]:,} rows "
        f"({rows[1]:,} without recorded_on: x{rows[0] / max(rows[1], 1):.3f}); "
        f"case_queue {rows[2]:,} cases, case_queue_daily {rows[3]:,} versions"
    )
    print("projection from zero: " + ", ".join(f"{k} {v:.1f} s" for k, v in projected.items()))
    print(f"\n{'query (ms)':<50} {'median':>7} {'p95':>7}")
    for found in timed.values():
        for f in found:
            print(
                f"{f.name:<50} {statistics.median(f.server_ms):7.1f} "
                f"{Figures.p95(f.server_ms):7.1f}"
            )
    live = dashboard_ms(timed["live"])
    figures = []
    for label in list(days)[1:]:
        p50, p95 = dashboard_ms(timed[label])
        print(
            f"dashboard as of {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(live {live[0]:.1f} / {live[1]:.1f} ms: x{p95 / live[1]:.2f})"
        )
        figures += [
            Figure(
                f"dashboard queries as of {label}, p95 ({events:,} events)",
                p95,
                "ms",
                "live dashboard queries, p95",
                live[1],
                "<=",
                GOAL_MS,
            ),
            Figure(
                f"dashboard queries as of {label}, p50 ({events:,} events)",
                p50,
                "ms",
                "live dashboard queries, p50",
                live[0],
            ),
        ]
    growth = rows[0] / max(rows[1], 1)
    figures.append(
        Figure(
            "figures_daily rows with recorded_on / without",
            growth,
            "ratio",
            note=f"{events:,} events",
        )
    )
    if not args.no_record:
        record("as_of", figures)
    worst = max(f.value for f in figures if f.goal_op)
    verdict = "met" if worst <= GOAL_MS else "NOT met"
    print(f"goal as of any past day <= {GOAL_MS:.0f} ms: {verdict}")
    return 0 if worst <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
