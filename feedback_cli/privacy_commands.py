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
    from feedback_core.privacy.requests import Cleanup


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
    which.add_argument("--subject", metavar="ID", help="the subject id (a submission id)")
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
    from feedback_core.privacy.requests import CaseErasure
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
    from feedback_core.privacy.requests import ErasureRequest, erase_case
    from feedback_core.store import open_application, open_cases_application

    db = resolve_database(settings)
    vault = open_vault(db.conninfo, settings.personal_data_master)
    app = open_cases_application(db, personal_data=vault)
    log = open_application(db, lambda env: ErasureLog(env=env))
    actor = args.actor or f"cli:{getpass.getuser()}"
    try:
        if args.case:
            try:
                case_id = find_case(app, args.case)
                done = erase_case(
                    app.events, vault, log, case_id,
                    ErasureRequest(actor, "admin", args.reason, args.basis, datetime.now(UTC)),
                    erasure_cleanups(settings, db.conninfo),
                )  # fmt: skip
            except (UsageError, ErasureRefused) as exc:
                print(f"error: {exc}")
                return 2
            if not done.erased_now:
                print(f"the personal data of case {done.tracking_code} was already erased "
                      "(photo and notifier record cleared again)")
                return 1
            print(f"erased the personal data of case {done.tracking_code} (subject "
                  f"{done.subject_id}, photo and notifier record included); recorded as "
                  "PersonalDataErased")
            return 0
        try:
            subject = UUID(args.subject)
        except ValueError:
            print(f"error: not a subject id: {args.subject!r}")
            return 2
        if vault.is_erased(subject):
            print(f"the personal data of subject {subject} was already erased")
            return 1
        try:
            log.erase(
                vault, subject_id=subject, case_id=None, tracking_code="", actor=actor,
                actor_role="admin", reason=args.reason, legal_basis=args.basis,
                at=datetime.now(UTC),
            )  # fmt: skip
        except ErasureRefused as exc:
            print(f"error: {exc}")
            return 2
        print(f"erased the personal data of subject {subject}; recorded as PersonalDataErased"
              " (by subject: a case's photo and notifier record need --case)")
        return 0
    finally:
        app.close()
        log.close()
