"""``/admin/kiosks``: administrators and heads enrol a counter's rating kiosk and revoke it.

Enrolling gives a device token, shown once (as a link and a QR code to open on the tablet)
and never stored (only its SHA-256, in an event of the counter's ``CounterKiosks``). Who
may do it is ``permissions.check_unit(UnitAction.ENROL_KIOSK)``: the role, and the counter's
unit in the actor's subtree.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.devices import DeviceError, DevicesApplication
from feedback_core.organisation import Counter, Office, Organisation, StaffAccount, Unit
from feedback_core.permissions import NotAllowed, UnitAction, check_unit
from web import csrf
from web.admin import NotConfigured, field
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.posters import counters_under, qr_path
from web.principal import StaffPrincipal, require_unit_action
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

KIOSKS = "/admin/kiosks"
KIOSK_ROLES_ONLY = N_("Chỉ quản trị viên và lãnh đạo đơn vị được đăng ký thiết bị đánh giá.")
KIOSK_OUT_OF_SCOPE = N_("Quầy này không thuộc đơn vị của bạn.")
KIOSK_MISSING = N_("Vui lòng chọn quầy và ghi đủ các mục bắt buộc.")
KIOSK_REVOKED_DONE = N_("Đã thu hồi thiết bị đánh giá %(kiosk)s.")
KIOSK_CANNOT = N_("Không thực hiện được: thiết bị không tồn tại hoặc đã bị thu hồi.")


require_kiosk_enroller = require_unit_action(UnitAction.ENROL_KIOSK, KIOSK_ROLES_ONLY)


Enroller = Annotated[StaffPrincipal, Depends(require_kiosk_enroller)]
Row = tuple[Unit, Office, Counter]


def counter_in_scope(org: Organisation, principal: StaffPrincipal, counter_id: str,
                     action: UnitAction) -> Row | None:
    """The open counter, when ``action`` is allowed for its unit; None otherwise."""
    counter = org.counters.get(counter_id)
    if counter is None or counter.closed:
        return None
    office = org.office_of(counter)
    try:
        check_unit(principal.actor, action, office.unit_id, principal.scope)
    except NotAllowed:
        return None
    return org.unit_of(counter), office, counter


def officers_of(org: Organisation, unit_ids: set[str]) -> list[StaffAccount]:
    return sorted((s for s in org.staff.values() if s.active and s.unit_id in unit_ids),
                  key=lambda s: s.display_name)


def kiosk_admin_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def devices() -> DevicesApplication:
        if services.devices is None:
            raise NotConfigured("devices")
        return services.devices

    async def checked_form(request: Request) -> tuple[Any, Response | None]:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return form, no_store(error_page(renderer, request, 403))
        return form, None

    def refuse(request: Request, status: int, message: str) -> Response:
        return no_store(error_page(renderer, request, status, message, back_url=KIOSKS))

    @router.get(KIOSKS)
    async def kiosk_list(request: Request, principal: Enroller) -> Response:
        org = services.organisation
        rows = counters_under(org, principal.actor.unit_id)
        kiosks = await anyio.to_thread.run_sync(
            devices().listed, [counter.id for _u, _o, counter in rows]
        )
        context = {
            **staff_context(request, principal),
            "rows": rows,
            "kiosks": kiosks,
            "counter_names": {c.id: c for _u, _o, c in rows},
            "officers": officers_of(org, set(principal.scope)),
            "staff": org.staff,
        }
        return no_store(renderer.render(request, "admin_kiosks.html", context))

    @router.post(KIOSKS + "/enrol")
    async def enrol(request: Request, principal: Enroller) -> Response:
        form, refusal = await checked_form(request)
        if refusal:
            return refusal
        counter_id, label, officer = (field(form, n) for n in ("counter_id", "label", "officer"))
        org = services.organisation
        if not counter_id:
            return refuse(request, 422, KIOSK_MISSING)
        row = counter_in_scope(org, principal, counter_id, UnitAction.ENROL_KIOSK)
        if row is None:
            return refuse(request, 403, KIOSK_OUT_OF_SCOPE)
        if officer and (officer not in org.staff or org.staff[officer].unit_id
                        not in principal.scope):
            return refuse(request, 422, KIOSK_MISSING)
        now = services.clock()
        token = await anyio.to_thread.run_sync(
            lambda: devices().enrol(counter_id, now, principal.username, label[:80], officer)
        )
        url = f"{services.settings.public_base_url}/kiosk/{token}"
        path, modules = qr_path(url)
        context = {
            **staff_context(request, principal),
            "unit": row[0], "office": row[1], "counter": row[2],
            "url": url, "qr_path": path, "qr_modules": modules,
        }
        page = renderer.render(request, "admin_kiosk_enrolled.html", context)
        page.headers["Referrer-Policy"] = "no-referrer"
        return no_store(page)

    @router.post(KIOSKS + "/revoke")
    async def revoke(request: Request, principal: Enroller) -> Response:
        form, refusal = await checked_form(request)
        if refusal:
            return refusal
        counter_id, serial, reason = (field(form, n) for n in ("counter_id", "serial", "reason"))
        if not counter_id or not serial.isdigit() or not reason:
            return refuse(request, 422, KIOSK_MISSING)
        if counter_in_scope(services.organisation, principal, counter_id,
                            UnitAction.ENROL_KIOSK) is None:
            return refuse(request, 403, KIOSK_OUT_OF_SCOPE)
        now = services.clock()
        try:
            await anyio.to_thread.run_sync(
                lambda: devices().revoke(counter_id, int(serial), now, principal.username,
                                         reason)
            )
        except DeviceError:
            return refuse(request, 422, KIOSK_CANNOT)
        flash(request, KIOSK_REVOKED_DONE, params={"kiosk": f"{counter_id} #{serial}"})
        return RedirectResponse(KIOSKS, status_code=303)

    return router
