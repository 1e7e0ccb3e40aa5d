"""Time-based one-time passwords (RFC 6238 on RFC 4226 HOTP), with the standard library.

Secrets are base32 text, as authenticator apps expect (``otpauth://`` URIs); codes are
6 digits every 30 seconds with HMAC-SHA1, the defaults every authenticator app supports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block the RFC recommends


def new_totp_secret() -> str:
    """A fresh random secret in base32 (no padding), to show as a QR code and enable."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def decode_secret(secret: str) -> bytes:
    """Base32 as people type it: any case, spaces, with or without padding."""
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226: HMAC of the 8-byte counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(value % 10**digits).zfill(digits)


def totp(
    key: bytes, at: datetime | float, digits: int = DIGITS, digest: str = "sha1",
    step: int = STEP_SECONDS,
) -> str:
    """RFC 6238: HOTP of the number of ``step``-second periods since the Unix epoch."""
    seconds = at.timestamp() if isinstance(at, datetime) else at
    return hotp(key, int(seconds // step), digits, digest)


def verify_totp(secret: str, code: str, at: datetime | float, window: int = 1) -> bool:
    """Does ``code`` match the secret at ``at``, allowing ``window`` periods of clock drift
    either way? Compared in constant time. (Refusing a code used twice is the caller's.)"""
    code = code.replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    try:
        key = decode_secret(secret)
    except ValueError:
        return False
    seconds = at.timestamp() if isinstance(at, datetime) else at
    return any(
        hmac.compare_digest(totp(key, seconds + drift * STEP_SECONDS), code)
        for drift in range(-window, window + 1)
    )


def provisioning_uri(secret: str, username: str, issuer: str = "Phản ánh") -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{username}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS,
                       "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"
