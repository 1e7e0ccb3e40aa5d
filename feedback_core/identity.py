"""Identities derived from the submission id made where the citizen is.

Every id is a pure function of the submission id, so a resubmitted or redelivered
intake event maps onto the same aggregates and the same tracking code.
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

NAMESPACE = UUID("5b0c1c2e-6f0a-4a57-9a51-3d4f0b2d6a11")

# Crockford's base32: no I, L, O or U, so a code read aloud over the phone is unambiguous.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BITS = 60
_CODE_LENGTH = CODE_BITS // 5  # 12 characters, read aloud in three groups of four
_GROUP = 4
# Codes issued before the 60-bit codes: 50 bits, ``7KQ2M-9XH4T``. They stay valid.
_LEGACY_LENGTH = 10


def case_id_for(submission_id: UUID) -> UUID:
    """The id of the Case opened by a submission."""
    return uuid5(NAMESPACE, f"case:{submission_id}")


def rating_id_for(submission_id: UUID) -> UUID:
    """The id of the Rating given by a submission."""
    return uuid5(NAMESPACE, f"rating:{submission_id}")


def service_request_id_for(submission_id: UUID) -> str:
    """The public Open311 ``service_request_id`` of a case: a uuid5 of the submission id.

    Distinct from the tracking code, which is the citizen's private authority on the
    tracking page; neither can be computed from the other (both hash the submission id)."""
    return str(uuid5(NAMESPACE, f"service-request:{submission_id}"))


def tracking_number(submission_id_bytes: bytes) -> int:
    """The 60 bits behind a tracking code: the first bits of the SHA-256 of the id's 16
    bytes (a function of bytes, so that a test can derive millions of them quickly)."""
    digest = hashlib.sha256(submission_id_bytes).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - CODE_BITS)


def tracking_code_for(submission_id: UUID) -> str:
    """A short code, easy to read aloud, e.g. ``7KQ2-M9XH-4TBC`` (60 bits of a SHA-256).

    Among 10 million codes the chance of any collision is about 4 in 100,000 (birthday
    bound n²/2^61); a test derives 10 million and finds none."""
    return format_tracking_code(tracking_number(submission_id.bytes))


# Every pair of Crockford characters, indexed by the 10 bits they stand for.
_PAIRS = [first + second for first in CROCKFORD for second in CROCKFORD]


def format_tracking_code(number: int) -> str:
    """The 12 Crockford characters of a 60-bit number (its low 60 bits), in groups of four.

    Six pairs of characters from a table, 10 bits each: one code per submission on the
    intake's write path, where the character-by-character loop was a tenth of the building
    (tests/unit/test_identity.py holds it to that definition)."""
    p = _PAIRS
    return (
        f"{p[number >> 50 & 1023]}{p[number >> 40 & 1023]}-"
        f"{p[number >> 30 & 1023]}{p[number >> 20 & 1023]}-"
        f"{p[number >> 10 & 1023]}{p[number & 1023]}"
    )


def _grouped(code: str) -> str:
    if len(code) == _LEGACY_LENGTH:
        return f"{code[:5]}-{code[5:]}"
    return "-".join(code[i : i + _GROUP] for i in range(0, len(code), _GROUP))


def normalise_tracking_code(text: str) -> str:
    """Accept what a person types: lower case, spaces, dashes, O for 0, I/L for 1.

    Returns the canonical code (``XXXX-XXXX-XXXX``, or ``XXXXX-XXXXX`` for a code issued
    before the 60-bit codes), or "" when the text cannot be a tracking code."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) not in (_CODE_LENGTH, _LEGACY_LENGTH):
        return ""
    if any(ch not in CROCKFORD for ch in cleaned):
        return ""
    return _grouped(cleaned)
