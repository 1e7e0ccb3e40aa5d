"""Signed counter tokens carried by the short QR URLs (``/q/<token>``).

A token is ``<counter id>.<signature>``: the signature is the first 10 base32 characters
of an HMAC-SHA256 of the counter id, so a code printed for one counter cannot be edited
into another's, and the URL stays short enough for a small, easily scanned QR code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_SIGNATURE_CHARS = 10


def _signature(counter_id: str, key: bytes) -> str:
    mac = hmac.new(key, counter_id.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower()[:_SIGNATURE_CHARS]


def sign_counter(counter_id: str, key: bytes) -> str:
    return f"{counter_id}.{_signature(counter_id, key)}"


def verify_counter_token(token: str, key: bytes) -> str | None:
    """The counter id when the token is genuine, else None."""
    counter_id, dot, signature = token.rpartition(".")
    if not dot or not counter_id:
        return None
    if not hmac.compare_digest(signature, _signature(counter_id, key)):
        return None
    return counter_id
