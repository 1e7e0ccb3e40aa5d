"""The case page (everything about one case, and the steps the actor may take now) and
the endpoint every step form posts to: desk command, read-your-writes, then back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.cases import InvalidTransition
from feedback_core.handling import CaseChanged, UnknownCase
from feedback_core.identity import normalise_tracking_code
from feedback_core.permissions import Action, NotAllowed
from projections.queries import QueueRow, TimelineRow
from web import csrf
from web.badges import WorkingDays, badges
from web.case_place import case_place
from web.errors import error_page
from web.flash import flash
from web.hotline import case_contact
from web.i18n import N_
from web.labels import ACTION_LABELS, CHANNEL_LABELS, label
from web.media import case_photo_id
from web.principal import Staff, StaffPrincipal
from web.rendering import Renderer
from web.response_templates import find_template, templates_for
from web.services import WebServices
from web.staff import NOT_YET_SHOWN, no_store, require_desk, staff_context, staff_path, today_in
from web.timeline import describe
from web.workflow import BadForm, build_request, offers, open_units, text_field

CASE_NOT_FOUND = N_("Không tìm thấy phản ánh, hoặc phản ánh không thuộc phạm vi của bạn.")
CASE_CHANGED = N_("Có người vừa thay đổi phản ánh này. Vui lòng tải lại trang.")
CASE_CHANGED_TITLE = N_("Phản ánh vừa được thay đổi")
NOT_ALLOWED = N_("Bạn không có quyền thực hiện thao tác này với phản ánh này.")
INVALID_STEP = N_("Không thể thực hiện thao tác này ở trạng thái hiện tại của phản ánh.")
INVALID_STEP_TITLE = N_("Không thực hiện được")
CHECK_FORM = N_("Vui lòng kiểm tra lại biểu mẫu.")
RELOAD = N_("Tải lại phản ánh")
BACK_TO_CASE = N_("Quay lại phản ánh")
BACK_TO_QUEUE = N_("Về danh sách phản ánh")
DONE = N_("Đã thực hiện: %(action)s.")
MERGED = N_("Đã gộp phản ánh này vào phản ánh %(code)s.")


def parse_case_id(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def case_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    queries = services.queries

    def not_found(request: Request) -> Response:
        back = "/staff/queue"
        return no_store(
            error_page(
                renderer, request, 404, CASE_NOT_FOUND, back_url=back, back_label=BACK_TO_QUEUE
            )
        )

    async def visible_case(case_id: str, principal: StaffPrincipal) -> QueueRow | None:
        cid = parse_case_id(case_id)
        if cid is None:
            return None
        row = await anyio.to_thread.run_sync(queries.case, cid)
        return row if row is not None and principal.may_see(row) else None

    @router.get("/staff/cases/{case_id}")
    async def case_page(request: Request, case_id: str, principal: Staff) -> Response:
        row = await visible_case(case_id, principal)
        if row is None:
            return not_found(request)
        timeline, primary = await anyio.to_thread.run_sync(lambda: _history(services, row))
        org = services.organisation  # read per request: admin changes replace it
        today = today_in(services)
        unit = org.units.get(row.unit_id)
        unit_name = unit.name_vi if unit else row.unit_id
        chosen = find_template(request.query_params.get("template", ""))
        contact = await anyio.to_thread.run_sync(
            case_contact, services, row.case_id, principal.actor.role
        )  # the citizen's contact, masked for roles that do not call back
        photo_id = await anyio.to_thread.run_sync(case_photo_id, services, row.case_id)
        place = await anyio.to_thread.run_sync(case_place, services, row.case_id)
        context = {
            **staff_context(request, principal),
            "row": row,
            "unit": unit,
            "office": org.offices.get(row.office_id),
            "counter": org.counters.get(row.counter_id),
            "transfer_to": org.units.get(row.pending_transfer or ""),
            "assignee": org.staff.get(row.assignee or ""),
            "badges": badges(row, today, WorkingDays(services.calendar())),
            "timeline": [describe(org, t) for t in timeline],
            "primary": primary,
            "offers": offers(org, row, principal),
            "units": open_units(org, row.unit_id),
            "templates": templates_for(row.category),
            "template": chosen.code if chosen else "",
            "answer_text": chosen.fill(row.tracking_code, unit_name) if chosen else "",
            "channel": label(CHANNEL_LABELS, row.channel),
            "contact": contact,
            "photo": bool(photo_id) and services.photos is not None,
            "place": place,  # an Open311 request's address and coordinates
        }
        return no_store(renderer.render(request, "case.html", context))

    @router.get("/staff/cases/{case_id}/photo")
    async def case_photo(request: Request, case_id: str, principal: Staff) -> Response:
        """The photo sent with a case, to whoever may see the case (the case page's own
        check): the photo named by the case's first event, never one named in the URL."""
        row = await visible_case(case_id, principal)
        if row is None or services.photos is None:
            return not_found(request)
        photo_id = await anyio.to_thread.run_sync(case_photo_id, services, row.case_id)
        photo = (
            await anyio.to_thread.run_sync(services.photos.get, photo_id) if photo_id else None
        )
        if photo is None:
            return not_found(request)
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Cache-Control": "private, no-store",
        }
        return Response(photo.data, media_type=photo.content_type, headers=headers)

    @router.post("/staff/cases/{case_id}/{action}")
    async def act(request: Request, case_id: str, action: str, principal: Staff) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        step = _action(action)
        row = await visible_case(case_id, principal)
        if step is None or row is None:
            return not_found(request)
        case_url = f"/staff/cases/{row.case_id}"
        version = text_field(form, "version")
        if not version.isdigit():
            return error_page(renderer, request, 400, back_url=case_url, back_label=RELOAD)
        try:
            primary_id = await _primary_of(services, step, form)
            desk_request = build_request(step, form, services.organisation, row, primary_id)
        except BadForm as bad:
            return no_store(
                error_page(
                    renderer, request, 422, bad.message, CHECK_FORM,
                    params={k: str(v) for k, v in bad.params.items()},
                    back_url=case_url, back_label=BACK_TO_CASE,
                )
            )
        desk = require_desk(services)
        try:
            notification_id = await anyio.to_thread.run_sync(
                desk.act, row.case_id, int(version), principal.actor, desk_request,
                services.clock(),
            )
        except CaseChanged:
            return no_store(
                error_page(
                    renderer, request, 409, CASE_CHANGED, CASE_CHANGED_TITLE,
                    back_url=case_url, back_label=RELOAD,
                )
            )
        except NotAllowed as exc:
            return no_store(
                error_page(
                    renderer, request, 403, NOT_ALLOWED, detail=str(exc),
                    back_url=case_url, back_label=BACK_TO_CASE,
                )
            )
        except InvalidTransition as exc:
            return no_store(
                error_page(
                    renderer, request, 422, INVALID_STEP, INVALID_STEP_TITLE, detail=str(exc),
                    back_url=case_url, back_label=BACK_TO_CASE,
                )
            )
        except UnknownCase:
            return not_found(request)
        shown = await anyio.to_thread.run_sync(queries.wait_for, notification_id)
        after = await anyio.to_thread.run_sync(queries.case, row.case_id)
        if not shown:
            flash(request, NOT_YET_SHOWN)
        elif step is Action.MERGE:
            flash(request, MERGED, params={"code": normalise_tracking_code(_primary_code(form))})
        else:
            flash(request, DONE, labels={"action": label_of(step)})
        still_visible = after is not None and principal.may_see(after)
        default = case_url if still_visible else "/staff/queue"
        target = staff_path(text_field(form, "return_to"), default)
        return RedirectResponse(target, status_code=303)

    return router


def label_of(step: Action) -> str:
    return label(ACTION_LABELS, step)


def _action(text: str) -> Action | None:
    try:
        step = Action(text)
    except ValueError:
        return None
    return None if step is Action.VIEW else step


def _primary_code(form: Any) -> str:
    value = form.get("primary")
    return value if isinstance(value, str) else ""


async def _primary_of(services: WebServices, step: Action, form: Any) -> UUID | None:
    """The case a duplicate is merged into, named by its tracking code."""
    if step is not Action.MERGE:
        return None
    code = normalise_tracking_code(_primary_code(form))
    if not code:
        return None
    status = await anyio.to_thread.run_sync(services.queries.submission, code)
    return status.case_id if status else None


def _history(services: WebServices, row: QueueRow) -> tuple[list[TimelineRow], QueueRow | None]:
    timeline = list(services.queries.timeline(row.case_id, False))
    primary = services.queries.case(row.merged_into) if row.merged_into else None
    return timeline, primary
