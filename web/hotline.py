"""Hotline 1022: an operator records a phone complaint on the caller's behalf ("report as").

``GET/POST /staff/hotline`` is the operator's form (the operator role only: ``Operator``
below builds on ``web.principal.Staff``). A recorded call is an ``IntakeSubmission`` with
``channel=hotline``, no rating, ``reported_by`` = the operator, the caller's number as the
contact and the call time as ``submitted_at``; it goes to the intake log like a QR
submission. The hidden submission id is made when the form renders, so a double submit or a
retry after an error is one submission (the core keys the case on it).

The checks and the event are shared with the machine-to-machine endpoint
(``web.hotline_api``); ``case_contact`` gives the case page the caller's contact, in full
or masked by role (``feedback_core.masking``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

import anyio
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.identity import tracking_code_for
from feedback_core.intake import (
    MAX_DESCRIPTION_CHARS,
    Channel,
    ComplaintCategory,
    IntakeError,
    IntakeSubmission,
)
from feedback_core.local_time import LOCAL_ZONE
from feedback_core.masking import email_for, phone_for, sees_full_contact
from feedback_core.organisation import Counter, Office, Organisation, Unit
from feedback_core.privacy.vault import reveal_text
from feedback_core.roles import Role
from web import csrf
from web.case_received import case_received
from web.errors import error_page
from web.forms import FieldError, Placement, clean_text
from web.i18n import N_
from web.labels import CATEGORY_LABELS
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

log = logging.getLogger(__name__)

ROUTE = "/staff/hotline"
DONE_KEY = "hotline_done"  # the last recorded call's code, from the POST to the page after it
PUBLISH_TIMEOUT_SECONDS = 15
MAX_FORM_BYTES = 100_000
MAX_CALL_AGE = timedelta(days=30)  # a call logged later than this is a typing mistake
CLOCK_SKEW = timedelta(minutes=2)  # a call time this far ahead of our clock is still "now"
TIME_FORMAT = "%d/%m/%Y %H:%M"  # how the page shows and expects the call time (local)
_TIME_FORMATS = (
    TIME_FORMAT, "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
)
# What callers and telephony systems write between digits.
_SEPARATORS = re.compile(r"[\s.\-()/]")
# feedback_core.intake accepts (?:\+84|0)\d{9,10}; numbers are kept in the national form.
_NATIONAL_PHONE = re.compile(r"0\d{9,10}")

OPERATORS_ONLY = N_("Chỉ tổng đài viên đường dây nóng được sử dụng trang này.")
CHECK_FIELDS = N_("Vui lòng kiểm tra lại các mục được đánh dấu bên dưới.")
BAD_FORM = N_("Biểu mẫu không hợp lệ hoặc đã cũ. Vui lòng kiểm tra lại và bấm Ghi nhận.")
NOT_RECORDED = N_(
    "Hệ thống chưa ghi nhận được cuộc gọi. Nội dung vẫn còn bên dưới — vui lòng bấm "
    "Ghi nhận lại sau giây lát."
)

# Problems, by code: the page shows the msgid, the API the code and its English text.
MESSAGES: dict[str, str] = {
    "phone_invalid": N_("Số điện thoại không hợp lệ. Ví dụ: 0912 345 678 hoặc 024 3825 1234."),
    "phone_missing": N_("Người gọi muốn được gọi lại: vui lòng nhập số điện thoại."),
    "time_invalid": N_("Thời điểm cuộc gọi không hợp lệ. Ví dụ: 23/11/2026 10:30."),
    "time_future": N_("Thời điểm cuộc gọi không thể ở tương lai."),
    "time_too_old": N_("Chỉ ghi nhận cuộc gọi trong vòng %(days)s ngày gần nhất."),
    "category_missing": N_("Vui lòng chọn loại phản ánh."),
    "unit_missing": N_("Vui lòng chọn đơn vị bị phản ánh."),
    "unit_forbidden": N_("Đơn vị này không thuộc phạm vi của bạn."),
    "unit_closed": N_("Đơn vị này đã ngừng hoạt động hoặc không có quầy tiếp nhận."),
    "counter_invalid": N_("Quầy không thuộc đơn vị đã chọn."),
    "description_missing": N_("Vui lòng ghi nội dung phản ánh của người gọi."),
    "description_too_long": N_("Nội dung quá dài: %(n)s ký tự, tối đa 4.000 ký tự"),
}
# What the core's own validation (IntakeError codes) is about, as a field of the call.
INTAKE_FIELDS = {
    "phone_invalid": ("caller_number", "phone_invalid"),
    "contact_missing": ("caller_number", "phone_missing"),
    "description_too_long": ("description", "description_too_long"),
    "empty": ("description", "description_missing"),
}


def require_operator(principal: Staff) -> StaffPrincipal:
    """The operator role only (on top of ``Staff``: signed in, a role that sees cases)."""
    if principal.actor.role is not Role.OPERATOR:
        raise StaffForbidden(OPERATORS_ONLY)
    return principal


Operator = Annotated[StaffPrincipal, Depends(require_operator)]


# --- the checks shared with the API ---------------------------------------------------------


def normalise_phone(text: str) -> str:
    """A number as people and telephony systems write it, in the national form:
    ``+84 912 345 678``, ``84912345678``, ``0084…`` and ``0912.345.678`` → ``0912345678``."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+84"):
        return "0" + digits[3:]
    if digits.startswith("0084"):
        return "0" + digits[4:]
    if digits.startswith("84") and len(digits) in (11, 12):
        return "0" + digits[2:]
    return digits


def phone_problem(phone: str, wants_callback: bool) -> str | None:
    """``phone`` normalised; a number may be withheld unless the caller wants a call back."""
    if not phone:
        return "phone_missing" if wants_callback else None
    return None if _NATIONAL_PHONE.fullmatch(phone) else "phone_invalid"


def parse_local_time(text: str) -> datetime | None:
    """A call time typed on the page, in Hà Nội time (``23/11/2026 10:30`` or ISO)."""
    text = " ".join(text.split())
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_ZONE)
        except ValueError:
            continue
    return None


def time_problem(at: datetime, now: datetime) -> str | None:
    if at > now + CLOCK_SKEW:
        return "time_future"
    if at < now - MAX_CALL_AGE:
        return "time_too_old"
    return None


def description_problem(text: str) -> str | None:
    if not text:
        return "description_missing"
    return "description_too_long" if len(text) > MAX_DESCRIPTION_CHARS else None


@dataclass(frozen=True)
class UnitChoice:
    """A unit a call can be about, with its open counters; the first is the default."""

    unit: Unit
    counters: list[tuple[Office, Counter]]

    @property
    def placement(self) -> Placement:
        office, counter = self.counters[0]
        return Placement(self.unit.id, office.id, counter.id)


def unit_choices(org: Organisation, scope: tuple[str, ...] | list[str]) -> list[UnitChoice]:
    """The open units of a scope that have an open counter, in the scope's order."""
    found = []
    for unit_id in scope:
        unit = org.units.get(unit_id)
        if unit is None or unit.closed:
            continue
        counters = [
            (office, counter)
            for office in org.offices.values()
            if office.unit_id == unit_id and not office.closed
            for counter in org.counters.values()
            if counter.office_id == office.id and not counter.closed
        ]
        if counters:
            found.append(UnitChoice(unit, counters))
    return found


def resolve_place(
    org: Organisation, scope: tuple[str, ...] | list[str], unit_id: str, counter_id: str
) -> tuple[Placement | None, str | None, str | None]:
    """(placement, field, problem): the unit and counter a call is filed at."""
    if not unit_id:
        return None, "unit_id", "unit_missing"
    if unit_id not in scope:
        return None, "unit_id", "unit_forbidden"
    choice = next((c for c in unit_choices(org, [unit_id])), None)
    if choice is None:
        return None, "unit_id", "unit_closed"
    if not counter_id:
        return choice.placement, None, None
    for office, counter in choice.counters:
        if counter.id == counter_id:
            return Placement(unit_id, office.id, counter.id), None, None
    return None, "counter_id", "counter_invalid"


@dataclass(frozen=True)
class Call:
    """A call that passed the checks: everything the intake event needs."""

    submission_id: UUID
    place: Placement
    call_time: datetime
    category: ComplaintCategory
    description: str
    caller_number: str
    wants_callback: bool
    reported_by: str
    locale: str = "vi"


def hotline_submission(call: Call) -> IntakeSubmission:
    """The intake event of a call (raises IntakeError if the core refuses it)."""
    return IntakeSubmission(
        submission_id=call.submission_id,
        channel=Channel.HOTLINE,
        unit_id=call.place.unit_id,
        office_id=call.place.office_id,
        counter_id=call.place.counter_id,
        submitted_at=call.call_time.astimezone(UTC),
        rating=None,
        description=call.description,
        category=call.category,
        locale=call.locale,
        contact_phone=call.caller_number,
        wants_updates=call.wants_callback,
        reported_by=call.reported_by,
    )


def intake_problem(exc: IntakeError) -> tuple[str, str]:
    """(field, problem) of the core's refusal; other codes are a bug of ours: re-raised."""
    if exc.code not in INTAKE_FIELDS:
        raise exc
    return INTAKE_FIELDS[exc.code]


async def publish(services: WebServices, submission: IntakeSubmission) -> bool:
    """True once the intake log acknowledged it; on failure the sender retries (same id)."""
    try:
        with anyio.fail_after(PUBLISH_TIMEOUT_SECONDS):
            await services.publisher.publish(submission)
    except Exception:
        log.exception("publishing hotline call %s failed", submission.submission_id)
        return False
    return True


def spelled(code: str) -> str:
    """A tracking code to read aloud, one character at a time: ``7 K Q 2 M – 9 X H 4 T``."""
    return " – ".join(" ".join(part) for part in code.split("-"))


# --- the operator's page --------------------------------------------------------------------


@dataclass(frozen=True)
class HotlineForm:
    """The form as typed, kept as text so a rejected form is shown again unchanged."""

    submission_id: str = ""
    caller_number: str = ""
    call_time: str = ""
    category: str = ""
    unit_id: str = ""
    counter_id: str = ""
    description: str = ""
    callback: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HotlineForm:
        def text(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        return cls(
            submission_id=text("submission_id").strip(),
            caller_number=text("caller_number").strip(),
            call_time=text("call_time").strip(),
            category=text("category").strip(),
            unit_id=text("unit_id").strip(),
            counter_id=text("counter_id").strip(),
            description=clean_text(text("description")),
            callback=text("callback") == "1",
        )

    @classmethod
    def fresh(cls, now: datetime) -> HotlineForm:
        """An empty form: a new submission id, the call time now (local, to the minute)."""
        return cls(submission_id=str(uuid4()), call_time=now.astimezone(LOCAL_ZONE).strftime(
            TIME_FORMAT))


@dataclass
class Checked:
    call: Call | None = None
    errors: dict[str, FieldError] = field(default_factory=dict)


def field_error(problem: str, **params: int) -> FieldError:
    if problem == "time_too_old":
        params = {"days": MAX_CALL_AGE.days, **params}
    return FieldError(MESSAGES[problem], params)


def check_form(
    form: HotlineForm, submission_id: UUID, principal: StaffPrincipal,
    org: Organisation, now: datetime,
) -> Checked:
    """The call of a typed form, or the problems by form field."""
    errors: dict[str, FieldError] = {}
    phone = normalise_phone(form.caller_number)
    if problem := phone_problem(phone, form.callback):
        errors["caller_number"] = field_error(problem)
    at = parse_local_time(form.call_time)
    if at is None:
        errors["call_time"] = field_error("time_invalid")
    elif problem := time_problem(at, now):
        errors["call_time"] = field_error(problem)
    if form.category not in set(ComplaintCategory):
        errors["category"] = field_error("category_missing")
    place, where, problem = resolve_place(org, principal.scope, form.unit_id, form.counter_id)
    if where and problem:
        errors[where] = field_error(problem)
    text = form.description.strip()
    if problem := description_problem(text):
        errors["description"] = field_error(problem, n=len(text))
    if errors or place is None or at is None:
        return Checked(errors=errors)
    call = Call(
        submission_id=submission_id,
        place=place,
        call_time=at,
        category=ComplaintCategory(form.category),
        description=text,
        caller_number=phone,
        wants_callback=form.callback,
        reported_by=principal.username,
    )
    try:
        hotline_submission(call)
    except IntakeError as exc:
        name, problem = intake_problem(exc)
        return Checked(errors={name: field_error(problem, n=len(text))})
    return Checked(call=call)


def hotline_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def render(
        request: Request,
        principal: StaffPrincipal,
        form: HotlineForm,
        *,
        errors: dict[str, FieldError] | None = None,
        alert: str | None = None,
        done: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        org = services.organisation  # read per request: admin changes replace it
        first_error = next(iter(errors), "") if errors else ""
        context = {
            **staff_context(request, principal),
            "form": form,
            "errors": errors or {},
            "first_error": first_error,
            "alert": alert or (CHECK_FIELDS if errors else None),
            "done": done,
            "choices": unit_choices(org, principal.scope),
            "categories": list(CATEGORY_LABELS.items()),
        }
        return no_store(renderer.render(request, "hotline.html", context, status_code))

    @router.get(ROUTE)
    async def hotline_page(request: Request, principal: Operator) -> Response:
        done = request.session.pop(DONE_KEY, None)
        if not (isinstance(done, dict) and isinstance(done.get("code"), str)):
            done = None
        else:
            done = {**done, "spelled": spelled(done["code"])}
        return render(request, principal, HotlineForm.fresh(services.clock()), done=done)

    @router.post(ROUTE)
    async def record_call(request: Request, principal: Operator) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FORM_BYTES:
            return no_store(error_page(renderer, request, 413))
        data = await request.form()
        if not csrf.csrf_ok(request, data.get(csrf.FIELD)):
            return no_store(error_page(renderer, request, 403))
        form = HotlineForm.from_mapping(data)
        try:
            submission_id = UUID(form.submission_id)
        except ValueError:
            fresh = replace(form, submission_id=str(uuid4()))
            return render(request, principal, fresh, alert=BAD_FORM, status_code=400)
        now = services.clock()
        checked = check_form(form, submission_id, principal, services.organisation, now)
        if checked.call is None:
            return render(request, principal, form, errors=checked.errors, status_code=422)
        submission = hotline_submission(checked.call)
        if not await publish(services, submission):
            return render(request, principal, form, alert=NOT_RECORDED, status_code=503)
        # Only the code and the consent: the caller's number stays out of the cookie.
        request.session[DONE_KEY] = {
            "code": tracking_code_for(submission_id),
            "callback": checked.call.wants_callback,
        }
        return RedirectResponse(ROUTE, status_code=303)

    return router


# --- the caller's contact on the case page --------------------------------------------------


@dataclass(frozen=True)
class CaseContact:
    phone: str  # in full or masked, as the reader's role may see it
    email: str
    masked: bool
    wants_updates: bool  # the citizen agreed to be called back / hear about the case
    reported_by: str  # who recorded it on the citizen's behalf (a name when staff)
    erased: bool = False  # erased on a lawful request (docs/privacy.md)


def case_contact(services: WebServices, case_id: UUID, role: Role | str) -> CaseContact | None:
    """The contact given with a case, read from its first event in the event store (the
    views hold no contact data); None when there is none to show or no store to read."""
    received = case_received(services, case_id, "contact")
    if received is None or services.desk is None:
        return None
    vault = getattr(services.desk.app, "personal_data", None)  # sealed contact: docs/privacy.md
    phone_field, email_field = (
        reveal_text(vault, received.contact_phone), reveal_text(vault, received.contact_email)
    )
    phone, email = phone_field.text, email_field.text
    erased = phone_field.erased or email_field.erased
    reporter = received.reported_by
    if not (phone or email or reporter or erased):
        return None
    account = services.organisation.staff.get(reporter) if reporter else None
    return CaseContact(
        phone=phone_for(role, phone),
        email=email_for(role, email),
        masked=bool(phone or email) and not sees_full_contact(role),
        wants_updates=received.wants_updates,
        reported_by=account.display_name if account else reporter,
        erased=erased,
    )
