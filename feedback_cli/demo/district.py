"""``feedback demo-district``: extend the organisation, plan the district, store it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, time

from feedback_cli.demo.organisation import ensure_district
from feedback_cli.demo.plan import DistrictPlan, ScaleError, parse_scale
from feedback_cli.demo.populate import Report, populate
from feedback_core.application import CasesApplication
from feedback_core.local_time import LOCAL_ZONE
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.settings import Settings

DEFAULT_SEED = 2026


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the same seed, the same district"
    )
    cmd.add_argument(
        "--scale", default="small",
        help="small (~4,000 events), medium (~100,000), large (~1,000,000) or a number of events",
    )  # fmt: skip
    cmd.add_argument(
        "--days",
        type=int,
        default=0,
        help="days of history up to the start of today (default: 90, 180 or 365 by scale)",
    )


def generate_district(
    cases: CasesApplication,
    org_app: OrganisationApplication,
    seed: int = DEFAULT_SEED,
    scale: str = "small",
    days: int = 0,
    now: datetime | None = None,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """The organisation completed, then the district's history up to ``now`` (default:
    the start of today) stored."""
    events, default_days = parse_scale(scale)
    ensure_district(org_app)
    plan = DistrictPlan(
        directory_as_of(org_app),
        seed=seed,
        events=events,
        days=days or default_days,
        now=now or start_of_today(),
        calendar=cases.calendar(),
    )
    return populate(cases, plan.organisation, plan.submissions(), progress=progress)


def start_of_today() -> datetime:
    """Midnight in Hà Nội: the default end of the history, so that runs on the same day make
    the same plan (a moment of the day would let a step slip in between two runs)."""
    midnight = datetime.combine(datetime.now(LOCAL_ZONE).date(), time(), LOCAL_ZONE)
    return midnight.astimezone(UTC)


def cmd_demo_district(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import open_core
    from feedback_cli.wiring import open_organisation

    if args.days < 0:
        print("--days must be a positive number of days")
        return 2
    try:
        parse_scale(args.scale)
    except ScaleError as exc:
        print(exc)
        return 2
    with open_core(settings) as core:
        org_app = open_organisation(settings, core.db)
        try:
            report = generate_district(
                core.app,
                org_app,
                seed=args.seed,
                scale=args.scale,
                days=args.days,
                progress=_print_progress,
            )
        finally:
            org_app.close()
    print(report.line())
    print("the projections pick the new events up where they run (feedback run / project)")
    return 0


def _print_progress(report: Report) -> None:
    if report.submissions % 50_000 < 1000:
        print(f"  ... {report.line()}", flush=True)
