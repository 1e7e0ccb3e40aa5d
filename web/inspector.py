"""The inspectors' pages (read-only): a case's full replay from the event store with the state
after every step, the case as of a chosen moment, and the log of recorded views.

Open to inspectors and heads, for the cases of their scope (``permissions.check`` with
``Action.VIEW`` on the case's unit, read from the store). Every replay shown is recorded
first in the inspections application (``feedback_core.inspections``): no record, no page.
``/inspect/cases/{id}/export.json`` is the case's audit bundle (``feedback_core.audit.bundle``),
under the same rules, recorded as ``export``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from feedback_core.audit.bundle import BundleError, read_case_bundle
from feedback_core.cases import Case
from feedback_core.identity import normalise_tracking_code
from feedback_core.inspections import (
    DashboardViewRecord,
    InspectionRecord,
    InspectionsApplication,
)
from feedback_core.organisation import Organisation
from feedback_core.permissions import Action, NotAllowed, check
from feedback_core.replay import ReplayStep, as_of, related_cases, replay
from feedback_core.roles import Role
from projections.case_workflow import TIMELINE
from web.errors import error_page
from web.hotline import case_contact
from web.i18n import N_
from web.labels import CHANNEL_LABELS, label
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import LOCAL_ZONE, Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

INSPECTOR_ROLES = frozenset({Role.INSPECTOR, Role.HEAD})
INSPECTORS_ONLY = N_("Chỉ thanh tra và lãnh đạo được xem lại lịch sử phản ánh.")
NOT_IN_SCOPE = N_("Phản ánh này không thuộc phạm vi của bạn.")
NOT_FOUND = N_("Không tìm thấy phản ánh.")
NOT_RECORDED = N_("Không ghi được nhật ký xem lại, nên không hiển thị phản ánh.")
BAD_MOMENT = N_("Thời điểm không hợp lệ; dùng dạng NNNN-TT-NN GG:PP.")
NO_SUCH_CODE = N_("Không có phản ánh với mã này trong phạm vi của bạn.")
BACK_TO_INSPECT = N_("Về trang thanh tra")
LOG_LIMIT = 200
AS_OF_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class ShownStep:
    """A replay step with what the page shows for it."""

    step: ReplayStep
    kind: str  # the timeline kind (projections.case_workflow.TIMELINE)
    public: bool
    text: str
    who: str
    unit: str  # the acting unit's name
    state_unit: str
    assignee: str
    transfer_to: str


def parse_as_of(text: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` (or with a space), local time in Hà Nội; ValueError if malformed."""
    naive = datetime.strptime(text.strip().replace(" ", "T")[:16], AS_OF_FORMAT)
    return naive.replace(tzinfo=LOCAL_ZONE)


def _unit_name(org: Organisation, unit_id: str | None) -> str:
    if not unit_id:
        return ""
    unit = org.units.get(unit_id)
    return unit.name_vi if unit else unit_id


def _person(org: Organisation, username: str | None) -> str:
    if not username:
        return ""
    account = org.staff.get(username)
    return account.display_name if account else username


def show(org: Organisation, step: ReplayStep) -> ShownStep:
    entry = TIMELINE.get(type(step.event))
    kind, public = (entry.kind, entry.public) if entry else (step.event_type, False)
    text = entry.text(step.event) if entry else ""
    if kind in ("transfer_requested", "transferred", "transfer_returned", "merged", "absorbed",
                "extended", "assigned"):
        text = ""  # shown from the links and the state
    if isinstance(step.event, Case.Received):
        text = step.event.description
    return ShownStep(
        step=step,
        kind=kind,
        public=public,
        text=text,
        who=_person(org, step.actor) if step.actor_role not in ("citizen", "system") else "",
        unit=_unit_name(org, step.actor_unit),
        state_unit=_unit_name(org, step.state.unit_id),
        assignee=_person(org, step.state.assignee),
        transfer_to=_unit_name(org, step.state.pending_transfer),
    )


class CaseUnknown(LookupError):
    pass


def load_replay(services: WebServices, case_id: UUID) -> list[ReplayStep]:
    """Every stored event of the case, replayed with the library (CaseUnknown if none)."""
    if services.desk is None:
        raise CaseUnknown(str(case_id))
    app = services.desk.app
    events = list(app.events.get(case_id))
    if not events:
        raise CaseUnknown(str(case_id))
    return replay(events, lambda v: app.repository.get(case_id, version=v))


def case_bundle(services: WebServices, case_id: UUID, tracking_code: str) -> dict[str, Any]:
    """The case's audit bundle, read through the views' connection pool (the same database
    as the event store); BundleError when there is no database or no covering checkpoint."""
    from projections.audit_chain import stored_checkpoints

    pool: Any = getattr(services.queries, "pool", None)
    if pool is None:
        raise BundleError("no database to read the audit chain from")
    with pool.connection() as conn:
        return read_case_bundle(conn, case_id, tracking_code, services.clock(),
                                stored_checkpoints(conn, "cases"))


def require_inspector(principal: StaffPrincipal) -> None:
    if principal.actor.role not in INSPECTOR_ROLES:
        raise StaffForbidden(INSPECTORS_ONLY)


def inspections_of(services: WebServices) -> InspectionsApplication | None:
    return services.inspections


def inspector_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    from web.inspector_rebuild import rebuild_routes

    router = APIRouter()
    router.include_router(rebuild_routes(services, renderer))

    def fail(request: Request, status: int, message: str, params: dict[str, str] | None = None,
             ) -> Response:
        return no_store(error_page(renderer, request, status, message, params=params,
                                   back_url="/inspect", back_label=BACK_TO_INSPECT))

    @router.get("/inspect")
    async def inspect_home(request: Request, principal: Staff, code: str = "") -> Response:
        require_inspector(principal)
        problem = ""
        if code.strip():
            found = await anyio.to_thread.run_sync(
                services.queries.submission, normalise_tracking_code(code)
            )
            if found is not None and found.case_id is not None:
                # Out of scope reads as unknown: the redirect would reveal the case's id.
                row = await anyio.to_thread.run_sync(services.queries.case, found.case_id)
                if row is not None and principal.may(Action.VIEW, row):
                    return RedirectResponse(f"/inspect/cases/{found.case_id}", status_code=303)
            problem = NO_SUCH_CODE
        context = {**staff_context(request, principal), "code": code, "problem": problem}
        return no_store(renderer.render(request, "inspect.html", context))

    async def opened(
        request: Request, case_id: str, principal: StaffPrincipal
    ) -> tuple[UUID, list[ReplayStep], InspectionsApplication] | Response:
        """The case's replay and the log its look goes to; or the refusal: an unknown case
        (404), one outside the principal's scope (403), no inspections log to record in
        (503: nothing is shown unrecorded)."""
        require_inspector(principal)
        try:
            cid = UUID(case_id)
            steps = await anyio.to_thread.run_sync(load_replay, services, cid)
        except (ValueError, CaseUnknown):
            return fail(request, 404, NOT_FOUND)
        try:
            check(principal.actor, Action.VIEW, steps[-1].state.unit_id, principal.scope)
        except NotAllowed:
            return fail(request, 403, NOT_IN_SCOPE)
        inspections = inspections_of(services)
        if inspections is None:
            return fail(request, 503, NOT_RECORDED)
        return cid, steps, inspections

    async def record_look(  # noqa: PLR0913
        inspections: InspectionsApplication, principal: StaffPrincipal, cid: UUID,
        steps: list[ReplayStep], what: str, moment: datetime | None = None,
    ) -> None:
        """One look at the case in the inspections log: ``what`` was seen, as of ``moment``."""
        await anyio.to_thread.run_sync(
            lambda: inspections.record(
                inspector=principal.username, role=principal.actor.role.value,
                inspector_unit=principal.actor.unit_id, case_id=cid,
                tracking_code=steps[0].event.tracking_code, case_unit=steps[-1].state.unit_id,
                at=services.clock(), as_of=moment, what=what,
            )
        )

    @router.get("/inspect/cases/{case_id}")
    async def inspect_case(request: Request, case_id: str, principal: Staff) -> Response:
        found = await opened(request, case_id, principal)
        if isinstance(found, Response):
            return found
        cid, steps, inspections = found
        as_of_text = request.query_params.get("as_of", "")
        moment: datetime | None = None
        problem = ""
        if as_of_text.strip():
            try:
                moment = parse_as_of(as_of_text)
            except ValueError:
                problem = BAD_MOMENT
        received = steps[0].event
        await record_look(inspections, principal, cid, steps, "replay", moment)
        org = services.organisation
        contact = await anyio.to_thread.run_sync(
            case_contact, services, cid, principal.actor.role
        )
        if contact is not None and not contact.masked and (contact.phone or contact.email):
            # the role sees the contact in full: recorded
            await record_look(inspections, principal, cid, steps, "contact", moment)
        then = as_of(steps, moment) if moment is not None else None
        context: dict[str, Any] = {
            **staff_context(request, principal),
            "case_id": cid,
            "received": received,
            "steps": [show(org, s) for s in steps],
            "current": show(org, steps[-1]),
            "moment": moment,
            "as_of_value": moment.strftime(AS_OF_FORMAT) if moment else as_of_text,
            "then": show(org, then) if then is not None else None,
            "problem": problem,
            "related": related_cases(steps),
            "channel": label(CHANNEL_LABELS, received.channel),
            "contact": contact,
            "unit_name": lambda unit: _unit_name(org, unit),
        }
        return no_store(renderer.render(request, "inspect_case.html", context))

    @router.get("/inspect/cases/{case_id}/export.json")
    async def export_case(request: Request, case_id: str, principal: Staff) -> Response:
        found = await opened(request, case_id, principal)
        if isinstance(found, Response):
            return found
        cid, steps, inspections = found
        code = steps[0].event.tracking_code
        await record_look(inspections, principal, cid, steps, "export")
        try:
            document = await anyio.to_thread.run_sync(case_bundle, services, cid, code)
        except BundleError as exc:
            return no_store(JSONResponse({"error": str(exc)}, status_code=503))
        return no_store(JSONResponse(document, headers={
            "content-disposition": f'attachment; filename="audit-{code}.json"'}))

    @router.get("/inspect/log")
    async def inspect_log(request: Request, principal: Staff) -> Response:
        require_inspector(principal)
        inspections = inspections_of(services)
        if inspections is None:
            return fail(request, 503, NOT_RECORDED)
        scope = set(principal.scope)

        def in_scope() -> list[InspectionRecord]:
            found = [r for r in inspections.records() if r.case_unit in scope]
            return found[::-1][:LOG_LIMIT]

        def dashboards_in_scope() -> list[DashboardViewRecord]:
            found = [r for r in inspections.dashboard_records() if r.unit_id in scope]
            return found[::-1][:LOG_LIMIT]

        records = await anyio.to_thread.run_sync(in_scope)
        dashboard_views = await anyio.to_thread.run_sync(dashboards_in_scope)
        org = services.organisation
        context = {
            **staff_context(request, principal),
            "records": records,
            "dashboard_views": dashboard_views,
            "person": lambda username: _person(org, username),
            "unit_name": lambda unit: _unit_name(org, unit),
            "limit": LOG_LIMIT,
        }
        return no_store(renderer.render(request, "inspect_log.html", context))

    return router
