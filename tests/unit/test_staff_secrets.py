"""Sealing staff TOTP secrets (pure) and the derived keys."""

from __future__ import annotations

import os

from feedback_core.org.totp import new_totp_secret
from feedback_core.privacy.keyed import NOTICE_ADDRESS, STAFF_TOTP, address_hasher, derived_key
from feedback_core.privacy.staff_secrets import StaffSecretBox, open_staff_secret


def test_sealed_secret_opens_only_for_its_account_and_key() -> None:
    master = os.urandom(32)
    box = StaffSecretBox(master)
    secret = new_totp_secret()
    sealed = box.seal("canbo.a", secret)
    assert sealed.startswith("st1:") and secret not in sealed
    assert box.open("canbo.a", sealed) == secret
    assert StaffSecretBox(master).open("canbo.a", sealed) == secret
    assert box.open("canbo.b", sealed) == sealed  # moved to another account: unreadable
    assert StaffSecretBox(os.urandom(32)).open("canbo.a", sealed) == sealed
    assert box.open("canbo.a", secret) == secret  # recorded in clear before sealing
    assert open_staff_secret(None, "canbo.a", secret) == secret


def test_purposes_get_different_keys_and_address_hashes_are_keyed() -> None:
    master = os.urandom(32)
    assert derived_key(master, STAFF_TOTP) != derived_key(master, NOTICE_ADDRESS)
    hashed = address_hasher(master)
    assert hashed("lan@example.vn") == hashed(" lan@example.vn")
    assert hashed("lan@example.vn") != hashed("mai@example.vn")
    assert hashed("lan@example.vn") != address_hasher(os.urandom(32))("lan@example.vn")
    assert "lan" not in hashed("lan@example.vn") and hashed("") == ""
