"""Keys derived from the personal-data master key, one per purpose (pure).

The master key (``FEEDBACK_PERSONAL_DATA_KEY``) wraps the citizens' data keys; the same
secret also seals staff TOTP secrets and keys the hashes of notice addresses. HKDF gives each
purpose its own key, so no two uses ever share one.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
STAFF_TOTP = b"feedback staff totp secret v1"
NOTICE_ADDRESS = b"feedback notice address hash v1"


def derived_key(master_key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` from the master key (HKDF-SHA256, no salt)."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(
        master_key
    )


def address_hasher(master_key: bytes) -> AddressHasher:
    return AddressHasher(derived_key(master_key, NOTICE_ADDRESS))


class AddressHasher:
    """A keyed hash (HMAC-SHA256) of a notice's address: equal addresses give equal hashes,
    so sending can be de-duplicated, but nobody without the master key can test a guess."""

    PREFIX = "ah1:"

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, address: str) -> str:
        if not address:
            return ""
        mac = hmac.new(self._key, address.strip().encode(), hashlib.sha256).hexdigest()
        return f"{self.PREFIX}{mac}"
