"""The rebuild benchmark: the views replayed from position zero, next to the library's
per-event runner in the same run (issue #8: 1,000,000 events in ≤ 30 s).

``python -m bench.rebuild`` stores a log of ``--events`` events (the spine's workload:
ratings, and a case on every second submission) with plain batched saves, then measures
``--repeat`` times, each into a fresh schema:

r. the rebuild of the case views (``projections.rebuild.rebuild_into``: the bulk path, the
   whole log folded in memory, COPY, indexes built after the load);
f. the same with the figures projection beside them (``rebuild_all_into``, what
   ``feedback rebuild`` runs when the live views hold the figures);
e. the library's ``ProjectionRunner`` (one transaction per event) over the first
   ``--library-events`` events of the same log.

``--before`` also times, once, the batched runner's page-by-page replay (the rebuild path
before the bulk one). Figures are medians; the ratio is the median of the per-repetition
ratios; each step of the bulk path (read + decode + fold, COPY, keys, indexes, ANALYZE) is
printed as the median of its seconds. The database is dropped at the end. See
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.spine import (
    GOAL_REBUILD_EVENTS,
    GOAL_REBUILD_SECONDS,
    TIMEOUT_S,
    Resources,
    checkpoint,
    make_workload,
    plain_save,
    print_profile,
    say,
    server_settings,
    source_state,
    versions,
)
from feedback_core.store import Database
from infra import postgres
from projections.case_views import CaseViews
from projections.figures_runner import figures_projection
from projections.library_baseline import run_library_projection
from projections.rebuild import rebuild_all_into, rebuild_into, rebuild_workers
from projections.runner import BatchedProjectionRunner


def timed(label: str, db: Database, run: Callable[[], object]) -> float:
    """Seconds of ``run()``, after a CHECKPOINT so it does not pay for the previous step;
    the CPU seconds of this process and of its worker processes beside them (on a loaded
    machine the wall clock also counts the time other processes had the cores)."""
    checkpoint(db)
    began, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    run()
    seconds = time.perf_counter() - began
    say(
        f"    {label:<40} {seconds:8.2f} s  (this process's CPU "
        f"{time.process_time() - cpu:.2f} s, its workers' {_children_cpu() - children:.2f} s;"
        f" load {os.getloadavg()[0]:.1f})"
    )
    return seconds


def _children_cpu() -> float:
    """CPU seconds of the ended child processes (the rebuild's workers) so far."""
    times = os.times()
    return times.children_user + times.children_system


def say_phases(label: str, runs: list[dict[str, float]]) -> None:
    """The median seconds of each step of the bulk path over the repetitions."""
    say(f"  {label}, median seconds per step:")
    for name in runs[0]:
        say(f"    {name:<38} {statistics.median(run.get(name, 0.0) for run in runs):8.2f}")


def page_by_page(app: Any, db: Database, schema: str) -> int:
    """The rebuild path before the bulk one: the live runner's pages of 5,000."""
    runner = BatchedProjectionRunner(app, db.conninfo, CaseViews(), schema, page_size=5000)
    try:
        return runner.catch_up()
    finally:
        runner.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rebuild",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events",
        type=int,
        default=GOAL_REBUILD_EVENTS,
        help="events in the log (default 1,000,000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument(
        "--library-events",
        type=int,
        default=5_000,
        help="sample for the library's per-event runner (default 5,000)",
    )
    parser.add_argument(
        "--before", action="store_true", help="also time the page-by-page replay once"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile one case-views rebuild (cProfile) and print the top",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes of the rebuild (default: two from 50,000 events on two cores)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 (a script, read top-down)
    args = parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):
        postgres.ensure_running()
    res = Resources(bootstrap="")
    began = time.perf_counter()
    say("Phản ánh — rebuild benchmark (python -m bench.rebuild)")
    say(
        f"  {platform.node()}; {os.cpu_count()} cores; load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    say(f"  Python {platform.python_version()}; {versions()}; {source_state()}")
    try:
        db = res.database("rebuild")
        settings = server_settings(db)
        say(
            f"  PostgreSQL {settings['server_version']} (fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}, "
            f"shared_buffers={settings['shared_buffers']})"
        )
        workload = make_workload(max(2, round(args.events / 1.5)))
        say(
            f"  workload: {workload.events:,} events ({len(workload.submissions):,} ratings, "
            f"{workload.complaints:,} cases); {args.repeat} repetition(s)"
        )
        stored = plain_save(db, workload)
        app = stored.cases.app
        del workload
        say(f"  log stored in {stored.build_seconds + stored.seconds:.0f} s")
        events = app.recorder.max_notification_id() or 0
        say(f"  rebuild processes: {rebuild_workers(app, args.workers)}")
        figures = figures_projection(app)
        rates: dict[str, list[float]] = {"r": [], "f": [], "e": []}
        phases: dict[str, list[dict[str, float]]] = {"r": [], "f": []}
        applied: list[int] = []  # events the library runner applied, per repetition
        for rep in range(1, args.repeat + 1):
            say(f"  repetition {rep}")
            phases["r"].append({})
            seconds = timed(
                f"r. rebuild case views, {events:,} events",
                db,
                lambda: rebuild_into(
                    app, db.conninfo, CaseViews(), "bench_rebuild", phases["r"][-1], args.workers
                ),
            )
            rates["r"].append(events / seconds)
            phases["f"].append({})
            seconds = timed(
                "f. rebuild case views + figures",
                db,
                lambda: rebuild_all_into(
                    app,
                    db.conninfo,
                    [CaseViews(), figures],
                    "bench_rebuild",
                    phases["f"][-1],
                    args.workers,
                ),
            )
            rates["f"].append(events / seconds)
            schema = f"bench_library_{rep}"
            seconds = timed(
                f"e. library runner, first {args.library_events:,}",
                db,
                lambda s=schema: applied.append(
                    run_library_projection(  # type: ignore[misc]
                        db, s, timeout=TIMEOUT_S, upto=args.library_events
                    )
                ),
            )
            rates["e"].append(applied[-1] / seconds)
        before = None
        if args.before:
            seconds = timed(
                "page-by-page replay (before)", db, lambda: page_by_page(app, db, "bench_pages")
            )
            before = events / seconds
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(rebuild_into, app, db.conninfo, CaseViews(), "bench_rebuild")
            print_profile("case-views rebuild", profiler, 25)
        say_phases("r. case views", phases["r"])
        say_phases("f. case views + figures", phases["f"])
        report(events, rates, before, record=not args.no_record)
        stored.cases.close()
    finally:
        res.close()
    say(
        f"({time.perf_counter() - began:.0f} s in all; load average now "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; database dropped)"
    )
    return 0


def report(events: int, rates: dict[str, list[float]], before: float | None, record: bool) -> None:
    median = {k: statistics.median(v) for k, v in rates.items()}
    ratio = {
        k: statistics.median(a / b for a, b in zip(rates[k], rates["e"], strict=True))
        for k in ("r", "f")
    }
    say()
    for key, label in (("r", "rebuild, case views"), ("f", "rebuild, case views + figures")):
        million = GOAL_REBUILD_EVENTS / median[key]
        met = "met" if million <= GOAL_REBUILD_SECONDS else "NOT met"
        say(
            f"  {label:<32} {median[key]:>9,.0f} events/s ({min(rates[key]):,.0f}–"
            f"{max(rates[key]):,.0f}), {ratio[key]:.1f} × library; 1 M events in "
            f"{million:.1f} s{'' if events >= GOAL_REBUILD_EVENTS else ' (extrapolated)'}"
            f" — goal ≤ {GOAL_REBUILD_SECONDS:.0f} s {met}"
        )
    say(f"  {'library ProjectionRunner':<32} {median['e']:>9,.0f} events/s (per event)")
    if before:
        say(f"  {'page-by-page replay (before)':<32} {before:>9,.0f} events/s, once")
    if record:
        from bench.results import Figure
        from bench.results import record as record_figures

        goal = GOAL_REBUILD_EVENTS / GOAL_REBUILD_SECONDS
        record_figures(
            "rebuild",
            [
                Figure(
                    "rebuild of the case views (bulk)",
                    median["r"],
                    "events/s",
                    "library ProjectionRunner",
                    median["e"],
                    ">=",
                    goal,
                    note=f"{events:,} events; 1 M in ≤ {GOAL_REBUILD_SECONDS:.0f} s",
                ),
                Figure(
                    "rebuild of case views + figures (bulk)",
                    median["f"],
                    "events/s",
                    "library ProjectionRunner",
                    median["e"],
                    ">=",
                    goal,
                    note=f"{events:,} events; 1 M in ≤ {GOAL_REBUILD_SECONDS:.0f} s",
                ),
            ],
        )


if __name__ == "__main__":
    sys.exit(main())
