"""Identities derived from the submission id made where the citizen is.

Every id is a pure function of the submission id, so a resubmitted or redelivered
intake event maps onto the same aggregates and the same tracking code.
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

NAMESPACE = UUID("5b0c1c2e-6f0a-4a57-9a51-3d4f0b2d6a11")

# Crockford's base32: no I, L, O or U, so a code read aloud over the phone is unambiguous.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 10


def case_id_for(submission_id: UUID) -> UUID:
    """The id of the Case opened by a submission."""
    return uuid5(NAMESPACE, f"case:{submission_id}")


def rating_id_for(submission_id: UUID) -> UUID:
    """The id of the Rating given by a submission."""
    return uuid5(NAMESPACE, f"rating:{submission_id}")


def tracking_code_for(submission_id: UUID) -> str:
    """A short code, easy to read aloud, e.g. ``7KQ2M-9XH4T`` (50 bits of a SHA-256)."""
    digest = int.from_bytes(hashlib.sha256(submission_id.bytes).digest()[:8], "big")
    chars = []
    for _ in range(_CODE_LENGTH):
        chars.append(_CROCKFORD[digest & 31])
        digest >>= 5
    code = "".join(reversed(chars))
    return f"{code[:5]}-{code[5:]}"


def normalise_tracking_code(text: str) -> str:
    """Accept what a person types: lower case, spaces, O for 0, I/L for 1."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != _CODE_LENGTH or any(ch not in _CROCKFORD for ch in cleaned):
        return ""
    return f"{cleaned[:5]}-{cleaned[5:]}"
