"""Staff TOTP secrets on real PostgreSQL: sealed in ``organisation_events``, opened for the
sign-in, and secrets recorded in clear before sealing still readable (docs/privacy.md)."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime

import psycopg
import pytest

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.org.loading import load_organisation_file
from feedback_core.org.store import open_organisation_application
from feedback_core.org.totp import decode_secret, new_totp_secret, totp, verify_totp
from feedback_core.privacy.staff_secrets import StaffSecretBox
from feedback_core.settings import DEMO_ORGANISATION
from feedback_core.store import Database, open_application

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ON = date(2026, 3, 2)
USER = "canbo.nhattan"


def stored_states(database: Database) -> list[bytes]:
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute("SELECT state FROM organisation_events").fetchall()
    return [bytes(row[0]) for row in rows]


def enable(app: OrganisationApplication, username: str) -> str:
    secret = new_totp_secret()
    code = totp(decode_secret(secret), NOW)
    app.enable_totp(username, secret=secret, code=code, actor=username, at=NOW)
    return secret


def test_the_secret_is_absent_from_the_stored_events_and_sign_in_codes_still_match(
    database: Database,
) -> None:
    box = StaffSecretBox(os.urandom(32))
    app = open_organisation_application(database, box)
    try:
        load_organisation_file(app, DEMO_ORGANISATION)
        secret = enable(app, USER)
    finally:
        app.close()

    states = stored_states(database)
    assert any(b'"st1:' in state for state in states)
    raw = decode_secret(secret)
    for state in states:
        assert secret.encode() not in state
        assert raw not in state
        assert base64.b64encode(raw) not in state

    reopened = open_organisation_application(database, box)  # another process, same key
    try:
        account = directory_as_of(reopened, ON).staff[USER]
        assert account.totp_secret == secret
        later = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        assert verify_totp(account.totp_secret, totp(raw, later), later)
    finally:
        reopened.close()

    wrong_key = open_organisation_application(database, StaffSecretBox(os.urandom(32)))
    try:  # a wrong master key fails closed: a second factor is asked and nothing matches
        account = directory_as_of(wrong_key, ON).staff[USER]
        assert account.totp_secret
        assert not verify_totp(account.totp_secret, totp(raw, NOW), NOW)
    finally:
        wrong_key.close()


def test_a_secret_recorded_in_clear_before_sealing_is_still_read(database: Database) -> None:
    old = open_application(database, lambda env: OrganisationApplication(env=env))
    try:  # the previous code path: no box, the secret stored as given
        load_organisation_file(old, DEMO_ORGANISATION)
        secret = enable(old, USER)
    finally:
        old.close()
    assert any(secret.encode() in state for state in stored_states(database))

    app = open_organisation_application(database, StaffSecretBox(os.urandom(32)))
    try:
        assert directory_as_of(app, ON).staff[USER].totp_secret == secret
        app.disable_totp(USER, actor=USER, reason="new phone")
        again = enable(app, USER)  # re-enabled: sealed from now on
        assert directory_as_of(app, ON).staff[USER].totp_secret == again
    finally:
        app.close()
    assert not any(again.encode() in state for state in stored_states(database))
