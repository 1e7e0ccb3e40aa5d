"""``feedback privacy erase``: erase a citizen's personal data on a lawful request
(docs/privacy.md). Exit 0 erased, 1 already erased, 2 usage error (unknown case, no reason)."""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from feedback_core.settings import Settings

if TYPE_CHECKING:
    from feedback_core.privacy.requests import CaseErasure, Cleanup


def add_privacy_parser(sub: Any) -> None:
    privacy = sub.add_parser(
        "privacy", help="citizens' personal data: erase on a lawful request",
        description="Erase a citizen's personal data (crypto-shredding, docs/privacy.md): the "
        "subject's key is deleted, the events and the audit chain stay as they are.",
    )  # fmt: skip
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    erase = commands.add_parser("erase", help="erase the personal data of a case or a subject")
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", metavar="TRACKING_CODE", help="the case's tracking code or id")
    which.add_argument(
        "--subject",
        metavar="ID",
        help="the subject id (a submission id); when it opened a case, the same as --case",
    )
    erase.add_argument("--reason", required=True, help="why (the request, its reference)")
    erase.add_argument("--basis", required=True, help="the legal basis, e.g. NĐ 13/2023 Điều 16")
    erase.add_argument("--actor", default="", help="who carries it out (default: the OS user)")
    erase.set_defaults(privacy_handler=cmd_erase)


def erasure_cleanups(settings: Settings, conninfo: str) -> list[Cleanup]:
    """What an erasure clears besides the key: the case's photo (``media.photos``) and the
    addresses in the notifier's record (``outbound``), each in its own transaction."""
    import psycopg

    from consumers.outbound import forget_case_addresses
    from feedback_core.privacy.keyed import address_hasher
    from web.media import delete_photo

    hashed = address_hasher(settings.personal_data_master)

    def photo(done: CaseErasure) -> None:
        if done.photo_id:
            with psycopg.connect(conninfo) as conn:
                delete_photo(conn, done.photo_id)

    def outbound(done: CaseErasure) -> None:
        with psycopg.connect(conninfo) as conn:
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f"{settings.outbound_schema}.sent",)
            ).fetchone()
            if exists is not None and exists[0] is not None:
                forget_case_addresses(conn, done.case_id, hashed, settings.outbound_schema)

    return [photo, outbound]


def cmd_erase(settings: Settings, args: argparse.Namespace) -> int:
    from feedback_cli.audit_commands import UsageError, find_case
    from feedback_cli.wiring import resolve_database
    from feedback_core.privacy.erasures import ErasureLog, ErasureRefused
    from feedback_core.privacy.postgres import open_vault
    from feedback_core.privacy.requests import ErasureRequest, erase_case, erase_subject
    from feedback_core.store import open_application, open_cases_application

    try:
        subject = UUID(args.subject) if args.subject else None
    except ValueError:
        print(f"error: not a subject id: {args.subject!r}")
        return 2
    db = resolve_database(settings)
    vault = open_vault(db.conninfo, settings.personal_data_master)
    app = open_cases_application(db, personal_data=vault)
    log = open_application(db, lambda env: ErasureLog(env=env))
    request = ErasureRequest(args.actor or f"cli:{getpass.getuser()}", "admin", args.reason,
                             args.basis, datetime.now(UTC))  # fmt: skip
    cleanups = erasure_cleanups(settings, db.conninfo)
    try:
        if subject is None:
            done = erase_case(app.events, vault, log, find_case(app, args.case), request,
                              cleanups)  # fmt: skip
        else:
            by_subject = erase_subject(app.events, vault, log, subject, request, cleanups)
            if by_subject.case is None:
                return report_subject(by_subject.subject_id, by_subject.erased_now)
            done = by_subject.case
    except (UsageError, ErasureRefused) as exc:
        print(f"error: {exc}")
        return 2
    finally:
        app.close()
        log.close()
    return report_case(done)


def report_case(done: CaseErasure) -> int:
    if not done.erased_now:
        print(f"the personal data of case {done.tracking_code} was already erased "
              "(photo and notifier record cleared again)")  # fmt: skip
        return 1
    print(f"erased the personal data of case {done.tracking_code} (subject {done.subject_id}, "
          "photo and notifier record included); recorded as PersonalDataErased")  # fmt: skip
    return 0


def report_subject(subject: UUID, erased_now: bool) -> int:
    """A subject whose submission opened no case (a bare rating): its key only."""
    if not erased_now:
        print(f"the personal data of subject {subject} was already erased")
        return 1
    print(f"erased the personal data of subject {subject} (its submission opened no case); "
          "recorded as PersonalDataErased")  # fmt: skip
    return 0
