"""The intake event: what every channel publishes to the intake log (schema version 1).

Optional fields added later (contact, consent, batch_id) are optional in the JSON too, so
version 1 events written before them still decode.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson

from feedback_core.privacy.sealing import is_sealed, subject_of

SCHEMA_VERSION = 1
MAX_DESCRIPTION_CHARS = 4000
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")
_PHONE = re.compile(r"(?:\+84|0)\d{9,10}")
# A Zalo follower: "<OA id>:<the follower's user id at that OA>" (web.zalo_webhook).
_ZALO = re.compile(r"[0-9A-Za-z_-]{1,64}:[0-9A-Za-z_-]{1,64}")


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


class SipasComponent(StrEnum):
    """The five components of the national satisfaction index (SIPAS)."""

    ACCESS = "access"  # access to information about the service
    PROCEDURES = "procedures"  # administrative procedures
    OFFICERS = "officers"  # the officers' attitude and competence
    RESULTS = "results"  # results and timeliness
    FEEDBACK = "feedback"  # handling of feedback and complaints


# Channels where the citizen rates the service; the others may carry a complaint alone.
RATING_CHANNELS = frozenset({Channel.QR, Channel.KIOSK, Channel.PAPER})
_DOSSIER_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-/_]{0,39}")
_PHOTO_ID = re.compile(r"[0-9a-f]{64}")


class IntakeError(ValueError):
    """A submission that cannot be accepted; ``code`` names the problem for translation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IntakeSubmission:
    """One citizen submission: a rating and/or a complaint, from any channel."""

    submission_id: UUID
    channel: Channel
    unit_id: str
    office_id: str
    counter_id: str
    submitted_at: datetime
    rating: int | None
    description: str = ""
    category: ComplaintCategory | None = None
    locale: str = "vi"
    contact_email: str = ""
    contact_phone: str = ""
    contact_zalo: str = ""  # "<OA id>:<follower id>": answers go back through that OA
    wants_updates: bool = False  # the citizen consents to be contacted about this case
    components: dict[str, int] = field(default_factory=dict)  # SipasComponent -> 1..5
    dossier_code: str = ""  # mã hồ sơ on the citizen's receipt, ties a rating to a dossier
    photo_id: str = ""  # SHA-256 of a photo kept in the media store
    reported_by: str = ""  # the operator or API client who recorded it on the citizen's behalf
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    batch_id: str = ""  # paper cards: the batch the card was entered in (web.paper_cards)
    # Kiosks: the tap time the device sent when it was implausible and the receipt time was
    # used instead (ISO 8601; web.kiosk.rating_time); empty when it was used.
    clamped_device_time: str = ""
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def has_complaint(self) -> bool:
        return bool(self.description.strip())

    @property
    def has_rating(self) -> bool:
        return self.rating is not None


def validate(sub: IntakeSubmission) -> None:
    """Raise IntakeError for anything the core must never store."""
    if sub.schema_version != SCHEMA_VERSION:
        raise IntakeError("schema", f"unsupported schema_version {sub.schema_version}")
    if sub.rating is None:
        if sub.channel in RATING_CHANNELS:
            raise IntakeError("rating_missing", "rating must be an integer from 1 to 5")
        if not sub.has_complaint:
            raise IntakeError("empty", "a submission without a rating needs a description")
    elif not _score(sub.rating):
        raise IntakeError("rating_missing", "rating must be an integer from 1 to 5")
    for component, score in sub.components.items():
        if component not in SipasComponent.__members__.values() or not _score(score):
            raise IntakeError("component_invalid", f"component {component}={score!r}")
    if sub.components and sub.rating is None:
        raise IntakeError("rating_missing", "SIPAS components come with an overall rating")
    if sub.dossier_code and not _DOSSIER_CODE.fullmatch(sub.dossier_code):
        raise IntakeError("dossier_invalid", f"not a dossier code: {sub.dossier_code!r}")
    if sub.photo_id and not _PHOTO_ID.fullmatch(sub.photo_id):
        raise IntakeError("schema", "photo_id must be a SHA-256 in hex")
    if (sub.latitude is None) != (sub.longitude is None) or not _on_earth(sub):
        raise IntakeError("location_invalid", "latitude and longitude go together, in range")
    if len(sub.description) > MAX_DESCRIPTION_CHARS:
        raise IntakeError(
            "description_too_long",
            f"description has {len(sub.description)} characters; at most {MAX_DESCRIPTION_CHARS}",
        )
    if sub.submitted_at.tzinfo is None:
        raise IntakeError("schema", "submitted_at must carry a time zone")
    if not (sub.unit_id and sub.office_id and sub.counter_id):
        raise IntakeError("schema", "unit_id, office_id and counter_id are required")
    _validate_contact(sub)
    if sub.wants_updates and not (sub.contact_email or sub.contact_phone or sub.contact_zalo):
        raise IntakeError("contact_missing", "updates need an e-mail address or a phone number")


def _validate_contact(sub: IntakeSubmission) -> None:
    """Clear contacts are checked; sealed ones (by the receiving edge, after this check)
    only for their subject: a value sealed for another submission is never accepted."""
    for value, pattern, code, message in (
        (sub.contact_email, _EMAIL, "email_invalid", "not an e-mail address: {!r}"),
        (sub.contact_phone, _PHONE, "phone_invalid", "not a Vietnamese phone number: {!r}"),
        (sub.contact_zalo, _ZALO, "zalo_invalid", "contact_zalo must be '<OA id>:<follower id>'"),
    ):
        if not value:
            continue
        if is_sealed(value):
            if subject_of(value) != sub.submission_id:
                raise IntakeError("schema", "a sealed contact of another submission")
        elif not pattern.fullmatch(value):
            raise IntakeError(code, message.format(value))


def _score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def _on_earth(sub: IntakeSubmission) -> bool:
    if sub.latitude is None or sub.longitude is None:
        return True
    return -90 <= sub.latitude <= 90 and -180 <= sub.longitude <= 180


_FIELD_NAMES = tuple(f.name for f in fields(IntakeSubmission))


def to_json(sub: IntakeSubmission) -> bytes:
    # The fields as they are (a shallow copy): ``asdict`` deep-copies every value, a tenth
    # of the web's CPU per QR POST; the one container (``components``) is only read here.
    data = {name: getattr(sub, name) for name in _FIELD_NAMES}
    data["submission_id"] = str(sub.submission_id)
    data["submitted_at"] = sub.submitted_at.isoformat()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def from_json(raw: bytes | str) -> IntakeSubmission:
    """Decode an intake event; raises IntakeError for anything malformed (a poison message).

    ``orjson`` parses (this function 14 → 10 µs a message on the consumer's loop thread), and
    it refuses what could never be stored (a lone surrogate such as ``"\\ud800"``, which the
    event store's UTF-8 encoding would reject on every re-delivery), as it refuses NaN."""
    try:
        data: dict[str, Any] = orjson.loads(raw)
        if not isinstance(data, dict):
            raise IntakeError("schema", "an intake event is a JSON object")
        category = data.get("category")
        return IntakeSubmission(
            submission_id=UUID(data["submission_id"]),
            channel=Channel(data["channel"]),
            unit_id=str(data["unit_id"]),
            office_id=str(data["office_id"]),
            counter_id=str(data["counter_id"]),
            submitted_at=datetime.fromisoformat(data["submitted_at"]),
            rating=data.get("rating"),
            description=str(data.get("description") or ""),
            category=ComplaintCategory(category) if category else None,
            locale=str(data.get("locale") or "vi"),
            contact_email=str(data.get("contact_email") or ""),
            contact_phone=str(data.get("contact_phone") or ""),
            contact_zalo=str(data.get("contact_zalo") or ""),
            wants_updates=bool(data.get("wants_updates", False)),
            components={str(k): v for k, v in (data.get("components") or {}).items()},
            dossier_code=str(data.get("dossier_code") or ""),
            photo_id=str(data.get("photo_id") or ""),
            reported_by=str(data.get("reported_by") or ""),
            address=str(data.get("address") or ""),
            latitude=_optional_float(data.get("latitude")),
            longitude=_optional_float(data.get("longitude")),
            batch_id=str(data.get("batch_id") or ""),
            clamped_device_time=str(data.get("clamped_device_time") or ""),
            schema_version=int(data["schema_version"]),
        )
    except IntakeError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # e.g. components: []
        raise IntakeError("schema", f"malformed intake event: {exc!r}") from exc


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
