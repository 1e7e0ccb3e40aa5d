"""Time to build the views "as of" a day (projections.as_of) over N events: from zero, and
from the kept schema of the day before (its tables copied, one day's events replayed: what
the nightly ``prepare`` does), and the time to serve an as-of request for a prepared day.

    .venv/bin/python -m bench.as_of --events 10000 100000 --day-share 0.01 [--all-indexes]

Writes N events (a rating and a case per submission: 2 events each) into a fresh database
on the infra PostgreSQL server, then times ``AsOfViews.build``. Results: docs/accountability.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from psycopg_pool import ConnectionPool

from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.store import open_cases_application
from projections.as_of import SKIPPED_INDEXES, AsOfViews
from tests.support.services import drop_database, fresh_database
from web.as_of import AsOfService

UNITS = (("nhat-tan", "nhat-tan-mc", "nhat-tan-q1"), ("quang-an", "quang-an-mc", "quang-an-q1"))


def submissions(count: int, start: datetime) -> list[IntakeSubmission]:
    return [
        IntakeSubmission(
            submission_id=uuid.uuid4(), channel=Channel.QR, unit_id=UNITS[i % 2][0],
            office_id=UNITS[i % 2][1], counter_id=UNITS[i % 2][2],
            submitted_at=start + timedelta(minutes=i), rating=1 + i % 5,
            description="Hồ sơ bị trả lại nhiều lần." if i % 3 else "",
            category=ComplaintCategory.SECOND_TRIP,
            components={"officers": 1 + i % 5, "access": 1 + (i + 2) % 5},
        )
        for i in range(count)
    ]


def measure(
    events: int, day_share: float, serve_rounds: int = 20, all_indexes: bool = False
) -> None:
    db = fresh_database()
    app = open_cases_application(db)
    try:
        subs = submissions(events // 2, datetime(2026, 1, 1, 2, tzinfo=UTC))
        last_day = max(1, int(len(subs) * day_share))
        started = time.perf_counter()
        for chunk in range(0, len(subs) - last_day, 1000):
            app.record_submissions(subs[chunk:min(chunk + 1000, len(subs) - last_day)])
        generated = time.perf_counter() - started
        yesterday_cut = datetime.now(UTC)
        time.sleep(0.01)
        app.record_submissions(subs[len(subs) - last_day:])
        stored = app.recorder.max_notification_id() or 0
        everything = datetime.now(UTC)
        day_before, day = date(2026, 1, 1), date(2026, 1, 2)
        cuts = {day_before: yesterday_cut, day: everything}
        views = AsOfViews(app, db.conninfo, cut=lambda d: cuts[d],
                          skipped_indexes={} if all_indexes else SKIPPED_INDEXES)
        started = time.perf_counter()
        cold = views.build(day_before)  # from zero: nothing kept before it
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm = views.prepare(day)[0]  # the nightly step: from the day before's copy
        warm_s = time.perf_counter() - started
        assert cold.base is None and warm.base == day_before and warm.position == stored
        served = serve(views, db.conninfo, day, serve_rounds)
        phases = ", ".join(f"{k} {v:.2f}" for k, v in warm.phases.items())
        print(f"{stored:>9,} events (generated in {generated:.0f} s)\n"
              f"  from zero   {cold_s:7.2f} s ({cold.events / cold_s:,.0f} events/s)\n"
              f"  from the day before ({warm.events:,} events that day) {warm_s:6.2f} s"
              f" [{phases}]\n"
              f"  serving the prepared day: catalog + headline figures p50 {served[0]:.1f} ms,"
              f" max {served[1]:.1f} ms")
        views.drop_all()
    finally:
        app.close()
        drop_database(db)


def serve(views: AsOfViews, conninfo: str, day: date, rounds: int) -> tuple[float, float]:
    """What an as-of request does once its day is prepared: find the schema in the catalog,
    then read the headline figures and the overdue list of every unit (milliseconds)."""
    pool = ConnectionPool(conninfo, min_size=1, max_size=2, open=True)
    try:
        service = AsOfService(views, pool)
        units = [u[0] for u in UNITS]
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            figures = service.figures(day)
            figures.by_unit(units, date(2025, 12, 1), day)
            figures.overdue_count(units, day)
            figures.overdue_list(units, day)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), max(times)
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--day-share", type=float, default=0.01)
    parser.add_argument("--all-indexes", action="store_true",
                        help="build every index of the live views (as before they were skipped)")
    args = parser.parse_args()
    for events in args.events:
        measure(events, args.day_share, all_indexes=args.all_indexes)


if __name__ == "__main__":
    main()
