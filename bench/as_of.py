"""Time to build the views "as of" a day (projections.as_of) over N events: from zero, and
from the kept schema of the day before (its tables copied, one day's events replayed).

    .venv/bin/python -m bench.as_of --events 10000 100000 --day-share 0.01

Writes N events (a rating and a case per submission: 2 events each) into a fresh database
on the infra PostgreSQL server, then times ``AsOfViews.build``. Results: docs/accountability.md.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta

from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.store import open_cases_application
from projections.as_of import AsOfViews
from tests.support.services import drop_database, fresh_database

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


def measure(events: int, day_share: float) -> None:
    db = fresh_database()
    app = open_cases_application(db)
    try:
        subs = submissions(events // 2, datetime(2026, 1, 1, 2, tzinfo=UTC))
        last_day = max(1, int(len(subs) * day_share))
        for chunk in range(0, len(subs) - last_day, 1000):
            app.record_submissions(subs[chunk:min(chunk + 1000, len(subs) - last_day)])
        yesterday_cut = datetime.now(UTC)
        time.sleep(0.01)
        app.record_submissions(subs[len(subs) - last_day:])
        stored = app.recorder.max_notification_id() or 0
        everything = datetime.now(UTC)
        cuts = {datetime(2026, 1, 1).date(): yesterday_cut, datetime(2026, 1, 2).date(): everything}
        views = AsOfViews(app, db.conninfo, cut=lambda day: cuts[day])
        zero = AsOfViews(app, db.conninfo, cut=lambda day: everything)
        started = time.perf_counter()
        cold = zero.build(datetime(2026, 1, 3).date())
        cold_s = time.perf_counter() - started
        views.build(datetime(2026, 1, 1).date())
        started = time.perf_counter()
        warm = views.build(datetime(2026, 1, 2).date())
        warm_s = time.perf_counter() - started
        assert warm.base is not None and warm.position == cold.position == stored
        print(f"{stored:>9,} events  from zero {cold_s:6.2f} s ({stored / cold_s:,.0f} events/s)"
              f"  from the day before ({warm.events:,} events of the last day) {warm_s:5.2f} s")
        views.drop_all()
    finally:
        app.close()
        drop_database(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--day-share", type=float, default=0.01)
    args = parser.parse_args()
    for events in args.events:
        measure(events, args.day_share)


if __name__ == "__main__":
    main()
