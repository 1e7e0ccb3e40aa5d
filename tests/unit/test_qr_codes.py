"""QR codes: issue, verify, rotate keys with a grace period, revoke — all as events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_core.qr_codes import (
    QrCodesApplication,
    QrError,
    TokenState,
    keyring_from_config,
    parse_token,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ONE = keyring_from_config("k1=first-secret", b"unused")
ROTATED = keyring_from_config("k2=second-secret;k1=first-secret@2026-12-31", b"unused")


@pytest.fixture
def app() -> QrCodesApplication:
    return QrCodesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_an_issued_code_is_valid_and_short(app: QrCodesApplication) -> None:
    token = app.issue("nhat-tan-q1", ONE, NOW, "quantri.tayho")
    assert len(token) <= 24
    check = app.check(token, ONE, NOW)
    assert check.state is TokenState.VALID and check.counter_id == "nhat-tan-q1"


def test_edited_forged_or_unknown_tokens_are_invalid(app: QrCodesApplication) -> None:
    token = app.issue("nhat-tan-q1", ONE, NOW, "admin")
    counter, serial, sig = parse_token(token) or ("", 0, "")
    for bad in (f"nhat-tan-q2.{serial}.{sig}", f"{counter}.{serial}.{'a' * 8}",
                f"{counter}.{serial + 1}.{sig}", "nhat-tan-q1", "", "x.y.z"):
        assert app.check(bad, ONE, NOW).state is TokenState.INVALID, bad


def test_rotation_keeps_old_codes_valid_for_the_grace_period(app: QrCodesApplication) -> None:
    old = app.issue("nhat-tan-q1", ONE, NOW, "admin")
    tokens = app.ensure_codes(["nhat-tan-q1"], ROTATED, NOW)
    assert tokens["nhat-tan-q1"] != old  # a new code under the new key
    assert app.check(old, ROTATED, NOW).state is TokenState.VALID
    after_grace = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert app.check(old, ROTATED, after_grace).state is TokenState.EXPIRED
    assert app.check(tokens["nhat-tan-q1"], ROTATED, after_grace).state is TokenState.VALID
    assert app.ensure_codes(["nhat-tan-q1"], ROTATED, NOW) == tokens  # idempotent


def test_a_revoked_code_is_recognised_and_its_history_kept(app: QrCodesApplication) -> None:
    token = app.issue("nhat-tan-q1", ONE, NOW, "admin")
    later = NOW + timedelta(days=3)
    app.revoke(token, later, "quantri.tayho", "Poster bị dán đè mã giả")
    assert app.check(token, ONE, later).state is TokenState.REVOKED
    assert app.check(token, ONE, NOW + timedelta(days=1)).state is TokenState.VALID  # as it was
    with pytest.raises(QrError, match="already revoked"):
        app.revoke(token, later, "admin", "again")
    assert [r["event"] for r in app.history("nhat-tan-q1")] == ["Issued", "Revoked"]


def test_keyring_configuration_errors_say_what_to_write() -> None:
    with pytest.raises(QrError, match="key_id=secret"):
        keyring_from_config("nokey", b"")
    with pytest.raises(QrError, match="first key"):
        keyring_from_config("k1=a@2026-01-01", b"")
    assert keyring_from_config("", b"app-secret").current.key_id == "k1"
    assert ROTATED.get("k1", date(2027, 1, 1)) is None


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True), st.integers(1, 10_000))
def test_signatures_verify_and_never_cross_counters(counter: str, serial: int) -> None:
    from feedback_core.qr_codes import signature

    key = ONE.current
    sig = signature(counter, serial, key)
    assert len(sig) == 8 and sig == sig.lower()
    assert signature(counter + "x", serial, key) != sig
    token = f"{counter}.{serial}.{sig}"
    assert parse_token(token) == (counter, serial, sig)
