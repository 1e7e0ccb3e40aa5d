"""The sealed form of one personal field inside an event (pure).

``pd1:<subject uuid>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>``. The subject id is
in clear (it says whose key opens the field, and is the associated data, so a sealed value
cannot be moved to another subject); the value is not. Anything without the prefix is a
value written before sealing existed and is read as it is.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1:"
NONCE_BYTES = 12
ERASED_TEXT = "đã xoá theo yêu cầu"  # shown instead of an erased value


@dataclass(frozen=True)
class Revealed:
    """A personal field as it can be read now."""

    text: str  # the value in clear; "" when erased or unreadable
    erased: bool = False  # the subject's key was deleted on a lawful request
    unreadable: bool = False  # sealed, but no key opens it (wrong master key, key lost)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def subject_of(value: str) -> UUID | None:
    """Whose key opens ``value``; None for a clear (old) value or a malformed one."""
    if not is_sealed(value):
        return None
    try:
        return UUID(value[len(PREFIX) :].split(":", 1)[0])
    except ValueError:
        return None


def seal(key: bytes, subject: UUID, text: str) -> str:
    """``text`` sealed with the subject's data key; the empty string stays empty."""
    if not text:
        return ""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), subject.bytes)
    return f"{PREFIX}{subject}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(key: bytes, value: str) -> str | None:
    """The clear text of a sealed ``value``; None when ``key`` does not open it."""
    subject = subject_of(value)
    if subject is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value.rsplit(":", 1)[1])
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject.bytes).decode()
    except (InvalidTag, ValueError, IndexError):
        return None
