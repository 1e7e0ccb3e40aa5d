"""The intake event: what every channel publishes to the intake log (schema version 1).

Optional fields added later (contact, consent) are optional in the JSON too, so version 1
events written before them still decode.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

SCHEMA_VERSION = 1
MAX_DESCRIPTION_CHARS = 4000
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")
_PHONE = re.compile(r"(?:\+84|0)\d{9,10}")


class Channel(StrEnum):
    QR = "qr"
    HOTLINE = "hotline"
    OPEN311 = "open311"
    KIOSK = "kiosk"
    PAPER = "paper"
    ZALO = "zalo"


class ComplaintCategory(StrEnum):
    HARASSMENT = "harassment"  # sách nhiễu: asking for money or extra papers
    DELAY = "delay"
    SECOND_TRIP = "second_trip"
    ATTITUDE = "attitude"
    WRONG_PROCEDURE = "wrong_procedure"
    FACILITIES = "facilities"
    OTHER = "other"


class IntakeError(ValueError):
    """A submission that cannot be accepted; ``code`` names the problem for translation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IntakeSubmission:
    """One citizen submission: a rating, optionally with a complaint."""

    submission_id: UUID
    channel: Channel
    unit_id: str
    office_id: str
    counter_id: str
    submitted_at: datetime
    rating: int
    description: str = ""
    category: ComplaintCategory | None = None
    locale: str = "vi"
    contact_email: str = ""
    contact_phone: str = ""
    wants_updates: bool = False  # the citizen consents to be contacted about this case
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def has_complaint(self) -> bool:
        return bool(self.description.strip())


def validate(sub: IntakeSubmission) -> None:
    """Raise IntakeError for anything the core must never store."""
    if sub.schema_version != SCHEMA_VERSION:
        raise IntakeError("schema", f"unsupported schema_version {sub.schema_version}")
    if not isinstance(sub.rating, int) or not 1 <= sub.rating <= 5:
        raise IntakeError("rating_missing", "rating must be an integer from 1 to 5")
    if len(sub.description) > MAX_DESCRIPTION_CHARS:
        raise IntakeError(
            "description_too_long",
            f"description has {len(sub.description)} characters; at most {MAX_DESCRIPTION_CHARS}",
        )
    if sub.submitted_at.tzinfo is None:
        raise IntakeError("schema", "submitted_at must carry a time zone")
    if not (sub.unit_id and sub.office_id and sub.counter_id):
        raise IntakeError("schema", "unit_id, office_id and counter_id are required")
    if sub.contact_email and not _EMAIL.fullmatch(sub.contact_email):
        raise IntakeError("email_invalid", f"not an e-mail address: {sub.contact_email!r}")
    if sub.contact_phone and not _PHONE.fullmatch(sub.contact_phone):
        raise IntakeError("phone_invalid", f"not a Vietnamese phone number: {sub.contact_phone!r}")
    if sub.wants_updates and not (sub.contact_email or sub.contact_phone):
        raise IntakeError("contact_missing", "updates need an e-mail address or a phone number")


def to_json(sub: IntakeSubmission) -> bytes:
    data = asdict(sub)
    data["submission_id"] = str(sub.submission_id)
    data["submitted_at"] = sub.submitted_at.isoformat()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def from_json(raw: bytes | str) -> IntakeSubmission:
    """Decode an intake event; raises IntakeError for anything malformed (a poison message)."""
    try:
        data: dict[str, Any] = json.loads(raw)
        category = data.get("category")
        return IntakeSubmission(
            submission_id=UUID(data["submission_id"]),
            channel=Channel(data["channel"]),
            unit_id=str(data["unit_id"]),
            office_id=str(data["office_id"]),
            counter_id=str(data["counter_id"]),
            submitted_at=datetime.fromisoformat(data["submitted_at"]),
            rating=data["rating"],
            description=str(data.get("description") or ""),
            category=ComplaintCategory(category) if category else None,
            locale=str(data.get("locale") or "vi"),
            contact_email=str(data.get("contact_email") or ""),
            contact_phone=str(data.get("contact_phone") or ""),
            wants_updates=bool(data.get("wants_updates", False)),
            schema_version=int(data["schema_version"]),
        )
    except IntakeError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise IntakeError("schema", f"malformed intake event: {exc!r}") from exc
