"""The citizen QR form: what was typed, its validation, and the IntakeSubmission it becomes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from feedback_core.intake import (
    MAX_DESCRIPTION_CHARS,
    Channel,
    ComplaintCategory,
    IntakeError,
    IntakeSubmission,
    SipasComponent,
)
from web.i18n import N_

RATINGS = ("1", "2", "3", "4", "5")
COMPONENTS = tuple(SipasComponent)  # form fields ``component_<value>``, each optional
# What people type around a phone number: "+84 912.345-678" is +84912345678.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# C0 controls other than tab and newline: PostgreSQL text refuses NUL, and none belong in prose.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class FieldError:
    message: str  # a Vietnamese msgid, translated where it is shown
    params: Mapping[str, int] = field(default_factory=dict)


class BadSubmissionId(ValueError):
    """The hidden idempotency key is missing or not a UUID: the page was not ours or is broken."""


@dataclass(frozen=True)
class Placement:
    """Where the QR code hangs: fixed by the signed token, never by the form."""

    unit_id: str
    office_id: str
    counter_id: str


def clean_text(text: str) -> str:
    """NFC (some keyboards send decomposed Vietnamese), LF line ends, no control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class QrForm:
    """The form as typed, kept as text so a rejected form can be shown again unchanged."""

    submission_id: str = ""
    rating: str = ""
    category: str = ""
    description: str = ""
    components: Mapping[str, str] = field(default_factory=dict)  # SipasComponent -> "1".."5"
    dossier_code: str = ""
    contact: str = ""  # a phone number or an e-mail address, as typed
    consent: bool = False  # "Tôi đồng ý được liên hệ về phản ánh này"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QrForm:
        def text(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        return cls(
            submission_id=text("submission_id").strip(),
            rating=text("rating").strip(),
            category=text("category").strip(),
            description=clean_text(text("description")),
            components={
                c.value: text(f"component_{c.value}").strip()
                for c in COMPONENTS
                if text(f"component_{c.value}").strip()
            },
            dossier_code=clean_text(text("dossier_code")).strip(),
            contact=clean_text(text("contact")).strip(),
            consent=bool(text("consent")),
        )

    @property
    def text(self) -> str:
        return self.description.strip()

    @property
    def contact_email(self) -> str:
        return self.contact if "@" in self.contact else ""

    @property
    def contact_phone(self) -> str:
        return "" if "@" in self.contact else _PHONE_SEPARATORS.sub("", self.contact)


def parse_submission_id(form: QrForm) -> UUID:
    try:
        return UUID(form.submission_id)
    except ValueError:
        raise BadSubmissionId(form.submission_id) from None


def form_errors(form: QrForm) -> dict[str, FieldError]:
    """Problems by field name; empty when the form can be published."""
    errors: dict[str, FieldError] = {}
    if form.rating not in RATINGS:
        errors["rating"] = FieldError(N_("Vui lòng chọn mức độ hài lòng"))
    if form.category and form.category not in set(ComplaintCategory):
        errors["category"] = FieldError(N_("Loại phản ánh không hợp lệ, vui lòng chọn lại"))
    if len(form.text) > MAX_DESCRIPTION_CHARS:
        errors["description"] = FieldError(
            N_("Nội dung quá dài: %(n)s ký tự, tối đa 4.000 ký tự"), {"n": len(form.text)}
        )
    elif form.category and not form.text:
        # The core opens a case only for a text; without one the chosen category would be lost.
        errors["description"] = FieldError(
            N_("Vui lòng mô tả ngắn gọn sự việc khi chọn loại phản ánh")
        )
    if form.contact and not form.consent:
        # The core would store a contact without consent; we never ask for one we may not use.
        errors["contact"] = FieldError(
            N_("Vui lòng đánh dấu ô đồng ý được liên hệ, hoặc xoá thông tin liên hệ")
        )
    return errors


# The intake's own checks (IntakeError.code), shown next to the field they are about.
INTAKE_ERRORS: dict[str, tuple[str, str]] = {
    "rating_missing": ("rating", N_("Vui lòng chọn mức độ hài lòng")),
    "component_invalid": ("components", N_("Điểm đánh giá chi tiết phải từ 1 đến 5")),
    "dossier_invalid": (
        "dossier_code",
        N_("Mã hồ sơ không hợp lệ: chỉ gồm chữ, số và các dấu . - / _ (tối đa 40 ký tự)"),
    ),
    "email_invalid": ("contact", N_("Địa chỉ e-mail không hợp lệ")),
    "phone_invalid": (
        "contact",
        N_("Số điện thoại không hợp lệ: 10 hoặc 11 chữ số, bắt đầu bằng 0 hoặc +84"),
    ),
    "contact_missing": (
        "contact",
        N_("Vui lòng nhập số điện thoại hoặc e-mail để được liên hệ, hoặc bỏ đánh dấu ô đồng ý"),
    ),
    "description_too_long": ("description", N_("Nội dung quá dài: tối đa 4.000 ký tự.")),
}


def intake_error(exc: IntakeError) -> dict[str, FieldError]:
    """The field an IntakeError is about, with its message; KeyError for one no citizen
    can cause from this form (a bug: the page shows the server error)."""
    name, message = INTAKE_ERRORS[exc.code]
    return {name: FieldError(message)}


def to_submission(
    form: QrForm, place: Placement, submitted_at: datetime, locale: str
) -> IntakeSubmission:
    """The intake event of a form that passed ``form_errors``; raises IntakeError for what
    only the core checks (components, dossier code, contact), see ``intake_error``."""
    return IntakeSubmission(
        submission_id=parse_submission_id(form),
        channel=Channel.QR,
        unit_id=place.unit_id,
        office_id=place.office_id,
        counter_id=place.counter_id,
        submitted_at=submitted_at,
        rating=int(form.rating),
        description=form.text,
        category=ComplaintCategory(form.category) if form.category else None,
        locale=locale,
        components={c: int(v) if v in RATINGS else 0 for c, v in form.components.items()},
        dossier_code=form.dossier_code,
        contact_email=form.contact_email,
        contact_phone=form.contact_phone,
        wants_updates=form.consent,
    )
