"""``feedback qr``: the counters' QR codes — list them, issue a new one, revoke one.

Every issue and revocation is an event of the counter's ``CounterQrCodes`` aggregate (actor
and reason recorded). A web process already running reads a code issued or revoked here
when it next asks for that counter's code (a citizen scanning a revoked code gets the
"no longer in use" page at once: the check reads the events).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import IO

from feedback_core.organisation import Organisation
from feedback_core.qr_codes import Keyring, QrCodesApplication, QrError, keyring_from_config
from feedback_core.settings import Settings


def add_qr_arguments(cmd: argparse.ArgumentParser) -> None:
    """``feedback qr [list | issue COUNTER | revoke TOKEN --reason ...]``."""
    cmd.add_argument("action", nargs="?", default="list", choices=("list", "issue", "revoke"),
                     help="list (default): the URL of every open counter's code; issue "
                     "COUNTER: a new code; revoke TOKEN: take a code out of service")
    cmd.add_argument("target", nargs="?", default="", metavar="COUNTER|TOKEN")
    cmd.add_argument("--reason", default="", help="why (required to revoke)")
    cmd.add_argument("--actor", default="system", help="who records it (default: system)")


def run_qr(settings: Settings, args: argparse.Namespace, out: IO[str] | None = None) -> int:
    from feedback_cli.services import open_qr_codes
    from feedback_cli.wiring import load_organisation, resolve_database

    org = load_organisation(settings)
    keyring = keyring_from_config(settings.qr_keys, settings.secret)
    codes = open_qr_codes(resolve_database(settings))
    try:
        return _run(codes, keyring, org, settings, args, out or sys.stdout)
    finally:
        codes.close()


def _run(codes: QrCodesApplication, keyring: Keyring, org: Organisation, settings: Settings,
         args: argparse.Namespace, out: IO[str]) -> int:
    now = datetime.now(UTC)
    base = settings.public_base_url
    if args.action == "list":
        open_counters = [(u, c) for u, _o, c in org.iter_counters() if not c.closed]
        tokens = codes.ensure_codes([c.id for _, c in open_counters], keyring, now, "system")
        for unit, counter in open_counters:
            print(f"{base}/q/{tokens[counter.id]}\t{unit.name_vi} – {counter.name_vi}", file=out)
        return 0
    if not args.target:
        what = "counter" if args.action == "issue" else "token"
        print(f"feedback qr {args.action}: name the {what}", file=sys.stderr)
        return 2
    try:
        if args.action == "issue":
            if args.target not in org.counters:
                raise QrError(f"no open counter {args.target!r}")
            token = codes.issue(args.target, keyring, now, args.actor, args.reason)
            print(f"{base}/q/{token}", file=out)
        else:
            codes.revoke(args.target, now, args.actor, args.reason)
            print(f"revoked {args.target}", file=out)
    except QrError as error:
        print(f"feedback qr {args.action}: {error}", file=sys.stderr)
        return 1
    return 0
