"""``feedback as-of prepare [--day YYYY-MM-DD] [--days N]``: build the "as of" views of past
days ahead of time (``projections.as_of``), as the projection process does after each local
midnight, so an inspector's as-of dashboard opens at once."""

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
