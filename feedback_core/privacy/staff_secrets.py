"""Staff TOTP secrets sealed in the organisation log with a key from the master key (pure).

A TOTP secret must be read back to check a code, so it cannot be hashed like a password;
it is sealed as ``st1:<base64url(nonce ‖ AES-256-GCM)>`` with the username as associated
data (a sealed secret cannot be moved to another account). Secrets recorded before sealing
carry no prefix and are read as they are. Why argon2 hashes stay as they are:
docs/privacy.md.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from feedback_core.privacy.keyed import STAFF_TOTP, derived_key

PREFIX = "st1:"
NONCE_BYTES = 12


class StaffSecretBox:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(derived_key(master_key, STAFF_TOTP))

    def seal(self, username: str, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), username.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, username: str, stored: str) -> str:
        """The secret in clear. When this key does not open it, the sealed text itself: the
        account still asks for a second factor and no code matches (fails closed)."""
        if not stored.startswith(PREFIX):
            return stored  # recorded before sealing
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            clear = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], username.encode())
        except (InvalidTag, ValueError):
            return stored
        return clear.decode()


def open_staff_secret(box: StaffSecretBox | None, username: str, stored: str) -> str:
    """``stored`` through ``box``; without one (in-memory apps) as it is (a sealed one then
    matches no code)."""
    return box.open(username, stored) if box is not None else stored
