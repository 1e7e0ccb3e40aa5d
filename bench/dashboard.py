"""The dashboard benchmark: the head's pages over a demo district of about 1,000,000 events.

``python -m bench.dashboard`` makes a fresh database, loads the demo organisation, has the
demo-district generator (``feedback_cli.demo``) store ``--events`` events over ``--days``
days through the intake handler and the case desk (timed: events/s), runs the case views
and the figures projections from zero (timed), then times the dashboard of the district
head (``lanhdao.tayho``) through the FastAPI app for several periods, a ward's view, a CSV
export and the overdue drill-down (first and fifth page of 100): median and p95 of the
server time over ``--requests`` requests after a few warm-up ones
(``bench.queue.ServerTimer``). Goal: p95 ≤ 100 ms at 1,000,000 events. The database is
dropped at the end, unless ``--keep``; ``--database URL`` times a kept one (e.g. the one
``python -m bench.as_of --keep`` generated) without generating, projecting only what the
views lack. Recorded in bench/results.json (source ``dashboard``). Results:
docs/accountability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from bench.queue import Figures, NullPublisher, ServerTimer, fresh_database, sign_in
from bench.results import Figure, record
from feedback_cli.demo.district import generate_district
from feedback_cli.demo.populate import Report
from feedback_core.application import CasesApplication
from feedback_core.local_time import local_date
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.org.loading import load_organisation_file
from feedback_core.settings import DEMO_ORGANISATION, Settings
from feedback_core.store import Database, open_application, open_cases_application
from infra import postgres
from projections.case_views import CaseViews
from projections.figures import FiguresViews, ensure_current_version
from projections.figures_queries import FigureQueries
from projections.queries import ViewQueries
from projections.runner import BatchedProjectionRunner

GOAL_P95_MS = 100.0
HEAD = "lanhdao.tayho"


@dataclass(frozen=True)
class Page:
    name: str
    path: str


def pages(today: date) -> list[Page]:
    def since(days: int) -> str:
        return f"from={today - timedelta(days=days - 1)}&to={today}"

    return [
        Page("district, this month (default)", "/staff/dashboard"),
        Page("district, last 30 days", f"/staff/dashboard?{since(30)}"),
        Page("district, last 90 days", f"/staff/dashboard?{since(90)}"),
        Page("district, last 365 days", f"/staff/dashboard?{since(365)}"),
        Page("one ward, last 90 days", f"/staff/dashboard?unit=nhat-tan&{since(90)}"),
        Page("CSV of the units table, 90 days", f"/staff/dashboard?format=csv&{since(90)}"),
        Page("overdue drill-down (district)", "/staff/dashboard/overdue"),
        Page("overdue drill-down, page 5", "/staff/dashboard/overdue?page=5"),
    ]


@contextlib.contextmanager
def applications(db: Database) -> Iterator[tuple[CasesApplication, OrganisationApplication]]:
    cases = open_cases_application(db)
    org = open_application(db, lambda env: OrganisationApplication(env=env))
    try:
        load_organisation_file(org, DEMO_ORGANISATION)
        yield cases, org
    finally:
        cases.close()
        org.close()


def generate(
    cases: CasesApplication,
    org: OrganisationApplication,
    events: int,
    days: int,
    now: datetime,
    seed: int,
) -> Report:
    last = [0]

    def progress(report: Report) -> None:
        if report.events - last[0] >= 100_000:
            last[0] = report.events
            print(f"  {report.line()}", flush=True)

    return generate_district(
        cases, org, seed=seed, scale=str(events), days=days, now=now, progress=progress
    )


def project(cases: CasesApplication, db: Database) -> dict[str, float]:
    """Each projection from its position (zero in a fresh database; a kept one's figures
    of an older ``FIGURES_VERSION`` are dropped and replayed, as ``feedback run`` does);
    returns seconds per projection."""
    took: dict[str, float] = {}
    with psycopg.connect(db.conninfo) as conn:
        ensure_current_version(conn, "views")
    for projection in (CaseViews(), FiguresViews()):
        started = time.perf_counter()
        runner = BatchedProjectionRunner(cases, db.conninfo, projection)
        try:
            count = runner.catch_up()
        finally:
            runner.close()
        seconds = time.perf_counter() - started
        name = type(projection).__name__
        took[name] = seconds
        print(
            f"projected {count:,} events into {name} in {seconds:.1f} s "
            f"({count / seconds:,.0f} events/s)",
            flush=True,
        )
    return took


def measure(client: TestClient, timer: ServerTimer, page: Page, repeat: int) -> Figures:
    for _ in range(3):  # warm-up: plans, pool connections, template cache
        client.get(page.path)
    server: list[float] = []
    wall: list[float] = []
    answer: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(page.path)
        wall.append((time.perf_counter() - started) * 1000)
        server.append(timer.last_ms)
        assert answer.status_code == 200, f"{page.path}: {answer.status_code}"
    found = f"{len(answer.content) // 1024} KiB"
    overdue = re.search(r'id="overdue-figure"[^>]*>([^<]*)<', answer.text)
    if overdue:
        found += f", {overdue.group(1)} overdue"
    return Figures(page.name, server, wall, found)


def time_pages(
    cases: CasesApplication, org: OrganisationApplication, db: Database, now: datetime, repeat: int
) -> list[Figures]:
    from web.app import create_app
    from web.services import WebServices

    queries = ViewQueries(db.conninfo)

    async def health() -> dict[str, Any]:
        return {}

    services = WebServices(
        settings=Settings(secret_key="bench-dashboard"),
        organisation=directory_as_of(org, local_date(now)),
        publisher=NullPublisher(),  # type: ignore[arg-type]
        queries=queries,
        health=health,
        clock=lambda: now,
    )
    timer = ServerTimer(create_app(services))
    try:
        with TestClient(timer, base_url="http://bench") as client:  # type: ignore[arg-type]
            sign_in(client, HEAD)
            return [measure(client, timer, page, repeat) for page in pages(local_date(now))]
    finally:
        queries.close()


def time_queries(
    db: Database, units: list[str], children: dict[str, list[str]], today: date, repeat: int
) -> list[Figures]:
    """The figure queries behind the pages, called directly: SQL time without rendering."""
    views = ViewQueries(db.conninfo)
    source = FigureQueries(views.pool)
    quarter, year = today - timedelta(days=89), today - timedelta(days=364)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("query totals_breakdown, 90 days",
         lambda: source.totals_breakdown(units, quarter, today)),
        ("query totals_breakdown, 365 days",
         lambda: source.totals_breakdown(units, year, today)),
        ("query resolution_breakdown, 90 days",
         lambda: source.resolution_breakdown(units, children, quarter, today)),
        ("query open_breakdown", lambda: source.open_breakdown(units, children, today)),
        ("query resolution_breakdown, 365 days",
         lambda: source.resolution_breakdown(units, children, year, today)),
        ("query components, 90 days", lambda: source.components(units, quarter, today)),
        ("query components, 365 days", lambda: source.components(units, year, today)),
        ("query trend, 90 days", lambda: source.trend(units, quarter, today)),
        ("query trend, 365 days", lambda: source.trend(units, year, today)),
        ("query overdue_page (100 rows)", lambda: source.overdue_page(units, today, 0, 100)),
        ("query overdue_list (all rows)", lambda: source.overdue_list(units, today)),
    ]
    found: list[Figures] = []
    try:
        for name, call in calls:
            for _ in range(3):
                call()
            took: list[float] = []
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                took.append((time.perf_counter() - started) * 1000)
            found.append(Figures(name, took, took, ""))
    finally:
        views.close()
    return found


@contextlib.contextmanager
def bench_database(url: str | None, keep: bool) -> Iterator[Database]:
    """``url``'s database as it is, else a fresh one (dropped at the end unless ``keep``)."""
    if url:
        yield Database.from_url(url)
        return
    if not keep:
        with fresh_database() as db:
            yield db
        return
    postgres.ensure_running()
    name = f"bench_dashboard_{uuid.uuid4().hex[:8]}"
    with contextlib.redirect_stdout(io.StringIO()):
        postgres.create_database(name)
    params = postgres.connection_info(name)
    db = Database(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        dbname=name,
    )
    print(f"keeping the database: --database {db.url}", flush=True)
    yield db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the district")
    parser.add_argument("--days", type=int, default=365, help="days of history")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and print its URL (for --database)"
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a database kept by --keep: time the pages only, no generating",
    )
    parser.add_argument("--no-record", action="store_true", help="leave bench/results.json")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    with bench_database(args.database, args.keep) as db, applications(db) as (cases, org):
        if not args.database:
            report = generate(cases, org, args.events, args.days, now, args.seed)
            print(f"generated: {report.line()}", flush=True)
        project(cases, db)
        events = cases.recorder.max_notification_id() or 0
        figures = time_pages(cases, org, db, now, args.requests)
        tree = directory_as_of(org, local_date(now))
        children = {u.id: tree.subtree(u.id) for u in tree.units.values()
                    if u.parent_id == "tay-ho"}
        queries = time_queries(db, tree.subtree("tay-ho"), children, local_date(now),
                               args.requests)
    print()
    print(f"{'page (ms)':<40} {'median':>7} {'p95':>7} {'wall':>7} {'wall95':>7}   found")
    for figure in [*figures, *queries]:
        print(figure.line())
    worst = max(Figures.p95(f.server_ms) for f in figures)
    if not args.no_record:
        record("dashboard", [
            *(Figure(f"{f.name}, server p95 ({events:,} events)", Figures.p95(f.server_ms),
                     "ms", goal_op="<=", goal_value=GOAL_P95_MS) for f in figures),
            *(Figure(f"{f.name}, p95 ({events:,} events)", Figures.p95(f.server_ms), "ms")
              for f in queries),
        ])
    verdict = "met" if worst <= GOAL_P95_MS else "NOT met"
    print(
        f"\n{events:,} events; worst server p95 {worst:.1f} ms; "
        f"goal p95 <= {GOAL_P95_MS:.0f} ms: {verdict}"
    )
    return 0 if worst <= GOAL_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
