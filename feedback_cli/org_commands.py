"""``feedback org ...``: manage the organisation tree (units, counters, staff, heads)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import date
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from feedback_core.org.application import OrganisationApplication
    from feedback_core.organisation import Organisation
    from feedback_core.settings import Settings

HELP = "manage the organisation: units, counters, staff, heads (feedback org -h)"
DESCRIPTION = """Manage the organisation tree: units, one-stop offices, counters, staff, heads.

Every change is recorded with an actor (--actor, default: system), the date it takes
effect (--on, default: today in Hà Nội) and, for mergers, closures, moves and
deactivations, a reason (--reason, e.g. the number of the decision)."""

Handler = Callable[["OrganisationApplication", argparse.Namespace, IO[str]], None]


def add_org_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``org`` and its subcommands to the ``feedback`` parser's subparsers."""
    org = subparsers.add_parser("org", help=HELP, description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = org.add_subparsers(dest="org_command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str, *, change: bool = True,
                dated: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(org_handler=handler)
        if change:
            p.add_argument("--actor", default="system", help="who records it (default: system)")
        if dated:
            p.add_argument("--on", type=date.fromisoformat, default=None, metavar="DATE",
                           help="date it takes effect, YYYY-MM-DD (default: today)")
        return p

    p = command("load", _load, "load a data file (idempotent: creates only what is missing)")
    p.add_argument("file")

    p = command("list", _list, "print the tree on a date", change=False, dated=False)
    p.add_argument("--as-of", type=date.fromisoformat, default=None, metavar="DATE")
    p.add_argument("--all", action="store_true", help="closed units and inactive staff too")

    p = command("create-unit", _create_unit, "create a unit or a one-stop office")
    p.add_argument("unit")
    _names(p)
    p.add_argument("--level", required=True, help="city, district, ward, commune or office")
    p.add_argument("--parent", default=None, help="parent unit id (none: a top-level unit)")
    p.add_argument("--reason", default="")

    p = command("rename-unit", _rename_unit, "rename a unit from a date")
    p.add_argument("unit")
    _names(p)
    p.add_argument("--reason", default="")

    p = command("move-unit", _move_unit, "put a unit under another parent from a date")
    p.add_argument("unit")
    p.add_argument("--parent", default=None, help="new parent (omit: top-level)")
    p.add_argument("--reason", required=True)

    p = command("merge-unit", _merge_unit, "merge a unit into another (its offices close)")
    p.add_argument("unit")
    p.add_argument("into")
    p.add_argument("--reason", required=True)

    p = command("close-unit", _close_unit, "abolish a unit without successor")
    p.add_argument("unit")
    p.add_argument("--reason", required=True)

    p = command("appoint-head", _appoint_head, "appoint the head of a unit from a date")
    p.add_argument("unit")
    p.add_argument("username")
    p.add_argument("--reason", default="")

    p = command("add-counter", _add_counter, "add a counter to a one-stop office")
    p.add_argument("counter")
    p.add_argument("--office", required=True)
    _names(p)

    p = command("close-counter", _close_counter, "close a counter")
    p.add_argument("counter")
    p.add_argument("--reason", required=True)

    p = command("add-staff", _add_staff, "register a staff account (asks for the password)")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--role", required=True, help="operator, handler, head, inspector or admin")
    p.add_argument("--unit", required=True, help="their scope is this unit's subtree")
    _password_stdin(p)

    p = command("set-password", _set_password, "set a staff member's password", dated=False)
    p.add_argument("username")
    _password_stdin(p)

    p = command("set-role", _set_role, "change a staff member's role from a date")
    p.add_argument("username")
    p.add_argument("role")
    p.add_argument("--reason", required=True)

    p = command("move-staff", _move_staff, "move a staff member to another unit from a date")
    p.add_argument("username")
    p.add_argument("unit")
    p.add_argument("--reason", required=True)

    p = command("deactivate-staff", _deactivate_staff, "deactivate a staff account")
    p.add_argument("username")
    p.add_argument("--reason", required=True)

    p = command("history", _history, "the recorded history of a unit (or --staff USERNAME)",
                change=False, dated=False)
    p.add_argument("unit")
    p.add_argument("--staff", action="store_true", help="UNIT is a staff username")

    p = command("successor", _successor, "who answers for a unit on a date (after mergers)",
                change=False)
    p.add_argument("unit")
    return org


def cmd_org(settings: Settings, args: argparse.Namespace) -> int:
    """The handler of ``feedback org``: opens the store named by the settings."""
    from feedback_cli.wiring import resolve_database
    from feedback_core.org.store import open_organisation_application

    app = open_organisation_application(resolve_database(settings))
    try:
        code = run_org_command(app, args)
    finally:
        app.close()
    if code == 0 and args.org_handler is _merge_unit:
        from feedback_cli.mergers import run_pass_cases

        for unit, count in run_pass_cases(settings).items():
            print(f"passed {count} open cases of {unit} to its successor")
    return code


def run_org_command(
    app: OrganisationApplication, args: argparse.Namespace, out: IO[str] | None = None
) -> int:
    """Run one parsed ``org`` subcommand; a refused change prints why and returns 2."""
    from feedback_core.org.errors import OrganisationError

    out = out or sys.stdout
    try:
        args.org_handler(app, args, out)
    except OrganisationError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    return 0


# -- handlers -----------------------------------------------------------------------------


def _load(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.loading import load_organisation_file

    report = load_organisation_file(app, args.file, args.on, actor=args.actor)
    for label in report.created:
        print(f"created {label}", file=out)
    print(f"{len(report.created)} created, {len(report.existing)} already there", file=out)


def _list(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.directory import directory_as_of
    from feedback_core.org.timeline import today

    on = args.as_of or today()
    org = directory_as_of(app, on, include_retired=args.all)
    print(f"Organisation on {on.isoformat()}", file=out)
    for line in render_tree(org):
        print(line, file=out)


def _create_unit(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.create_unit(args.unit, name_vi=args.name_vi, name_en=args.name_en, level=args.level,
                    parent_id=args.parent, effective_on=_on(args), actor=args.actor,
                    reason=args.reason)
    print(f"created {args.level} {args.unit} from {_on(args)}", file=out)


def _rename_unit(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.rename_unit(args.unit, name_vi=args.name_vi, name_en=args.name_en,
                    effective_on=_on(args), actor=args.actor, reason=args.reason)
    print(f"renamed {args.unit} from {_on(args)}", file=out)


def _move_unit(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.move_unit(args.unit, parent_id=args.parent, effective_on=_on(args), actor=args.actor,
                  reason=args.reason)
    print(f"moved {args.unit} under {args.parent or '(top level)'} from {_on(args)}", file=out)


def _merge_unit(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.merge_unit(args.unit, into=args.into, effective_on=_on(args), actor=args.actor,
                   reason=args.reason)
    print(f"merged {args.unit} into {args.into} from {_on(args)}", file=out)


def _close_unit(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.close_unit(args.unit, effective_on=_on(args), actor=args.actor, reason=args.reason)
    print(f"closed {args.unit} from {_on(args)}", file=out)


def _appoint_head(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.appoint_head(args.unit, username=args.username, effective_on=_on(args),
                     actor=args.actor, reason=args.reason)
    print(f"{args.username} is head of {args.unit} from {_on(args)}", file=out)


def _add_counter(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.create_counter(args.counter, office_id=args.office, name_vi=args.name_vi,
                       name_en=args.name_en, effective_on=_on(args), actor=args.actor)
    print(f"created counter {args.counter} in {args.office}", file=out)


def _close_counter(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.close_counter(args.counter, effective_on=_on(args), actor=args.actor, reason=args.reason)
    print(f"closed counter {args.counter} from {_on(args)}", file=out)


def _add_staff(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.passwords import hash_password

    app.register_staff(args.username, display_name=args.name, role=args.role,
                       unit_id=args.unit, password_hash=hash_password(_read_password(args)),
                       effective_on=_on(args), actor=args.actor)
    print(f"registered {args.username} ({args.role}, {args.unit})", file=out)


def _set_password(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.passwords import hash_password

    app.set_password(args.username, password_hash=hash_password(_read_password(args)),
                     actor=args.actor)
    print(f"password of {args.username} changed", file=out)


def _set_role(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.change_role(args.username, role=args.role, effective_on=_on(args), actor=args.actor,
                    reason=args.reason)
    print(f"{args.username} is {args.role} from {_on(args)}", file=out)


def _move_staff(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    app.move_staff(args.username, unit_id=args.unit, effective_on=_on(args), actor=args.actor,
                   reason=args.reason)
    print(f"{args.username} is in {args.unit} from {_on(args)}", file=out)


def _deactivate_staff(
    app: OrganisationApplication, args: argparse.Namespace, out: IO[str]
) -> None:
    app.deactivate_staff(args.username, effective_on=_on(args), actor=args.actor,
                         reason=args.reason)
    print(f"{args.username} deactivated from {_on(args)}", file=out)


def _history(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.history import staff_history, unit_history

    entries = staff_history(app, args.unit) if args.staff else unit_history(app, args.unit)
    for entry in entries:
        recorded = entry.recorded_at.strftime("%Y-%m-%d %H:%M")
        print(f"{entry.describe()}  [recorded {recorded} UTC]", file=out)


def _successor(app: OrganisationApplication, args: argparse.Namespace, out: IO[str]) -> None:
    from feedback_core.org.directory import responsible_unit, successor_of

    on = _on(args)
    successor = successor_of(app, args.unit, on)
    responsible = responsible_unit(app, args.unit, on)
    print(f"on {on}: merged into {successor or '-'}; answers for it: {responsible or '-'}",
          file=out)


# -- helpers ------------------------------------------------------------------------------


def render_tree(org: Organisation) -> list[str]:
    """The units as an indented tree with their offices, counters, heads and staff."""
    lines: list[str] = []

    def unit_lines(unit_id: str, depth: int) -> None:
        unit = org.units[unit_id]
        pad = "  " * depth
        state = f" (closed → {unit.successor_id or '-'})" if unit.closed else ""
        lines.append(f"{pad}{unit.id}  [{unit.level}] {unit.name_vi}  head: {unit.head or '-'}"
                     f"{state}")
        for office in (o for o in org.offices.values() if o.unit_id == unit_id):
            lines.append(f"{pad}  {office.id}  [office] {office.name_vi}"
                         f"{' (closed)' if office.closed else ''}")
            for counter in (c for c in org.counters.values() if c.office_id == office.id):
                lines.append(f"{pad}    {counter.id}  {counter.name_vi}"
                             f"{' (closed)' if counter.closed else ''}")
        for child in sorted(u.id for u in org.units.values() if u.parent_id == unit_id):
            unit_lines(child, depth + 1)

    roots = sorted(u.id for u in org.units.values() if u.parent_id not in org.units)
    for root in roots:
        unit_lines(root, 0)
    lines.append("staff:")
    for member in sorted(org.staff.values(), key=lambda m: m.username):
        flags = "" if member.active else " (deactivated)"
        if member.unit_id not in org.units:
            flags += " (unit not in service)"
        lines.append(f"  {member.username}  {member.role}  {member.unit_id}  "
                     f"{member.display_name}{flags}")
    return lines


def _names(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name-vi", required=True, help="name in Vietnamese")
    p.add_argument("--name-en", required=True, help="name in English")


def _password_stdin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin (for scripts)")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("the passwords differ; nothing changed")
    return first


def _on(args: argparse.Namespace) -> date:
    from feedback_core.org.timeline import today

    if args.on is None:
        args.on = today()
    on: date = args.on
    return on
