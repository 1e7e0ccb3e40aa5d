"""The rating kiosk of a counter: ``/kiosk/{device token}`` on a tablet fixed at the counter.

The page is the rating form in large type: one tap on a face for the overall rating, the
SIPAS components optional, a thank-you screen, then a blank form again. With JavaScript
(``static/kiosk.js``) each rating gets a submission id made on the device
(``crypto.randomUUID``), goes into a queue in ``localStorage`` and is posted as JSON to
``/kiosk/{token}/ratings`` until the server acknowledges it; a retry carries the same id,
which the core stores once. Without JavaScript the page is a plain form (the id is made
when the page is rendered, as on the QR page).

A kiosk token only lets the device post ratings for its counter: the answers carry an
acknowledgement and nothing else (no tracking code, no link to any page that reads data).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from feedback_core.devices import DevicesApplication, Kiosk, KioskState
from feedback_core.intake import Channel, IntakeError, IntakeSubmission, SipasComponent
from web.admin import NotConfigured
from web.citizen import Place, find_place
from web.errors import error_page
from web.i18n import N_, locale_for
from web.labels import RATING_LABELS, SIPAS_QUESTION_LABELS
from web.rate_limit import SlidingWindowLimiter
from web.rendering import Renderer
from web.services import WebServices
from web.staff_photos import PHOTO_SIZE, kiosk_photo_url

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 15
MAX_RATING_BYTES = 4_000  # an id, a score and five components
THANKS_SECONDS = 5  # the thank-you screen, then a blank form
# The device's tap time is used when it is plausible: not ahead of the server's clock by more
# than a tablet's clock may drift, not older than a queue could have waited on the device.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_QUEUED_AGE = timedelta(days=7)
# Per kiosk: at most 20 ratings in any minute (one per 3 s on average, and a queue replayed
# after an outage goes 20 at a time); more answers 429 with Retry-After and the device
# keeps the rating queued.
KIOSK_RATINGS_PER_WINDOW = 20
KIOSK_WINDOW_SECONDS = 60.0

KIOSK_UNKNOWN = N_("Thiết bị đánh giá này chưa được đăng ký. Vui lòng báo cán bộ tại quầy.")
KIOSK_UNKNOWN_TITLE = N_("Thiết bị chưa đăng ký")
KIOSK_REVOKED = N_("Thiết bị đánh giá này đã ngừng sử dụng. Vui lòng báo cán bộ tại quầy.")
KIOSK_REVOKED_TITLE = N_("Thiết bị đã ngừng sử dụng")
BAD_ID = N_("Mã gửi không hợp lệ.")
BAD_REQUEST = N_("Yêu cầu không hợp lệ")
BAD_COMPONENTS = N_("Đánh giá chi tiết không hợp lệ.")
BAD_RATED_AT = N_("Thời điểm đánh giá không hợp lệ.")
KIOSK_TOO_FAST = N_("Gửi quá nhanh: đánh giá được giữ lại và sẽ tự gửi sau ít giây.")
TOO_LARGE = N_("Nội dung gửi lên quá lớn. Vui lòng rút gọn và thử lại.")
CHOOSE_RATING = N_("Vui lòng chạm vào một mức đánh giá.")
KIOSK_NOT_SENT = N_("Chưa gửi được đánh giá. Vui lòng chạm Gửi đánh giá lại sau ít giây.")
MOUTH_CURVE = {1: -7, 2: -4, 3: 0, 4: 4, 5: 7}  # the faces are drawn (no emoji font needed)
COMPONENTS = [c.value for c in SipasComponent]


class KioskRefused(ValueError):
    """A rating the kiosk endpoint will not take; ``message`` is a msgid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class KioskPlace:
    kiosk: Kiosk
    place: Place

    @property
    def reporter(self) -> str:
        return f"kiosk:{self.kiosk.counter_id}.{self.kiosk.serial}"


def rating_time(raw: object, received: datetime) -> tuple[datetime, str]:
    """When the citizen rated, and the device's time if it was refused ("" when not).

    The tap time ``rated_at`` (ISO 8601 with an offset, made by kiosk.js) is used when it is
    plausible, so a rating queued through an outage lands on the day it was given; a little
    ahead of the server (a tablet's clock drifts) counts as the receipt time. Absent, the
    receipt time. Implausible (far ahead, or older than a queue can wait), the receipt time,
    and the device's time is returned to be recorded. Not a time with an offset: refused."""
    if raw is None or raw == "":
        return received, ""
    if not isinstance(raw, str) or len(raw) > 40:
        raise KioskRefused(BAD_RATED_AT)
    try:
        tapped = datetime.fromisoformat(raw)
    except ValueError:
        raise KioskRefused(BAD_RATED_AT) from None
    if tapped.tzinfo is None:
        raise KioskRefused(BAD_RATED_AT)
    if received - MAX_QUEUED_AGE <= tapped <= received + MAX_CLOCK_SKEW:
        return min(tapped.astimezone(received.tzinfo), received), ""
    return received, tapped.isoformat()


def kiosk_submission(
    data: Mapping[str, Any], where: KioskPlace, now: datetime, locale: str
) -> IntakeSubmission:
    """The intake event of one kiosk rating: ``submission_id`` (a UUID made by the device,
    version 4), ``rating`` 1-5, optional ``components`` {component: 1-5} and optional
    ``rated_at`` (the tap time on the device; ``now`` is when the server received it)."""
    try:
        submission_id = UUID(str(data.get("submission_id", "")))
    except ValueError:
        raise KioskRefused(BAD_ID) from None
    if submission_id.version != 4:
        raise KioskRefused(BAD_ID)
    rating = _score(data.get("rating"))
    if rating is None:
        raise KioskRefused(CHOOSE_RATING)
    components: dict[str, int] = {}
    raw_components = data.get("components") or {}
    if not isinstance(raw_components, Mapping):
        raise KioskRefused(BAD_COMPONENTS)
    for name, value in raw_components.items():
        if value in (None, ""):
            continue
        score = _score(value)
        if name not in COMPONENTS or score is None:
            raise KioskRefused(BAD_COMPONENTS)
        components[name] = score
    submitted_at, clamped = rating_time(data.get("rated_at"), now)
    if clamped:
        log.warning("kiosk %s sent rated_at %s, implausible at %s: receipt time used",
                    where.reporter, clamped, now.isoformat())
    placement = where.place
    try:
        return IntakeSubmission(
            submission_id=submission_id,
            channel=Channel.KIOSK,
            unit_id=placement.unit.id,
            office_id=placement.office.id,
            counter_id=placement.counter.id,
            submitted_at=submitted_at,
            rating=rating,
            locale=locale,
            components=components,
            reported_by=where.reporter,
            clamped_device_time=clamped,
        )
    except IntakeError:
        raise KioskRefused(N_("Đánh giá không hợp lệ.")) from None


def _score(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 5 else None
    if isinstance(value, str) and value.strip() in {"1", "2", "3", "4", "5"}:
        return int(value.strip())
    return None


def form_components(form: Mapping[str, Any]) -> dict[str, str]:
    return {c: str(form.get(f"component_{c}") or "") for c in COMPONENTS}


def kiosk_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    # In memory, per web process (see web.rate_limit); on the business clock, so tests can
    # move it.
    limiter = SlidingWindowLimiter(KIOSK_RATINGS_PER_WINDOW, KIOSK_WINDOW_SECONDS,
                                   clock=lambda: services.clock().timestamp())

    def too_fast(where: KioskPlace) -> int:
        """Whole seconds this kiosk must wait (0 = go on, and the rating is counted)."""
        wait = limiter.retry_after(where.reporter)
        if wait > 0:
            return max(1, math.ceil(wait))
        limiter.hit(where.reporter)
        return 0

    def devices() -> DevicesApplication:
        if services.devices is None:
            raise NotConfigured("devices")
        return services.devices

    async def kiosk_of(token: str) -> KioskPlace | int:
        """The kiosk and its counter, or the status saying why not (404 unknown, 410 gone)."""
        found = await anyio.to_thread.run_sync(devices().check, token)
        if found.state is KioskState.INVALID or found.kiosk is None:
            return 404
        place = find_place(services.organisation, found.kiosk.counter_id)
        if found.state is KioskState.REVOKED or place is None or place.counter.closed:
            return 410
        return KioskPlace(found.kiosk, place)

    def refusal_page(request: Request, status: int) -> Response:
        if status == 410:
            return error_page(renderer, request, 410, KIOSK_REVOKED, KIOSK_REVOKED_TITLE)
        return error_page(renderer, request, 404, KIOSK_UNKNOWN, KIOSK_UNKNOWN_TITLE)

    async def render_kiosk(request: Request, token: str, where: KioskPlace, *,
                           form: Mapping[str, Any] | None = None, notice: str = "",
                           status_code: int = 200) -> Response:
        form = form or {}
        officer = services.organisation.staff.get(where.kiosk.officer)
        lang = locale_for(request)
        # The officer's photo only where the unit shows them (web/staff_photos.py).
        photo = await anyio.to_thread.run_sync(
            kiosk_photo_url, services, where.place.unit.id, officer.username if officer else ""
        )
        context = {
            "place": where.place,
            "officer": officer.display_name if officer else "",
            "officer_photo": photo,
            "photo_size": PHOTO_SIZE,
            "submission_id": form.get("submission_id") or str(uuid4()),
            "chosen": str(form.get("rating") or ""),
            "chosen_components": form_components(form),
            "ratings": [(v, t, 25 + MOUTH_CURVE[v]) for v, t in RATING_LABELS.items()],
            "components": list(SIPAS_QUESTION_LABELS.items()),
            "notice": notice,
            "action": f"/kiosk/{token}?lang={lang}",
            "ratings_url": f"/kiosk/{token}/ratings",
            "queue_key": f"kiosk-queue:{where.kiosk.counter_id}.{where.kiosk.serial}",
        }
        page = renderer.render(request, "kiosk.html", context, status_code)
        page.headers["Cache-Control"] = "no-store"
        page.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
        return page

    async def published(submission: IntakeSubmission) -> bool:
        try:
            with anyio.fail_after(PUBLISH_TIMEOUT_SECONDS):
                await services.publisher.publish(submission)
        except Exception:
            log.exception("publishing kiosk rating %s failed", submission.submission_id)
            return False
        return True

    @router.get("/kiosk/{token}")
    async def kiosk_page(request: Request, token: str) -> Response:
        where = await kiosk_of(token)
        if isinstance(where, int):
            return refusal_page(request, where)
        return await render_kiosk(request, token, where)

    @router.post("/kiosk/{token}")
    async def kiosk_form(request: Request, token: str) -> Response:
        """Without JavaScript: the form posted as it is, then the thank-you page."""
        where = await kiosk_of(token)
        if isinstance(where, int):
            return refusal_page(request, where)
        if _too_large(request):
            return error_page(renderer, request, 413)
        form = dict(await request.form())
        if wait := too_fast(where):
            page = await render_kiosk(request, token, where, form=form, notice=KIOSK_TOO_FAST,
                                status_code=429)
            page.headers["Retry-After"] = str(wait)
            return page
        data = {**form, "components": form_components(form)}
        try:
            submission = kiosk_submission(data, where, services.clock(), locale_for(request))
        except KioskRefused as refused:
            again = {**form, "submission_id": ""} if refused.message == BAD_ID else form
            return await render_kiosk(request, token, where, form=again, notice=refused.message,
                                status_code=422)
        if not await published(submission):
            return await render_kiosk(request, token, where, form=form, notice=KIOSK_NOT_SENT,
                                status_code=503)
        lang = locale_for(request)
        return RedirectResponse(f"/kiosk/{token}/thanks?lang={lang}", status_code=303)

    @router.get("/kiosk/{token}/thanks")
    async def kiosk_thanks(request: Request, token: str) -> Response:
        where = await kiosk_of(token)
        if isinstance(where, int):
            return refusal_page(request, where)
        context = {
            "place": where.place,
            "again_url": f"/kiosk/{token}?lang={locale_for(request)}",
            "seconds": THANKS_SECONDS,
        }
        page = renderer.render(request, "kiosk_thanks.html", context)
        page.headers["Cache-Control"] = "no-store"
        page.headers["Referrer-Policy"] = "no-referrer"
        return page

    @router.post("/kiosk/{token}/ratings")
    async def kiosk_rating(request: Request, token: str) -> Response:
        """One queued rating from the device, as JSON; the answer is an acknowledgement."""
        where = await kiosk_of(token)
        if isinstance(where, int):
            return _ack(where, KIOSK_REVOKED if where == 410 else KIOSK_UNKNOWN)
        if _too_large(request):
            return _ack(413, TOO_LARGE)
        if wait := too_fast(where):
            return _ack(429, KIOSK_TOO_FAST, retry_after=wait)
        body = await request.body()
        if len(body) > MAX_RATING_BYTES:
            return _ack(413, TOO_LARGE)
        try:
            data = json.loads(body)
        except ValueError:
            return _ack(400, BAD_REQUEST)
        if not isinstance(data, dict):
            return _ack(400, BAD_REQUEST)
        try:
            submission = kiosk_submission(data, where, services.clock(), locale_for(request))
        except KioskRefused as refused:
            return _ack(422, refused.message)
        if not await published(submission):
            return _ack(503, KIOSK_NOT_SENT)
        return _ack(202)

    return router


def _ack(status: int, error: str = "", retry_after: int = 0) -> JSONResponse:
    """Nothing but whether the rating was taken (and, if not, why, in Vietnamese)."""
    body: dict[str, object] = {"ok": status == 202}
    if error:
        body["error"] = error
    headers = {"Cache-Control": "no-store"}
    if status == 503:
        headers["Retry-After"] = "5"
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def _too_large(request: Request, limit: int = MAX_RATING_BYTES) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > limit
