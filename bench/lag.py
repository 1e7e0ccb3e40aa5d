"""Projection lag: a handler's action → visible in the queue view, p50/p99.

The projection runner runs as its own process (``feedback project``, as ``make up`` runs
it); this process opens the Cases application on the same fresh database, records
complaints, waits until the queue shows them, then has a handler accept them one by one
through ``CaseDesk`` and polls the queue row (``ViewQueries.case``) every 2 ms until it
shows the new version. The lag counts from the start of ``CaseDesk.act`` (what the
handler's click waits for) to the row being visible. Actions are spaced by a random
0–100 ms so they do not fall in step with the runner's 100 ms polling.

    python -m bench.lag [--actions 150]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.processes import platform_processes
from bench.results import Figure, record
from bench.rss import GOAL_PEAK_RSS_MB, peak_rss_mb
from feedback_cli.services import open_core
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.legal_clock import DEFAULT_RULES
from feedback_core.permissions import Action
from feedback_core.roles import Actor, Role
from feedback_core.settings import Settings
from projections.queries import ViewQueries

GOAL_P99_MS = 200.0
RUNNER_POLL_MS = 100.0  # BatchedProjectionRunner.run_forever's default poll interval
HANDLER = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")


@dataclass
class LagFigures:
    ms: list[float] = field(default_factory=list)
    timeouts: int = 0
    peak_rss_projection: float = 0.0

    def pct(self, q: int) -> float:
        return statistics.quantiles(self.ms, n=100, method="inclusive")[q - 1]


def complaints(count: int) -> list[IntakeSubmission]:
    now = datetime.now(UTC)
    return [
        IntakeSubmission(
            submission_id=uuid.uuid4(), channel=Channel.QR, unit_id="nhat-tan",
            office_id="nhat-tan-mc", counter_id="nhat-tan-q1", submitted_at=now, rating=2,
            description=f"Đo độ trễ của hàng đợi #{i}", category=ComplaintCategory.DELAY,
        )
        for i in range(count)
    ]


def wait_visible(check: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.002)
    return False


def run(actions: int, seed: int = 8) -> LagFigures:
    figures = LagFigures()
    rng = random.Random(seed)
    with platform_processes(services=()) as stack:
        settings = Settings(database_url=stack.database.url,
                            kafka_bootstrap_servers=stack.resources.bootstrap)
        with open_core(settings) as core:
            subs = complaints(actions)
            core.app.record_submissions(subs)
            last = core.app.recorder.max_notification_id() or 0
            stack.spawn("project")  # after the tables exist: its own process from here
            queries = ViewQueries(stack.database.conninfo, settings.views_schema)
            try:
                if not wait_visible(lambda: _position(queries) >= last, 120):
                    raise TimeoutError("the projection runner did not catch up in 120 s")
                desk = CaseDesk(core.app, lambda actor: {"nhat-tan"}, core.calendar.calendar,
                                DEFAULT_RULES)
                for sub in subs:
                    time.sleep(rng.uniform(0, 0.1))
                    case_id = case_id_for(sub.submission_id)
                    began = time.perf_counter()
                    desk.act(case_id, 1, HANDLER, Request(Action.ACCEPT), datetime.now(UTC))
                    seen = wait_visible(lambda cid=case_id: _version(queries, cid) >= 2, 5)
                    if seen:
                        figures.ms.append((time.perf_counter() - began) * 1000)
                    else:
                        figures.timeouts += 1
            finally:
                queries.close()
            figures.peak_rss_projection = peak_rss_mb(stack.procs["project"].pid)
    return figures


def _position(queries: ViewQueries) -> int:
    try:
        return queries.positions().get("case_views", 0)
    except Exception:  # the runner has not created its schema yet
        return 0


def _version(queries: ViewQueries, case_id: uuid.UUID) -> int:
    row = queries.case(case_id)
    return row.version if row else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lag", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=150, help="handler actions timed")
    args = parser.parse_args(argv)
    f = run(args.actions)
    print(f"projection lag, handler action → visible in the queue ({len(f.ms)} actions, "
          f"{f.timeouts} not visible within 5 s; runner polls every {RUNNER_POLL_MS:.0f} ms)")
    print(f"  p50 {f.pct(50):.1f} ms  p99 {f.pct(99):.1f} ms  max {max(f.ms):.1f} ms; "
          f"goal p99 ≤ {GOAL_P99_MS:.0f} ms: {'met' if f.pct(99) <= GOAL_P99_MS else 'NOT met'}")
    print(f"  peak RSS of the projection process {f.peak_rss_projection:.0f} MB")
    record("lag", [
        Figure("projection lag p99 (action → queue)", f.pct(99), "ms",
               "runner poll interval", RUNNER_POLL_MS, "<=", GOAL_P99_MS),
        Figure("projection lag p50 (action → queue)", f.pct(50), "ms",
               "runner poll interval", RUNNER_POLL_MS),
        Figure("actions not visible within 5 s", f.timeouts, "actions",
               goal_op="<=", goal_value=0),
        Figure("peak RSS, projection runner (lag run)", f.peak_rss_projection, "MB",
               goal_op="<=", goal_value=GOAL_PEAK_RSS_MB),
    ])
    return 0 if f.timeouts == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
