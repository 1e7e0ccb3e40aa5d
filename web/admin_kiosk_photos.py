"""The admin side of officers' photos on kiosks: a staff member's page with the photo upload
(and removal), the photo's preview for administrators, and the unit's setting "show
officers' photos on kiosks".

Rights are decided by ``permissions.check_unit`` (``SET_STAFF_PHOTO``, ``SET_KIOSK_PHOTOS``:
administrators, within their subtree). A photo is checked and stored by ``web/media.py``
(the citizens' limits: 5 MB, JPEG/PNG/WebP by their bytes) before the organisation event
naming it (``StaffMember.PhotoSet``) is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.errors import NotFound, OrganisationError
from feedback_core.org.history import HistoryEntry, staff_history
from feedback_core.permissions import NotAllowed, UnitAction, check_unit
from web import csrf
from web.admin import BAD_DATE, OUT_OF_SCOPE, field, org_app_of, parse_day, refused_change
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.media import MAX_PHOTO_BYTES, PhotoRefused, PhotoStore, checked_photo
from web.principal import SignedIn, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context
from web.staff_photos import PHOTO_SIZE

ORG = "/admin/org"
STAFF_PAGE = ORG + "/staff/{username}"
# The upload is read whole so a photo over the limit is refused with the form shown again;
# web/app.py gives this path its own body limit.
PHOTO_UPLOAD_PATH = re.compile(r"^/admin/org/staff/[^/]+/photo$")
MAX_PHOTO_UPLOAD_BYTES = 2 * MAX_PHOTO_BYTES + 100_000

STAFF_NOT_FOUND = N_("Không tìm thấy cán bộ, hoặc cán bộ không thuộc phạm vi quản trị của bạn.")
NO_PHOTO_STORE = N_("Máy chủ này chưa bật lưu ảnh. Vui lòng liên hệ bộ phận kỹ thuật.")
CHOOSE_PHOTO = N_("Vui lòng chọn một ảnh.")
STAFF_PHOTO_TOO_LARGE = N_("Ảnh quá lớn: tối đa 5 MB. Chưa có gì được ghi nhận — vui lòng chọn "
                           "một ảnh nhỏ hơn.")
STAFF_PHOTO_WRONG_TYPE = N_("Tệp đã chọn không phải ảnh JPEG, PNG hoặc WebP. Chưa có gì được "
                            "ghi nhận — vui lòng chọn lại ảnh.")
PHOTO_SET = N_("Đã cập nhật ảnh của %(username)s.")
PHOTO_REMOVED = N_("Đã gỡ ảnh của %(username)s.")
KIOSK_PHOTOS_ON = N_("Thiết bị đánh giá của đơn vị %(unit)s sẽ hiển thị ảnh cán bộ.")
KIOSK_PHOTOS_OFF = N_("Thiết bị đánh giá của đơn vị %(unit)s chỉ hiển thị tên cán bộ.")
PHOTO_ERRORS = {413: STAFF_PHOTO_TOO_LARGE, 415: STAFF_PHOTO_WRONG_TYPE}
# The history's event names, in words (the unit page's labels live in web/labels.py).
PHOTO_CHANGE_LABELS = {
    "PhotoSet": N_("Cập nhật ảnh"),
    "PhotoRemoved": N_("Gỡ ảnh"),
    "KioskPhotosChanged": N_("Thay đổi hiển thị ảnh cán bộ trên thiết bị đánh giá"),
}


def allowed(principal: StaffPrincipal, action: UnitAction, unit_id: str) -> bool:
    try:
        check_unit(principal.actor, action, unit_id, principal.scope)
    except NotAllowed:
        return False
    return True


def kiosk_photos_shown(app: OrganisationApplication, unit_id: str) -> bool | None:
    """The unit's current setting; None for an office or an unknown unit (no setting)."""
    try:
        unit = app.unit(unit_id)
    except NotFound:
        return None
    return None if unit.is_office else unit.shows_kiosk_photos


def kiosk_photo_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def staff_unit(username: str) -> str | None:
        account = services.organisation.staff.get(username)
        return account.unit_id if account else None

    def refused_page(request: Request, status: int, message: str) -> Response:
        return no_store(error_page(renderer, request, status, message, back_url=ORG,
                                   back_label=N_("Về trang tổ chức")))

    async def staff_page(request: Request, principal: StaffPrincipal, username: str, *,
                         status_code: int = 200, notice: str = "",
                         form: dict[str, str] | None = None) -> Response:
        app = org_app_of(services)
        try:
            member = await anyio.to_thread.run_sync(app.staff_member, username)
            entries: list[HistoryEntry] = await anyio.to_thread.run_sync(
                staff_history, app, username
            )
        except NotFound:
            return refused_page(request, 404, STAFF_NOT_FOUND)
        photo_entries = [e for e in entries if e.change in PHOTO_CHANGE_LABELS]
        context: dict[str, Any] = {
            **staff_context(request, principal),
            "member": member,
            "unit": services.organisation.units.get(member.unit_id),
            "photo": member.photo,
            "photo_size": PHOTO_SIZE,
            "photo_entries": [(e, PHOTO_CHANGE_LABELS[e.change]) for e in photo_entries],
            "photo_notice": notice,
            "form": {"effective_on": "", "reason": "", **(form or {})},
            "today": services.today(),
            "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
            "photos_enabled": services.photos is not None,
        }
        return no_store(renderer.render(request, "admin_staff.html", context, status_code))

    def checked_form(request: Request, form: Any, principal: StaffPrincipal, username: str,
                     action: UnitAction) -> Response | None:
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        unit_id = staff_unit(username) if action is UnitAction.SET_STAFF_PHOTO else username
        if unit_id is None:
            return refused_page(request, 404, STAFF_NOT_FOUND)
        if not allowed(principal, action, unit_id):
            return refused_page(request, 403, OUT_OF_SCOPE)
        return None

    @router.get(STAFF_PAGE)
    async def staff_admin_page(request: Request, username: str, principal: SignedIn
                               ) -> Response:
        unit_id = staff_unit(username)
        if unit_id is None:
            return refused_page(request, 404, STAFF_NOT_FOUND)
        if not allowed(principal, UnitAction.SET_STAFF_PHOTO, unit_id):
            return refused_page(request, 403, OUT_OF_SCOPE)
        return await staff_page(request, principal, username)

    @router.get(STAFF_PAGE + "/photo")
    async def staff_photo_preview(request: Request, username: str, principal: SignedIn
                                  ) -> Response:
        """The current photo, for the administrator's eyes (kept out of caches)."""
        unit_id = staff_unit(username)
        store = services.photos
        if unit_id is None or not allowed(principal, UnitAction.SET_STAFF_PHOTO, unit_id):
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        member = await anyio.to_thread.run_sync(org_app_of(services).staff_member, username)
        photo = None
        if store is not None and member.photo is not None:
            photo = await anyio.to_thread.run_sync(store.get, member.photo)
        if photo is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        return Response(photo.data, media_type=photo.content_type,
                        headers={"Cache-Control": "private, no-store",
                                 "X-Content-Type-Options": "nosniff"})

    @router.post(STAFF_PAGE + "/photo")
    async def upload_photo(request: Request, username: str, principal: SignedIn) -> Response:
        form = await request.form()
        if (refusal := checked_form(request, form, principal, username,
                                    UnitAction.SET_STAFF_PHOTO)) is not None:
            return refusal
        typed = {"effective_on": field(form, "effective_on"), "reason": field(form, "reason")}
        on = parse_day(typed["effective_on"], services.today())
        if on is None:
            return await staff_page(request, principal, username, status_code=422,
                                    notice=BAD_DATE, form=typed)
        store = services.photos
        if store is None:
            return await staff_page(request, principal, username, status_code=503,
                                    notice=NO_PHOTO_STORE, form=typed)
        upload = form.get("photo")
        data = await upload.read(MAX_PHOTO_BYTES + 1) if isinstance(upload, UploadFile) else b""
        if not data:
            return await staff_page(request, principal, username, status_code=422,
                                    notice=CHOOSE_PHOTO, form=typed)
        try:
            photo = checked_photo(data)
        except PhotoRefused as refused:
            return await staff_page(request, principal, username, status_code=refused.status,
                                    notice=PHOTO_ERRORS[refused.status], form=typed)
        app = org_app_of(services)
        return await _change_then_back(
            renderer, request,
            lambda: _set_photo(app, store, photo, username, on, principal, typed["reason"]),
            STAFF_PAGE.format(username=username), PHOTO_SET, {"username": username},
        )

    @router.post(STAFF_PAGE + "/photo/remove")
    async def remove_photo(request: Request, username: str, principal: SignedIn) -> Response:
        form = await request.form()
        if (refusal := checked_form(request, form, principal, username,
                                    UnitAction.SET_STAFF_PHOTO)) is not None:
            return refusal
        on = parse_day(field(form, "effective_on"), services.today())
        if on is None:
            return await staff_page(request, principal, username, status_code=422,
                                    notice=BAD_DATE)
        app = org_app_of(services)
        return await _change_then_back(
            renderer, request,
            lambda: app.remove_staff_photo(username, effective_on=on, actor=principal.username,
                                           reason=field(form, "reason")),
            STAFF_PAGE.format(username=username), PHOTO_REMOVED, {"username": username},
        )

    @router.post(ORG + "/units/{unit_id}/kiosk-photos")
    async def kiosk_photos(request: Request, unit_id: str, principal: SignedIn) -> Response:
        form = await request.form()
        if (refusal := checked_form(request, form, principal, unit_id,
                                    UnitAction.SET_KIOSK_PHOTOS)) is not None:
            return refusal
        show = field(form, "show") == "1"
        on = parse_day(field(form, "effective_on"), services.today())
        back = f"{ORG}/units/{unit_id}"
        if on is None:
            return refused_page(request, 422, BAD_DATE)
        app = org_app_of(services)
        return await _change_then_back(
            renderer, request,
            lambda: app.set_kiosk_photos(unit_id, show=show, effective_on=on,
                                         actor=principal.username, reason=field(form, "reason")),
            back, KIOSK_PHOTOS_ON if show else KIOSK_PHOTOS_OFF, {"unit": unit_id},
        )

    return router


async def _change_then_back(  # noqa: PLR0913
    renderer: Renderer, request: Request, change: Callable[[], None], back: str,
    message: str, params: dict[str, str],
) -> Response:
    """Record an organisation change off the event loop: refused, the domain's reason (422);
    done, ``message`` flashed and back to ``back``."""
    try:
        await anyio.to_thread.run_sync(change)
    except OrganisationError as error:
        return refused_change(renderer, request, error, back)
    flash(request, message, params=params)
    return RedirectResponse(back, status_code=303)


def _set_photo(  # noqa: PLR0913
    app: OrganisationApplication, store: PhotoStore, photo: Any, username: str, on: date,
    principal: StaffPrincipal, reason: str,
) -> None:
    """Store the bytes first, then record the event naming them (a photo stored but never
    named is harmless; an event naming a missing photo would not be)."""
    store.put(photo)
    app.set_staff_photo(username, sha256=photo.sha256, effective_on=on,
                        actor=principal.username, reason=reason)
