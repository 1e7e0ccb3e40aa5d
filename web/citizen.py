"""Citizen pages: the landing page, the QR form of a counter, and tracking by code."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import uuid4

import anyio
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.cases import CITIZEN_CONFIRMABLE, CaseStatus, InvalidTransition
from feedback_core.handling import CaseChanged, UnknownCase
from feedback_core.handling import Request as DeskRequest
from feedback_core.identity import normalise_tracking_code, tracking_code_for
from feedback_core.intake import MAX_DESCRIPTION_CHARS, IntakeError, IntakeSubmission
from feedback_core.organisation import Counter, Office, Organisation, Unit, UnknownCounter
from feedback_core.permissions import Action, NotAllowed
from feedback_core.qr_codes import TokenState
from feedback_core.roles import CITIZEN
from projections.queries import QueueRow, SubmissionStatus, TimelineRow
from web.admin import NotConfigured
from web.errors import error_page
from web.forms import (
    BadSubmissionId,
    FieldError,
    Placement,
    QrForm,
    clean_text,
    form_errors,
    intake_error,
    parse_submission_id,
    to_submission,
)
from web.i18n import N_, locale_for
from web.labels import CATEGORY_LABELS, RATING_LABELS, SIPAS_QUESTION_LABELS
from web.media import MAX_PHOTO_BYTES, Photo, PhotoRefused, checked_photo
from web.qr_cache import QrCheckCache
from web.rate_limit import SubmissionLimits
from web.rendering import Renderer
from web.services import WebServices
from web.timeline import describe
from web.url_encoded import form_of

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 15  # then say "try again": the retry carries the same submission id
MAX_FORM_BYTES = 100_000  # 4,000 Vietnamese characters percent-encoded are about 36 kB
# The QR form with a photo: read whole (the file spooled to disk) so that a photo over the
# limit is refused with the form shown again, as typed. Beyond this, only the error page.
MAX_QR_UPLOAD_BYTES = 4 * MAX_PHOTO_BYTES + MAX_FORM_BYTES

BAD_QR = N_(
    "Mã QR không hợp lệ hoặc đã bị thay đổi. Vui lòng quét lại mã tại quầy hoặc hỏi cán bộ."
)
BAD_FORM = N_("Biểu mẫu không hợp lệ hoặc đã cũ. Vui lòng kiểm tra lại và bấm Gửi.")
NOT_RECEIVED = N_(
    "Hệ thống chưa nhận được đánh giá của bạn. Nội dung bạn nhập vẫn còn bên dưới — "
    "vui lòng bấm Gửi lại sau ít phút."
)
BAD_QR_TITLE = N_("Mã QR không hợp lệ")
QR_GONE = N_("Mã QR này đã ngừng sử dụng. Vui lòng quét mã mới tại quầy hoặc hỏi cán bộ.")
QR_GONE_TITLE = N_("Mã QR đã ngừng sử dụng")
UNKNOWN_CODE_TITLE = N_("Không tìm thấy mã theo dõi")
CHECK_FIELDS = N_("Vui lòng kiểm tra lại các mục được đánh dấu bên dưới.")
BAD_CODE = N_("Mã theo dõi không hợp lệ. Mã gồm 12 chữ và số, ví dụ 7KQ2-M9XH-4TBC.")
UNKNOWN_CODE = N_("Không tìm thấy mã theo dõi. Vui lòng kiểm tra lại mã trên màn hình xác nhận.")
EMPTY_REASON = N_("Vui lòng cho biết vì sao phản ánh chưa được giải quyết.")
EMPTY_REPLY = N_("Vui lòng nhập nội dung trả lời.")
TEXT_TOO_LONG = N_("Nội dung quá dài: tối đa 4.000 ký tự.")
CASE_CHANGED = N_("Có người vừa thay đổi phản ánh này. Vui lòng tải lại trang.")
CASE_CHANGED_TITLE = N_("Phản ánh vừa được thay đổi")
NOT_NOW = N_("Phản ánh không còn ở trạng thái cho phép thao tác này. Vui lòng tải lại trang.")
RELOAD = N_("Tải lại trang")
TOO_MANY = N_("Bạn đã gửi quá nhiều lần. Vui lòng thử lại sau %(n)s phút.")
PHOTO_TOO_LARGE = N_(
    "Ảnh quá lớn: tối đa 5 MB. Chưa có gì được gửi. Nội dung bạn nhập vẫn còn bên dưới — "
    "vui lòng chọn lại một ảnh nhỏ hơn, hoặc gửi không kèm ảnh."
)
PHOTO_WRONG_TYPE = N_(
    "Tệp đã chọn không phải ảnh JPEG, PNG hoặc WebP. Chưa có gì được gửi. Nội dung bạn nhập "
    "vẫn còn bên dưới — vui lòng chọn lại ảnh, hoặc gửi không kèm ảnh."
)
PHOTO_ERRORS = {  # the notice at the top, and the error beside the photo field
    413: (PHOTO_TOO_LARGE, N_("Ảnh quá lớn: tối đa 5 MB.")),
    415: (PHOTO_WRONG_TYPE, N_("Chỉ nhận ảnh JPEG, PNG hoặc WebP.")),
}

# What a citizen can do from the tracking page, by the path's last part.
CITIZEN_STEPS = {"reopen": Action.REOPEN, "reply": Action.RECORD_REPLY}
DONE_OF = {"reopen": "reopened", "reply": "replied"}
DONE_MESSAGES = {
    "reopened": N_("Đã gửi. Phản ánh của bạn được mở lại để tiếp tục giải quyết."),
    "replied": N_("Đã gửi nội dung trả lời của bạn. Cảm ơn bạn!"),
    "confirmed": N_("Cảm ơn bạn đã xác nhận phản ánh đã được giải quyết."),
}
# The case's answer is given: the citizen can say whether it solved the problem.
CONFIRMABLE = CITIZEN_CONFIRMABLE
# "Giải quyết một phần" and "Chưa giải quyết" both reopen the case; the reason recorded
# starts with the citizen's verdict so the handler reads it in the case's history.
REOPEN_OUTCOMES = {
    "partly": "Giải quyết một phần: ",
    "not": "Chưa giải quyết: ",
}
MAX_REOPEN_CHARS = MAX_DESCRIPTION_CHARS - 50  # room for the verdict (textarea maxlength)


@dataclass(frozen=True)
class Place:
    unit: Unit
    office: Office
    counter: Counter

    @property
    def placement(self) -> Placement:
        return Placement(self.unit.id, self.office.id, self.counter.id)


def find_place(org: Organisation, counter_id: str) -> Place | None:
    """The counter of a genuine QR code, or None when it is not in today's directory."""
    try:
        counter = org.counter(counter_id)
    except UnknownCounter:
        return None
    return Place(org.unit_of(counter), org.office_of(counter), counter)


CounterLinks = list[tuple[Counter, str]]
Directory = list[tuple[Unit, list[tuple[Office, CounterLinks]]]]


def directory(org: Organisation, token_of: Callable[[str], str]) -> Directory:
    """Units, their offices, and each office's counters with the token of its QR page."""
    return [
        (unit, [(office, _counters(org, office, token_of)) for office in _offices(org, unit)])
        for unit in org.units.values()
    ]


def _offices(org: Organisation, unit: Unit) -> list[Office]:
    return [office for office in org.offices.values() if office.unit_id == unit.id]


def _counters(org: Organisation, office: Office, token_of: Callable[[str], str]) -> CounterLinks:
    return [
        (counter, token_of(counter.id))
        for counter in org.counters.values()
        if counter.office_id == office.id
    ]


def citizen_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    queries = services.queries
    limits = SubmissionLimits(  # in memory, per process: see web.rate_limit
        services.settings.qr_posts_per_client_per_minute,
        services.settings.qr_posts_per_token_per_minute,
    )

    checks: list[QrCheckCache] = []  # made at the first QR request: the services are wired

    def qr_checks() -> QrCheckCache:
        codes, keyring = services.qr()
        if not checks or checks[0].codes is not codes or checks[0].keyring is not keyring:
            checks[:] = [QrCheckCache(codes, keyring)]
        return checks[0]

    async def place_of(request: Request, token: str) -> Place | Response:
        """The counter of a QR code in service, or the page saying why not: 404 for a
        forged, edited or unknown token, 410 for a revoked or expired one (nothing typed is
        published; a POSTed description is shown back, read only)."""
        if services.qr_codes is None:
            raise NotConfigured("qr codes")
        cache, now = qr_checks(), services.clock()
        found = cache.check_in_memory(token, now)
        if found is None:  # the store must be asked: off the event loop
            found = await anyio.to_thread.run_sync(cache.check, token, now)
        place = (
            find_place(services.organisation, found.counter_id)
            if found.state is TokenState.VALID and found.counter_id
            else None
        )
        if place is not None:
            return place
        if found.state is TokenState.INVALID or found.counter_id is None:
            return error_page(renderer, request, 404, BAD_QR, BAD_QR_TITLE)
        services.forget_qr_token(found.counter_id)  # the home page shows the new code
        typed = ""
        if request.method == "POST" and not _too_large(request, MAX_QR_UPLOAD_BYTES):
            typed = clean_text(_field(await request.form(), "description")).strip()
        context = {"title": QR_GONE_TITLE, "message": QR_GONE, "typed": typed}
        return renderer.render(request, "qr_gone.html", context, 410)

    def render_form(
        request: Request,
        place: Place,
        form: QrForm,
        *,
        errors: dict[str, FieldError] | None = None,
        notice: str | FieldError | None = None,
        status_code: int = 200,
        photo_again: bool = False,
    ) -> Response:
        context = {
            "place": place,
            "form": form,
            "errors": errors or {},
            "notice": notice or (CHECK_FIELDS if errors else None),
            "photos": services.photos is not None,
            "photo_again": photo_again,  # the photo sent is not kept: the citizen chooses again
            "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
            "ratings": list(RATING_LABELS.items()),
            "categories": list(CATEGORY_LABELS.items()),
            "components": list(SIPAS_QUESTION_LABELS.items()),
            "action": f"{request.url.path}?lang={locale_for(request)}",
        }
        return renderer.render(request, "qr.html", context, status_code)

    async def published(submission: IntakeSubmission) -> bool:
        """True once the intake log acknowledged it; on failure the citizen is asked to retry."""
        try:  # asyncio's timeout: cheaper per POST than anyio's cancel scope
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await services.publisher.publish(submission)
        except Exception:
            log.exception("publishing submission %s failed", submission.submission_id)
            return False
        return True

    async def stored(photo: Photo | None) -> bool:
        """The photo is kept before the submission naming it is published."""
        if photo is None or services.photos is None:
            return True
        try:
            await anyio.to_thread.run_sync(services.photos.put, photo)
        except Exception:
            log.exception("storing photo %s failed", photo.sha256)
            return False
        return True

    async def _lookup(code: str, quiet: bool) -> SubmissionStatus | None:
        """Right after sending, a read-side outage must not hide the confirmation."""
        try:
            return await anyio.to_thread.run_sync(services.queries.submission, code)
        except Exception:
            if not quiet:
                raise
            log.exception("tracking lookup failed for %s", code)
            return None

    @router.get("/")
    async def landing(request: Request) -> Response:
        units = await anyio.to_thread.run_sync(
            directory, services.organisation, services.qr_token_of
        )
        return renderer.render(request, "index.html", {"units": units})

    @router.get("/q/{token}")
    async def qr_page(request: Request, token: str) -> Response:
        place = await place_of(request, token)
        if not isinstance(place, Place):
            return place
        return render_form(request, place, QrForm(submission_id=str(uuid4())))

    @router.post("/q/{token}")
    async def qr_submit(request: Request, token: str) -> Response:
        place = await place_of(request, token)
        if not isinstance(place, Place):
            return place
        if _too_large(request, MAX_QR_UPLOAD_BYTES):
            return error_page(renderer, request, 413)
        raw = await form_of(request)  # a plain form without Starlette's slower parser
        form = QrForm.from_mapping(raw)
        upload = await _upload(raw.get("photo")) if services.photos is not None else b""
        again = bool(upload)  # any page but the confirmation asks for the photo again
        client = request.client.host if request.client else "unknown"
        wait = limits.check(client, token)
        if wait:  # nothing is published; the page keeps what was typed
            notice = FieldError(TOO_MANY, {"n": math.ceil(wait / 60)})
            page = render_form(
                request, place, form, notice=notice, status_code=429, photo_again=again
            )
            page.headers["Retry-After"] = str(wait)
            return page
        try:
            parse_submission_id(form)
        except BadSubmissionId:
            fresh = replace(form, submission_id=str(uuid4()))
            return render_form(
                request, place, fresh, notice=BAD_FORM, status_code=400, photo_again=again
            )
        errors = form_errors(form)
        photo: Photo | None = None
        status_code, photo_notice = 422, ""
        if upload:
            try:
                photo = checked_photo(upload)
            except PhotoRefused as refused:  # nothing is stored or published
                photo_notice, beside = PHOTO_ERRORS[refused.status]
                errors["photo"] = FieldError(beside)
                status_code = refused.status
        if errors:
            return render_form(
                request, place, form, errors=errors, notice=photo_notice or None,
                status_code=status_code,
                photo_again=again,
            )
        try:
            submission = to_submission(
                form, place.placement, services.clock(), locale_for(request)
            )
            if photo is not None:
                submission = replace(submission, photo_id=photo.sha256)
        except IntakeError as exc:
            return render_form(
                request, place, form, errors=intake_error(exc), status_code=422,
                photo_again=again,
            )
        if not await stored(photo) or not await published(submission):
            busy = render_form(
                request, place, form, notice=NOT_RECEIVED, status_code=503, photo_again=again
            )
            busy.headers["Retry-After"] = "60"  # the same submission id is sent again
            return busy
        code = tracking_code_for(submission.submission_id)
        return RedirectResponse(f"/t/{code}?new=1", status_code=303)

    @router.get("/t")
    async def track_lookup(request: Request, code: str = "") -> Response:
        normal = normalise_tracking_code(code)
        if normal:
            return RedirectResponse(f"/t/{normal}", status_code=303)
        context = {"code": code, "error": FieldError(BAD_CODE)}
        return renderer.render(request, "track.html", context, 400)

    async def _case_of(
        status: SubmissionStatus | None,
    ) -> tuple[QueueRow | None, list[TimelineRow]]:
        """The case behind a submission and its public history (never internal rows)."""
        if status is None or status.case_id is None:
            return None, []
        case_id = status.case_id

        def read() -> tuple[QueueRow | None, list[TimelineRow]]:
            return queries.case(case_id), list(queries.timeline(case_id, public_only=True))

        return await anyio.to_thread.run_sync(read)

    async def _case_to_act_on(
        request: Request, normal: str
    ) -> Response | tuple[SubmissionStatus, QueueRow, list[TimelineRow]]:
        """The opening of every citizen action on a case: the form's size, then the case
        behind the code; a refusal comes back as the error page to send."""
        if _too_large(request):
            return error_page(renderer, request, 413)
        status = await _lookup(normal, quiet=False)
        case, timeline = await _case_of(status)
        if status is None or case is None:
            return error_page(renderer, request, 404, UNKNOWN_CODE, UNKNOWN_CODE_TITLE)
        return status, case, timeline

    def render_tracking(
        request: Request,
        code: str,
        status: SubmissionStatus | None,
        case: QueueRow | None,
        timeline: list[TimelineRow],
        *,
        new: bool = False,
        done: str = "",
        error_in: str = "",
        outcome_in: str = "",
        error: FieldError | None = None,
        typed: str = "",
        status_code: int = 200,
    ) -> Response:
        org = services.organisation  # read per request: admin changes replace it
        public = [describe(org, t, public=True) for t in timeline if t.public]
        questions = [t.text for t in public if t.row.kind == "citizen_asked"]
        state = case.status if case else ""
        confirmed = citizen_confirmed(timeline)
        context = {
            "code": code,
            "status": status,
            "new": new,
            **_names(org, status),
            "case": case,
            "timeline": public,
            "can_confirm": state in CONFIRMABLE and not confirmed,
            "confirmed": state in CONFIRMABLE and confirmed,
            "waiting": state == CaseStatus.WAITING_FOR_CITIZEN,
            "question": questions[-1] if questions else "",
            "done": done if done in DONE_MESSAGES else "",
            "done_message": DONE_MESSAGES.get(done, ""),
            "error_in": error_in,
            "outcome_in": outcome_in,
            "error": error,
            "typed": typed,
            "lang_query": f"?lang={locale_for(request)}",
        }
        return renderer.render(request, "tracking.html", context, status_code)

    @router.get("/t/{code}")
    async def tracking(request: Request, code: str, new: str = "", done: str = "") -> Response:
        """The public tracking page. On an answered or resolved case it asks whether the
        problem was solved: "Giải quyết một phần" and "Chưa giải quyết" post to
        ``/t/{code}/reopen`` (the case reopens with the citizen's reason); "Đã giải quyết"
        posts to ``/t/{code}/confirm`` (a ``CitizenConfirmed`` event on the case)."""
        normal = normalise_tracking_code(code)
        if not normal:
            return error_page(renderer, request, 404, BAD_CODE, UNKNOWN_CODE_TITLE)
        is_new = new == "1"
        status = await _lookup(normal, quiet=is_new)
        if status is None and not is_new:
            return error_page(renderer, request, 404, UNKNOWN_CODE, UNKNOWN_CODE_TITLE)
        case, timeline = await _case_of(status) if status else (None, [])
        return render_tracking(request, normal, status, case, timeline, new=is_new, done=done)

    @router.post("/t/{code}/confirm")
    async def confirm_resolved(request: Request, code: str) -> Response:
        """"Đã giải quyết": recorded once; a second tap records nothing and lands on the
        same thanks."""
        normal = normalise_tracking_code(code)
        if not normal:
            return error_page(renderer, request, 404, BAD_CODE, UNKNOWN_CODE_TITLE)
        found = await _case_to_act_on(request, normal)
        if isinstance(found, Response):
            return found
        status, case, timeline = found
        back = f"/t/{normal}"
        thanks = RedirectResponse(f"{back}?done=confirmed", status_code=303)
        if citizen_confirmed(timeline):
            return thanks
        desk = services.desk
        if desk is None:
            raise RuntimeError("this web app was started without the case desk")
        notification_id: int | None = None
        for attempt in range(2):  # a concurrent tap: once more, on the case as it is now
            try:
                notification_id = await anyio.to_thread.run_sync(
                    desk.confirm_resolved, case.case_id, services.clock()
                )
                break
            except CaseChanged:
                if attempt:
                    return error_page(
                        renderer, request, 409, CASE_CHANGED, CASE_CHANGED_TITLE,
                        back_url=back, back_label=RELOAD,
                    )
            except InvalidTransition:
                return error_page(
                    renderer, request, 422, NOT_NOW, back_url=back, back_label=RELOAD
                )
            except UnknownCase:
                return error_page(renderer, request, 404, UNKNOWN_CODE, UNKNOWN_CODE_TITLE)
        if notification_id is not None:
            await anyio.to_thread.run_sync(queries.wait_for, notification_id)
        return thanks

    @router.post("/t/{code}/{step}")
    async def citizen_step(request: Request, code: str, step: str) -> Response:
        """The citizen acts on their case: the tracking code is their authority."""
        normal = normalise_tracking_code(code)
        action = CITIZEN_STEPS.get(step)
        if not normal or action is None:
            return error_page(renderer, request, 404, BAD_CODE, UNKNOWN_CODE_TITLE)
        found = await _case_to_act_on(request, normal)
        if isinstance(found, Response):
            return found
        status, case, timeline = found
        form = await request.form()
        typed = clean_text(_field(form, "text")).strip()
        version = _field(form, "version")
        outcome = (_field(form, "outcome") or "not") if action is Action.REOPEN else ""
        longest = MAX_REOPEN_CHARS if action is Action.REOPEN else MAX_DESCRIPTION_CHARS
        problem = (
            FieldError(EMPTY_REPLY if action is Action.RECORD_REPLY else EMPTY_REASON)
            if not typed
            else FieldError(TEXT_TOO_LONG) if len(typed) > longest else None
        )
        bad_outcome = action is Action.REOPEN and outcome not in REOPEN_OUTCOMES
        if problem or not version.isdigit() or bad_outcome:
            return render_tracking(
                request, normal, status, case, timeline, error_in=step,
                outcome_in=outcome if outcome in REOPEN_OUTCOMES else "not",
                error=problem or FieldError(BAD_FORM), typed=typed, status_code=422,
            )
        back = f"/t/{normal}"
        desk_request = (
            DeskRequest(action, text=typed)
            if action is Action.RECORD_REPLY
            else DeskRequest(action, reason=REOPEN_OUTCOMES[outcome] + typed)
        )
        if services.desk is None:
            raise RuntimeError("this web app was started without the case desk")
        try:
            notification_id = await anyio.to_thread.run_sync(
                services.desk.act, case.case_id, int(version), CITIZEN, desk_request,
                services.clock(),
            )
        except CaseChanged:
            return error_page(
                renderer, request, 409, CASE_CHANGED, CASE_CHANGED_TITLE,
                back_url=back, back_label=RELOAD,
            )
        except NotAllowed:
            return error_page(renderer, request, 403, NOT_NOW, back_url=back, back_label=RELOAD)
        except InvalidTransition:
            return error_page(renderer, request, 422, NOT_NOW, back_url=back, back_label=RELOAD)
        except UnknownCase:
            return error_page(renderer, request, 404, UNKNOWN_CODE, UNKNOWN_CODE_TITLE)
        await anyio.to_thread.run_sync(queries.wait_for, notification_id)
        return RedirectResponse(f"{back}?done={DONE_OF[step]}", status_code=303)

    return router


def citizen_confirmed(timeline: Sequence[TimelineRow]) -> bool:
    """Whether the citizen said "Đã giải quyết" after the last answer or reopening."""
    confirmed = False
    for row in timeline:
        if row.kind == "citizen_confirmed":
            confirmed = True
        elif row.kind in ("answered", "reopened"):
            confirmed = False
    return confirmed


def _too_large(request: Request, limit: int = MAX_FORM_BYTES) -> bool:
    """Over the limit: the limit of a plain form, or of the QR form with its photo."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > limit


async def _upload(value: object) -> bytes:
    """The bytes of a chosen file, at most one byte over the photo limit ("" when none was
    chosen: browsers send an empty file part then)."""
    if isinstance(value, UploadFile):
        return await value.read(MAX_PHOTO_BYTES + 1)
    return b""


def _names(org: Organisation, status: SubmissionStatus | None) -> dict[str, object]:
    if status is None:
        return {"unit": None, "office": None, "counter": None}
    return {
        "unit": org.units.get(status.unit_id),
        "office": org.offices.get(status.office_id),
        "counter": org.counters.get(status.counter_id),
    }


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
