"""``feedback as-of verify --day YYYY-MM-DD``: replay the log's prefix of a past day and
compare every figure with what the live tables give as of that day (``projections.as_of``:
the projection process does it for yesterday after each local midnight); exit 0 equal,
1 different (each difference printed). ``feedback as-of prepare [--day D] [--days N]``
builds replayed days ahead (each the next one's base)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from typing import Any

from feedback_core.local_time import local_date
from feedback_core.settings import Settings


def add_as_of_parser(sub: Any) -> None:
    as_of = sub.add_parser("as-of", help="the 'as of' views of past days",
                           description="the 'as of' views of past days")
    commands = as_of.add_subparsers(dest="as_of_command", required=True)
    prepare = commands.add_parser(
        "prepare", help="build a past day's as-of views (yesterday by default) from the day "
        "before's", description="build a past day's as-of views from the day before's",
    )
    prepare.add_argument("--day", type=date.fromisoformat, metavar="YYYY-MM-DD",
                         help="the day (yesterday, local time, by default)")
    prepare.add_argument("--days", type=int, default=1, metavar="N",
                         help="also the N-1 days before it, oldest first (default 1)")
    prepare.set_defaults(as_of_handler=cmd_prepare)
    verify = commands.add_parser(
        "verify", help="replay a past day and compare every figure with the live tables'",
        description="replay the log recorded by the end of a past day and compare every "
        "figure with what the live tables give as of that day: exit 0 equal, 1 different",
    )
    verify.add_argument("--day", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the day (yesterday, local time, by default)")
    verify.set_defaults(as_of_handler=cmd_verify)


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import open_core
    from projections.as_of import AsOfBusy, AsOfViews, verify_day

    today = local_date(datetime.now(UTC))
    day: date = args.day or today - timedelta(days=1)
    if day >= today:
        print("as-of verify: --day must be a past day")
        return 2
    with open_core(settings) as core:
        try:
            verified = verify_day(AsOfViews(core.app, core.db.conninfo), day)
        except AsOfBusy:
            print(f"as-of {day} is being replayed by another process; try again shortly")
            return 1
    built = verified.built
    print(f"{day}: replayed into {built.schema} ({built.position:,} notifications, "
          f"{built.events:,} events replayed from {built.base or 'zero'})")
    if verified.behind:
        print("the live views have not projected that day's events yet: try again shortly")
        return 1
    for difference in verified.differences:
        print(f"  differs: {difference.line()}")
    print(f"{verified.compared} figures compared, {len(verified.differences)} differ")
    return 1 if verified.differences else 0


def cmd_prepare(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import open_core
    from projections.as_of import AsOfBusy, AsOfViews

    today = local_date(datetime.now(UTC))
    day: date = args.day or today - timedelta(days=1)
    if day >= today or args.days < 1:
        print("as-of prepare: --day must be a past day and --days at least 1")
        return 2
    with open_core(settings) as core:
        views = AsOfViews(core.app, core.db.conninfo)
        try:
            built = views.prepare(day, args.days)
        except AsOfBusy as busy:
            print(f"as-of {busy.args[0]} is being built by another process; try again shortly")
            return 1
    for b in built:
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in b.phases.items())
        print(f"{b.day}: {b.schema} built in {b.seconds:.2f} s, {b.events} events replayed "
              f"from {b.base or 'zero'} ({phases})")
    print(f"{day - timedelta(days=args.days - 1)} to {day}: ready "
          f"({len(built)} built, {args.days - len(built)} already kept)")
    return 0
