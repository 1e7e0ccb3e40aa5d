"""The legal clock by hand: ``feedback due``, ``feedback rules``, ``feedback calendar ...``.

``feedback due`` needs no database: without FEEDBACK_DATABASE_URL and with the embedded
server stopped it counts with the public holidays of the ``holidays`` library only, and
says so. Otherwise it includes the days off and make-up working days decreed as events.
The ``calendar`` commands need the database (the embedded server is started if needed).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from feedback_core.legal_clock import (
    BusinessCalendar,
    DeadlineRule,
    DueDate,
    Pause,
    RuleConfigError,
    due_date_with_pauses,
)
from feedback_core.settings import Settings

if TYPE_CHECKING:  # the calendar application (eventsourcing, psycopg) is imported when used
    from feedback_core.calendar_app import CalendarApplication, DecreeKind

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HOLIDAYS_ONLY = "public holidays of the holidays library only (no decreed days)"


# --- parsing -------------------------------------------------------------------------------


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _pause(text: str) -> Pause:
    start, sep, end = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"a pause is FROM:TO or FROM: (still open), not {text!r}")
    return _iso_date(start), (_iso_date(end) if end else None)


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


def add_clock_parsers(subparsers: Any) -> None:
    """Add ``due``, ``rules`` and ``calendar`` to the ``feedback`` parser's subparsers; each
    parser sets ``clock_handler`` to a ``(settings, args) -> int`` function."""
    text = "the due date of a case of RULE received on a date, and the days off it skips"
    due = subparsers.add_parser("due", help=text, description=text)
    due.add_argument("rule", help="a rule code (see `feedback rules`)")
    due.add_argument("received", type=_iso_date, help="date of receipt, YYYY-MM-DD")
    due.add_argument(
        "--pause", action="append", type=_pause, default=[], metavar="FROM:TO",
        help="the case waited for the citizen: asked on FROM, answered on TO "
        "(leave TO out while still waiting); repeatable",
    )
    due.add_argument("--extend", type=int, default=0, metavar="DAYS",
                     help="extension granted, in the rule's unit")
    due.add_argument("--today", type=_iso_date, default=None,
                     help="end of an open pause (default: today in Hà Nội)")
    due.set_defaults(clock_handler=cmd_due)

    text = "list the deadline rules with their unit and legal source"
    rules = subparsers.add_parser("rules", help=text, description=text)
    rules.set_defaults(clock_handler=cmd_rules)

    text = "days off and make-up working days decreed each year (stored as events)"
    calendar = subparsers.add_parser("calendar", help=text, description=text)
    commands = calendar.add_subparsers(dest="calendar_command", required=True)
    for name, handler, help_text in (
        ("add-day-off", cmd_add_day_off, "decree a day off (e.g. a day of the Tết break)"),
        ("add-working-day", cmd_add_working_day, "decree a make-up working day (a Saturday)"),
        ("withdraw", cmd_withdraw, "withdraw the decree in force for a day"),
    ):
        cmd = commands.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("day", type=_iso_date, help="YYYY-MM-DD")
        cmd.add_argument("--reason", required=True, help="why, e.g. the decision that decrees it")
        cmd.add_argument(
            "--actor", default=_default_actor(), help="who enters it (default: %(default)s)"
        )
        cmd.set_defaults(clock_handler=handler)
    text = "the days off and make-up working days of a year, with their names and sources"
    listing = commands.add_parser("list", help=text, description=text)
    listing.add_argument("--year", type=int, default=_local_today().year)
    listing.set_defaults(clock_handler=cmd_calendar_list)


# --- helpers -------------------------------------------------------------------------------


def _local_today() -> date:
    return datetime.now(UTC).astimezone(LOCAL_ZONE).date()


def _days(n: int, unit: str = "") -> str:
    return f"{n} {unit + ' ' if unit else ''}day{'' if n == 1 else 's'}"


def _day(day: date) -> str:
    return f"{day.isoformat()} {day.strftime('%a')}"


def _rules(settings: Settings) -> dict[str, DeadlineRule]:
    from feedback_core.calendar_app import load_deadline_rules

    return load_deadline_rules(_rules_file(settings))


def _rules_file(settings: Settings) -> str:
    # FEEDBACK_DEADLINE_RULES_FILE (``Settings.deadline_rules_file``; empty = packaged only).
    return str(getattr(settings, "deadline_rules_file", "") or "")


def embedded_server_running() -> bool:
    from infra import postgres

    return postgres.is_running()


@contextlib.contextmanager
def _calendar_app(settings: Settings) -> Iterator[CalendarApplication]:
    from feedback_cli.wiring import resolve_database
    from feedback_core.calendar_app import open_calendar_application

    with contextlib.redirect_stdout(sys.stderr):  # infra reports on stdout: keep it clean
        db = resolve_database(settings)
    app = open_calendar_application(db)
    try:
        yield app
    finally:
        app.close()


def _calendar_for_due(settings: Settings) -> tuple[BusinessCalendar, str]:
    """The calendar with the decreed days when a database is at hand; else holidays only."""
    if not settings.database_url and not embedded_server_running():
        return BusinessCalendar(), (
            f"{HOLIDAYS_ONLY}: FEEDBACK_DATABASE_URL is not set and the embedded server "
            "is not running"
        )
    try:
        with _calendar_app(settings) as app:
            calendar = app.calendar()
    except Exception as e:  # any failure to read: say so, and count without them
        return BusinessCalendar(), f"{HOLIDAYS_ONLY}: the decreed days could not be read ({e})"
    decreed = len(calendar.extra_days_off) + len(calendar.make_up_working_days)
    return calendar, f"public holidays of the holidays library and {_days(decreed, 'decreed')}"


# --- handlers ------------------------------------------------------------------------------


def cmd_due(settings: Settings, args: argparse.Namespace) -> int:
    try:
        rules = _rules(settings)
    except RuleConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rule = rules.get(args.rule)
    if rule is None:
        print(f"error: no rule {args.rule!r}; rules: {', '.join(rules)}", file=sys.stderr)
        return 2
    pauses: list[Pause] = list(args.pause)
    today = args.today or (_local_today() if any(end is None for _, end in pauses) else None)
    calendar, note = _calendar_for_due(settings)
    try:
        result = due_date_with_pauses(
            args.received, rule, calendar, pauses, extension_days=args.extend, today=today
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_due(args.received, rule, calendar, result, args.extend, note)
    return 0


def print_due(
    received: date,
    rule: DeadlineRule,
    calendar: BusinessCalendar,
    result: DueDate,
    extension_days: int,
    note: str,
) -> None:
    print(f"due {_day(result.due)}")
    print(f"rule {rule.code}: {_days(rule.days, rule.unit.value)}, received {_day(received)}, "
          f"counted from {_day(received + timedelta(days=1))}")
    print(f"source: {rule.source}")
    if extension_days:
        print(f"extended by {_days(extension_days, rule.unit.value)}")
    if result.paused:
        print(f"paused {_days(len(result.paused), rule.unit.value)} (waiting for the citizen): "
              + ", ".join(d.isoformat() for d in result.paused))
    print(f"days off skipped: {len(result.skipped)}")
    for day in result.skipped:
        print(f"  {day.isoformat()} {calendar.day_off_name(day)}")
    print(f"calendar: {note}")


def cmd_rules(settings: Settings, args: argparse.Namespace) -> int:
    try:
        rules = _rules(settings)
    except RuleConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    override = _rules_file(settings)
    print("deadline rules: packaged (feedback_core/data/deadline_rules.json)"
          + (f", overridden by {override}" if override else ""))
    width = max(len(code) for code in rules)
    for rule in rules.values():
        print(f"{rule.code:<{width}}  {rule.days:>3} {rule.unit.value:<8}  {rule.source}")
    return 0


def _decree(settings: Settings, args: argparse.Namespace, kind: DecreeKind) -> int:
    from feedback_core.calendar_app import CalendarError, DecreeKind

    day: date = args.day
    with _calendar_app(settings) as app:
        before = app.calendar()
        try:
            if kind is DecreeKind.DAY_OFF:
                changed = app.decree_day_off(day, args.reason, args.actor)
            else:
                changed = app.decree_working_day(day, args.reason, args.actor)
        except CalendarError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    what = "a day off" if kind is DecreeKind.DAY_OFF else "a make-up working day"
    if not changed:
        print(f"{_day(day)} is already decreed {what} ({args.reason.strip()}): nothing recorded")
        return 0
    print(f"decreed {_day(day)} {what}: {args.reason.strip()} (by {args.actor})")
    name = before.day_off_name(day)
    if kind is DecreeKind.DAY_OFF and name and day not in before.extra_days_off:
        print(f"note: it was a day off already ({name})")
    if kind is DecreeKind.WORKING_DAY and name is None and day not in before.make_up_working_days:
        print("note: it was a working day already")
    return 0


def cmd_add_day_off(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_core.calendar_app import DecreeKind

    return _decree(settings, args, DecreeKind.DAY_OFF)


def cmd_add_working_day(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_core.calendar_app import DecreeKind

    return _decree(settings, args, DecreeKind.WORKING_DAY)


def cmd_withdraw(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_core.calendar_app import CalendarError, DecreeKind

    with _calendar_app(settings) as app:
        try:
            withdrawn = app.withdraw(args.day, args.reason, args.actor)
        except CalendarError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    kind = "day off" if withdrawn.kind is DecreeKind.DAY_OFF else "make-up working day"
    print(f"withdrew the {kind} decreed for {_day(args.day)} ({withdrawn.reason}): "
          f"{args.reason.strip()} (by {args.actor})")
    return 0


def cmd_calendar_list(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_core.calendar_app import DecreeKind

    year: int = args.year
    with _calendar_app(settings) as app:
        decrees = {d.day: d for d in app.decrees(year)}
        calendar = app.calendar([year])
    library = dict(calendar.public_holidays(year))
    library_workdays = set(calendar.library_weekend_workdays(year))
    print(f"{year}: public holidays (holidays library), decreed days off and make-up days")
    for day in sorted(set(library) | library_workdays | set(decrees)):
        decree = decrees.get(day)
        if decree is not None:
            kind = "day off" if decree.kind is DecreeKind.DAY_OFF else "working day"
            source = f"decreed by {decree.actor} on {decree.decreed_at.date().isoformat()}"
            if day in library:
                source += f"; library: {library[day]}"
            print(f"  {_day(day)}  {kind:<11}  {decree.reason}  [{source}]")
        elif day in library_workdays:
            print(f"  {_day(day)}  {'working day':<11}  make-up working day  [holidays library]")
        else:
            print(f"  {_day(day)}  {'day off':<11}  {library[day]}  [holidays library]")
    start, end = date(year, 1, 1), date(year, 12, 31)
    working = sum(
        calendar.is_working_day(start + timedelta(days=n)) for n in range((end - start).days + 1)
    )
    print(f"{working} working days in {year}; {len(decrees)} decrees in force")
    return 0
