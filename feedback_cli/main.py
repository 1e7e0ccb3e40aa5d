"""``feedback``: the operator's command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable

from feedback_core.settings import Settings

Command = Callable[[Settings, argparse.Namespace], int]


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import run_all_in_one

    run_all_in_one(settings, seed=not args.no_seed)
    return 0


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.stack import run_full_stack

    return run_full_stack(settings, seed=not args.no_seed)


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import run_web

    run_web(settings, workers=args.workers)
    return 0


def cmd_consume(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import run_consumer

    run_consumer(settings)
    return 0


def cmd_project(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import run_projections

    run_projections(settings)
    return 0


def cmd_outbound(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.notifications import run_outbound

    run_outbound(settings, start_from=args.start_from)
    return 0


def cmd_notify(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.notifications import run_notifier

    run_notifier(settings)
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import open_core, seed_demo
    from feedback_cli.wiring import load_organisation

    with open_core(settings) as core:
        count = asyncio.run(seed_demo(settings, core, load_organisation(settings)))
    print(f"published {count} demo submissions (already stored ones are skipped by the core)")
    return 0


def cmd_demo_district(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.demo.district import cmd_demo_district

    return cmd_demo_district(settings, args)


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.services import open_core
    from projections.rebuild import rebuild_and_compare, swap_in

    with open_core(settings) as core:
        report = rebuild_and_compare(core.app, core.db.conninfo, settings.views_schema)
        rebuilt, differences = report.rebuilt_schema, report.differences
        print(f"replayed {report.events} events from position zero into schema {rebuilt!r}")
        for d in differences:
            print(f"  {d.table}: {d.only_in_first} rows only live, {d.only_in_second} only rebuilt")
        if not differences:
            print("the rebuilt views equal the live ones, row by row")
        if args.compare_only:
            return 1 if differences else 0
        swap_in(core.db.conninfo, rebuilt, settings.views_schema)
        print(f"swapped the rebuilt views in as {settings.views_schema!r}")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.health import HealthProbe
    from feedback_cli.services import open_core
    from feedback_cli.wiring import make_publisher
    from projections.queries import ViewQueries

    with open_core(settings) as core:
        views = ViewQueries(core.db.conninfo, settings.views_schema)
        probe = HealthProbe(settings, core.app, views, make_publisher(settings, core.app))
        report = probe.collect()
        views.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def cmd_qr(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.qr_commands import run_qr

    return run_qr(settings, args)


def cmd_pass_cases(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.mergers import run_pass_cases

    moved = run_pass_cases(settings)
    for unit, count in moved.items():
        print(f"passed {count} open cases of {unit} to its successor")
    if not moved:
        print("no open case is held by a merged unit")
    return 0


def cmd_infra(settings: Settings, args: argparse.Namespace) -> int:
    return subprocess.call([sys.executable, "-m", "infra", *args.rest])


COMMANDS: dict[str, tuple[Command, str]] = {
    "run": (cmd_run, "the whole platform in one process on the embedded default, with demo data"),
    "up": (cmd_up, "the full stack: PostgreSQL, Kafka, web, consumer, projections as processes"),
    "web": (cmd_web, "the HTTP app"),
    "consume": (cmd_consume, "the Kafka intake consumer (group 'core')"),
    "project": (cmd_project, "the projection runner"),
    "outbound": (cmd_outbound, "the outbound publisher: case notices to feedback.case-events.v1"),
    "notify": (cmd_notify, "the notifier: case notices to e-mail, SMS, Zalo (group 'notifier')"),
    "seed": (cmd_seed, "publish the demo submissions (idempotent)"),
    "demo-district": (cmd_demo_district, "store a realistic demo district from a seed "
                      "(--seed N --scale small|medium|large|EVENTS --days D; idempotent)"),
    "rebuild": (cmd_rebuild, "rebuild the views from position zero, compare, swap in"),
    "status": (cmd_status, "print the health report (event store, log, projections)"),
    "qr": (cmd_qr, "the counters' QR codes: list (URLs), issue COUNTER, revoke TOKEN --reason"),
    "pass-cases": (cmd_pass_cases, "move the open cases of merged units to their successors"),
    "infra": (cmd_infra, "start/stop/status of PostgreSQL and Kafka (python -m infra ...)"),
}


def parser() -> argparse.ArgumentParser:
    from feedback_cli.as_of_commands import add_as_of_parser
    from feedback_cli.audit_commands import add_audit_parsers
    from feedback_cli.clock_commands import add_clock_parsers
    from feedback_cli.org_commands import add_org_parser
    from feedback_cli.privacy_commands import add_privacy_parser

    p = argparse.ArgumentParser(prog="feedback", description="Phản ánh operator's command line")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name in ("run", "up"):
            cmd.add_argument("--no-seed", action="store_true", help="do not load demo data")
        if name == "outbound":
            cmd.add_argument(
                "--from", dest="start_from", metavar="POSITION",
                help="first set the position: a notification id (0: publish everything "
                "again; the notifier skips what it sent) or 'head' (skip the history)",
            )  # fmt: skip
        if name == "demo-district":
            from feedback_cli.demo.district import add_arguments

            add_arguments(cmd)
        if name == "web":
            cmd.add_argument(
                "--workers", type=int, metavar="N",
                default=int(os.environ.get("FEEDBACK_WEB_WORKERS") or 1),
                help="web processes sharing the port (default FEEDBACK_WEB_WORKERS or 1)",
            )
        if name == "rebuild":
            cmd.add_argument("--compare-only", action="store_true", help="compare, do not swap")
        if name == "qr":
            from feedback_cli.qr_commands import add_qr_arguments

            add_qr_arguments(cmd)
        if name == "infra":
            cmd.add_argument("rest", nargs=argparse.REMAINDER, help="e.g. up, down, kafka start")
    add_clock_parsers(sub)  # due, rules, calendar add-day-off|add-working-day|withdraw|list
    add_org_parser(sub)  # org load|list|create-unit|rename-unit|merge-unit|close-unit|...
    add_audit_parsers(sub)  # audit run|catch-up|checkpoint|export-checkpoint|verify; reconcile
    add_privacy_parser(sub)  # privacy erase --case|--subject --reason --basis
    add_as_of_parser(sub)  # as-of prepare [--day YYYY-MM-DD] [--days N]
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("kafka", "aiokafka"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = Settings()
    from feedback_cli.wiring import init_sentry

    init_sentry(settings)
    if args.command in COMMANDS:
        command = COMMANDS[args.command][0]
    elif args.command == "org":
        from feedback_cli.org_commands import cmd_org

        command = cmd_org
    elif args.command in ("audit", "reconcile"):
        command = args.audit_handler
    elif args.command == "privacy":
        command = args.privacy_handler
    elif args.command == "as-of":
        command = args.as_of_handler
    else:
        command = args.clock_handler
    try:
        return command(settings, args)
    except KeyboardInterrupt:  # Ctrl-C: the services' own shutdown has already run
        print("stopped", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
