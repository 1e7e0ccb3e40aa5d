"""Case notices: what a citizen hears about their case (pure: no I/O).

A notice is made from one event of a ``Case`` and the case as it stood right after that
event. It carries only what the citizen may see: the tracking code, the kind of step, the
public text of that step (the public answer, the question put to the citizen, the reason
for refusing, the new unit), a due date where the step sets one, and the citizens to tell.
Internal notes, assignments, escalations, transfer negotiations, reasons other than a
refusal's and the officers' names never become part of a notice.

``notice_id`` is ``uuid5(NOTICE_NAMESPACE, f"{case_id}:{version}")``: a notice published
twice (at-least-once) has the same id, and the notifier skips what it has already sent.

The JSON form (schema version 1) is the message of topic ``feedback.case-events.v1``,
documented in ``docs/asyncapi.yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from feedback_core.cases import Case
from feedback_core.local_time import LOCAL_ZONE

SCHEMA_VERSION = 1
NOTICE_NAMESPACE = UUID("0f4b6a52-3c2d-5e8f-9a17-6d0c2b9e4a31")
DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")


class NoticeKind(StrEnum):
    ACCEPTED = "accepted"  # thụ lý: the unit takes the case on, due date set
    REFUSED = "refused"  # không thụ lý, with the reason
    CITIZEN_ASKED = "citizen_asked"  # the handler needs something from the citizen
    ANSWERED = "answered"  # the public answer
    RESOLVED = "resolved"
    CLOSED = "closed"
    TRANSFERRED = "transferred"  # another unit now handles the case
    REOPENED = "reopened"
    EXTENDED = "extended"  # the deadline was extended (new due date)
    WITHDRAWN = "withdrawn"
    MERGED = "merged"  # this case was merged into another one (its tracking code)


class NoticeError(ValueError):
    """A message of the case-events topic that is not a notice this code understands."""


@dataclass(frozen=True)
class Recipient:
    """A citizen who agreed to hear about the case; any field may be empty."""

    email: str = ""
    phone: str = ""
    zalo: str = ""  # "<OA id>:<follower id>": a follower of a ward's Zalo OA (docs/zalo.md)


@dataclass(frozen=True)
class CaseNotice:
    notice_id: UUID
    case_id: UUID
    case_version: int
    tracking_code: str
    kind: NoticeKind
    at: datetime  # business time of the step, with its zone
    unit_id: str  # the unit responsible for the case after the step
    public_text: str
    recipients: tuple[Recipient, ...]
    locale: str = DEFAULT_LOCALE
    due_on: date | None = None
    schema_version: int = field(default=SCHEMA_VERSION)


def notice_id_for(case_id: UUID, version: int) -> UUID:
    return uuid5(NOTICE_NAMESPACE, f"{case_id}:{version}")


# --- from case events ----------------------------------------------------------------------

# What each citizen-facing event says: its kind, its public text, the due date it sets.
# Anything not listed here (notes, assignments, escalations, transfer requests and returns,
# a primary absorbing a duplicate, the citizen's own reply) makes no notice.
_Mapping = Callable[[Any], tuple[NoticeKind, str, date | None]]
_NOTICES: dict[type, _Mapping] = {
    Case.Accepted: lambda e: (NoticeKind.ACCEPTED, "", e.due_on),
    Case.Refused: lambda e: (NoticeKind.REFUSED, e.reason, None),
    Case.CitizenAsked: lambda e: (NoticeKind.CITIZEN_ASKED, e.question, None),
    Case.Answered: lambda e: (NoticeKind.ANSWERED, e.public_answer, None),
    Case.Resolved: lambda e: (NoticeKind.RESOLVED, "", None),
    Case.Closed: lambda e: (NoticeKind.CLOSED, "", None),
    Case.TransferAccepted: lambda e: (NoticeKind.TRANSFERRED, e.to_unit, None),
    Case.Reopened: lambda e: (NoticeKind.REOPENED, "", None),
    Case.DeadlineExtended: lambda e: (NoticeKind.EXTENDED, "", e.due_on),
    Case.Withdrawn: lambda e: (NoticeKind.WITHDRAWN, "", None),
    Case.MergedInto: lambda e: (NoticeKind.MERGED, e.primary_tracking_code, None),
}

NOTIFIED_EVENTS: tuple[type, ...] = tuple(_NOTICES)


def unique_recipients(pairs: Iterable[Sequence[str]]) -> tuple[Recipient, ...]:
    """The case's (email, phone[, zalo]) entries in order, each address once (the same
    citizen may have complained twice and the cases been merged), without empty ones."""
    seen: set[str] = set()
    result: list[Recipient] = []
    for entry in pairs:
        email, phone, zalo = (str(part).strip() for part in (*entry, "", "")[:3])
        if email.lower() in seen:
            email = ""
        if phone in seen:
            phone = ""
        if zalo in seen:
            zalo = ""
        if email or phone or zalo:
            seen.update(a for a in (email.lower(), phone, zalo) if a)
            result.append(Recipient(email=email, phone=phone, zalo=zalo))
    return tuple(result)


def notice_for(event: Any, case: Any) -> CaseNotice | None:
    """The notice for ``event``, given ``case`` as it stood right after the event (so a
    merged primary's recipients include the citizens of the duplicates absorbed so far).

    None when the event is not one a citizen hears about, or nobody asked to hear.
    """
    mapping = _NOTICES.get(type(event))
    if mapping is None:
        return None
    recipients = unique_recipients(case.recipients)
    if not recipients:
        return None
    kind, text, due = mapping(event)
    locale = str(getattr(case, "locale", "") or DEFAULT_LOCALE)
    return CaseNotice(
        notice_id=notice_id_for(event.originator_id, event.originator_version),
        case_id=event.originator_id,
        case_version=event.originator_version,
        tracking_code=case.tracking_code,
        kind=kind,
        at=event.at,
        unit_id=case.unit_id,
        public_text=text.strip(),
        recipients=recipients,
        locale=locale if locale in LOCALES else DEFAULT_LOCALE,
        due_on=due,
    )


# --- JSON codec ----------------------------------------------------------------------------


def to_dict(notice: CaseNotice) -> dict[str, Any]:
    return {
        "schema_version": notice.schema_version,
        "notice_id": str(notice.notice_id),
        "case_id": str(notice.case_id),
        "case_version": notice.case_version,
        "tracking_code": notice.tracking_code,
        "kind": notice.kind.value,
        "at": notice.at.isoformat(),
        "unit_id": notice.unit_id,
        "public_text": notice.public_text,
        "due_on": notice.due_on.isoformat() if notice.due_on else None,
        "locale": notice.locale,
        "recipients": [_recipient_dict(r) for r in notice.recipients],
    }


def _recipient_dict(recipient: Recipient) -> dict[str, str]:
    found = {"email": recipient.email, "phone": recipient.phone}
    if recipient.zalo:  # only when there is one: earlier consumers see what they knew
        found["zalo"] = recipient.zalo
    return found


def to_json(notice: CaseNotice) -> bytes:
    return json.dumps(to_dict(notice), ensure_ascii=False, separators=(",", ":")).encode()


def from_json(raw: bytes | str) -> CaseNotice:
    """Decode a notice; raises NoticeError for anything malformed or of another version."""
    try:
        data: dict[str, Any] = json.loads(raw)
        version = int(data["schema_version"])
        if version != SCHEMA_VERSION:
            raise NoticeError(f"unsupported notice schema_version {version}")
        at = datetime.fromisoformat(data["at"])
        if at.tzinfo is None:
            raise NoticeError("notice time 'at' must carry a time zone")
        due = data.get("due_on")
        return CaseNotice(
            notice_id=UUID(data["notice_id"]),
            case_id=UUID(data["case_id"]),
            case_version=int(data["case_version"]),
            tracking_code=str(data["tracking_code"]),
            kind=NoticeKind(data["kind"]),
            at=at,
            unit_id=str(data["unit_id"]),
            public_text=str(data.get("public_text") or ""),
            recipients=tuple(
                Recipient(
                    email=str(r.get("email") or ""),
                    phone=str(r.get("phone") or ""),
                    zalo=str(r.get("zalo") or ""),
                )
                for r in data["recipients"]
            ),
            locale=str(data.get("locale") or DEFAULT_LOCALE),
            due_on=date.fromisoformat(due) if due else None,
            schema_version=version,
        )
    except NoticeError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NoticeError(f"malformed case notice: {exc!r}") from exc


# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a channel sends: e-mail uses subject and body, SMS the short text."""

    subject: str
    body: str
    short: str  # one line for SMS: the subject and the tracking URL
    url: str  # the tracking page
    notice_id: UUID
    kind: NoticeKind
    tracking_code: str
    at: datetime


UnitName = Callable[[str, str], str]  # (unit id, locale) -> the unit's name


def unit_names_from(units: Mapping[str, Any]) -> UnitName:
    """Names from the organisation's units (objects with ``name_vi`` and ``name_en``)."""

    def name(unit_id: str, locale: str) -> str:
        unit = units.get(unit_id)
        if unit is None:
            return unit_id
        return str(unit.name_en if locale == "en" else unit.name_vi)

    return name


def tracking_url(base_url: str, tracking_code: str, locale: str = DEFAULT_LOCALE) -> str:
    url = f"{base_url.rstrip('/')}/t/{tracking_code}"
    return f"{url}?lang=en" if locale == "en" else url


# Subject and first paragraph per kind and locale. Placeholders: {code}, {unit}, {text},
# {due} (a date), {url}.
_TEXTS: dict[str, dict[NoticeKind, tuple[str, str]]] = {
    "vi": {
        NoticeKind.ACCEPTED: (
            "Phản ánh {code} đã được thụ lý",
            "Phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) đã được {unit} thụ lý "
            "giải quyết. Hạn trả lời: {due}.",
        ),
        NoticeKind.REFUSED: (
            "Phản ánh {code} không được thụ lý",
            "{unit} không thụ lý phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}).\n"
            "Lý do: {text}",
        ),
        NoticeKind.CITIZEN_ASKED: (
            "Phản ánh {code}: cần Ông/Bà bổ sung thông tin",
            "Để tiếp tục giải quyết phản ánh (mã theo dõi {code}), {unit} cần Ông/Bà cho "
            "biết:\n{text}\nThời hạn giải quyết tạm dừng cho đến khi nhận được trả lời.",
        ),
        NoticeKind.ANSWERED: (
            "Phản ánh {code} đã có trả lời",
            "{unit} trả lời phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}):\n{text}",
        ),
        NoticeKind.RESOLVED: (
            "Phản ánh {code} đã được giải quyết",
            "Phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) đã được {unit} giải quyết.",
        ),
        NoticeKind.CLOSED: (
            "Phản ánh {code} đã kết thúc",
            "Hồ sơ phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) đã kết thúc.",
        ),
        NoticeKind.TRANSFERRED: (
            "Phản ánh {code} đã được chuyển đến {unit}",
            "Phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) đã được chuyển đến {unit}, "
            "đơn vị có thẩm quyền giải quyết.",
        ),
        NoticeKind.REOPENED: (
            "Phản ánh {code} được mở lại",
            "Phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) được mở lại để {unit} "
            "tiếp tục giải quyết.",
        ),
        NoticeKind.EXTENDED: (
            "Phản ánh {code}: gia hạn giải quyết",
            "Thời hạn giải quyết phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) được "
            "gia hạn đến ngày {due}.",
        ),
        NoticeKind.WITHDRAWN: (
            "Phản ánh {code} đã được rút",
            "Phản ánh, kiến nghị của Ông/Bà (mã theo dõi {code}) đã được rút và không "
            "tiếp tục giải quyết.",
        ),
        NoticeKind.MERGED: (
            "Phản ánh {code} được gộp vào hồ sơ {text}",
            "Phản ánh của Ông/Bà (mã theo dõi {code}) cùng nội dung với hồ sơ {text} nên "
            "được gộp vào hồ sơ đó. Ông/Bà sẽ tiếp tục nhận thông báo về hồ sơ {text}.",
        ),
    },
    "en": {
        NoticeKind.ACCEPTED: (
            "Your feedback {code} has been accepted",
            "{unit} has accepted your feedback (tracking code {code}) for handling. "
            "Answer due by {due}.",
        ),
        NoticeKind.REFUSED: (
            "Your feedback {code} was not accepted",
            "{unit} did not accept your feedback (tracking code {code}).\nReason: {text}",
        ),
        NoticeKind.CITIZEN_ASKED: (
            "Your feedback {code}: we need more information",
            "To go on with your feedback (tracking code {code}), {unit} asks:\n{text}\n"
            "The time limit is paused until you reply.",
        ),
        NoticeKind.ANSWERED: (
            "Your feedback {code} has been answered",
            "{unit} answers your feedback (tracking code {code}):\n{text}",
        ),
        NoticeKind.RESOLVED: (
            "Your feedback {code} has been resolved",
            "{unit} has resolved your feedback (tracking code {code}).",
        ),
        NoticeKind.CLOSED: (
            "Your feedback {code} is closed",
            "The file of your feedback (tracking code {code}) is closed.",
        ),
        NoticeKind.TRANSFERRED: (
            "Your feedback {code} has been passed to {unit}",
            "Your feedback (tracking code {code}) has been passed to {unit}, the unit "
            "competent to handle it.",
        ),
        NoticeKind.REOPENED: (
            "Your feedback {code} has been reopened",
            "Your feedback (tracking code {code}) has been reopened; {unit} continues "
            "to handle it.",
        ),
        NoticeKind.EXTENDED: (
            "Your feedback {code}: time limit extended",
            "The time limit for your feedback (tracking code {code}) has been extended "
            "to {due}.",
        ),
        NoticeKind.WITHDRAWN: (
            "Your feedback {code} has been withdrawn",
            "Your feedback (tracking code {code}) has been withdrawn and will not be "
            "handled further.",
        ),
        NoticeKind.MERGED: (
            "Your feedback {code} has been merged into {text}",
            "Your feedback (tracking code {code}) is about the same matter as case {text}, "
            "so it has been merged into it. You will hear about case {text} from now on.",
        ),
    },
}

_FOOTER = {
    "vi": "Theo dõi hồ sơ: {url}\n\nThời điểm: {at}.\n"
    "Đây là thư tự động của hệ thống Phản ánh; xin vui lòng không trả lời thư này.",
    "en": "Follow your case: {url}\n\nTime: {at}.\n"
    "This is an automatic message from the Phản ánh system; please do not reply to it.",
}
_SHORT = {"vi": "{subject}. Xem: {url}", "en": "{subject}. See: {url}"}


def _format_date(day: date | None, locale: str) -> str:
    if day is None:
        return "-"
    return f"{day.day} {day:%B %Y}" if locale == "en" else f"{day:%d/%m/%Y}"


def _format_time(at: datetime, locale: str) -> str:
    local = at.astimezone(LOCAL_ZONE)
    clock = f"{local:%H:%M}"
    return f"{clock}, {_format_date(local.date(), locale)} (UTC+7)"


def render(
    notice: CaseNotice, base_url: str, unit_name: UnitName | None = None
) -> Message:
    """Subject, body and SMS text of a notice, in its locale (Vietnamese unless "en")."""
    locale = notice.locale if notice.locale in _TEXTS else DEFAULT_LOCALE
    name = unit_name or (lambda unit_id, _locale: unit_id)
    url = tracking_url(base_url, notice.tracking_code, locale)
    text = notice.public_text
    if notice.kind is NoticeKind.TRANSFERRED:
        text = name(notice.public_text or notice.unit_id, locale)
    values = {
        "code": notice.tracking_code,
        "unit": name(notice.unit_id, locale),
        "text": text,
        "due": _format_date(notice.due_on, locale),
        "url": url,
    }
    subject_template, lead_template = _TEXTS[locale][notice.kind]
    subject = subject_template.format(**values)
    footer = _FOOTER[locale].format(url=url, at=_format_time(notice.at, locale))
    body = f"{lead_template.format(**values)}\n\n{footer}\n"
    return Message(
        subject=subject,
        body=body,
        short=_SHORT[locale].format(subject=subject, url=url),
        url=url,
        notice_id=notice.notice_id,
        kind=notice.kind,
        tracking_code=notice.tracking_code,
        at=notice.at,
    )
