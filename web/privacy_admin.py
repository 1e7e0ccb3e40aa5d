"""``/admin/privacy/erase``: an administrator carries out a citizen's lawful erasure request
(docs/privacy.md) — tracking code, reason and legal basis, a confirmation step, then the same
``erase_case`` as ``feedback privacy erase``: recorded as ``PersonalDataErased``, the key
deleted, the photo and the notifier's addresses cleared.

Who may: ``permissions.check_unit(..., UnitAction.ERASE_PERSONAL_DATA, case unit, scope)``
(administrators, within their subtree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from consumers.outbound import forget_case_addresses
from feedback_core.identity import normalise_tracking_code
from feedback_core.permissions import NotAllowed, UnitAction, check_unit
from feedback_core.privacy.erasures import ErasureLog, ErasureRefused
from feedback_core.privacy.keyed import address_hasher
from feedback_core.privacy.requests import CaseErasure, Cleanup, ErasureRequest, erase_case
from feedback_core.privacy.vault import PersonalDataVault
from web import csrf
from web.admin import MISSING_FIELDS, NotConfigured, field, refused
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.principal import SignedIn, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

PAGE = "/admin/privacy/erase"
ERASED = N_("Đã xoá dữ liệu cá nhân của phản ánh %(code)s. Việc xoá đã được ghi nhận.")
ALREADY = N_("Dữ liệu cá nhân của phản ánh %(code)s đã được xoá trước đó.")
NO_CASE = N_("Không tìm thấy phản ánh có mã theo dõi này.")
NOT_YOURS = N_("Phản ánh này không thuộc phạm vi quản trị của bạn.")


_LOGS: dict[int, ErasureLog] = {}


def erasure_log_for(cases_app: Any) -> ErasureLog:
    """The erasure record beside a cases application (same database), opened once."""
    key = id(cases_app)
    if key not in _LOGS:
        _LOGS[key] = ErasureLog(env={**cases_app.env, "POSTGRES_POOL_SIZE": "1"})
    return _LOGS[key]


@dataclass(frozen=True)
class Target:
    """The case a request names, as the confirmation step shows it."""

    case_id: Any
    tracking_code: str
    unit_id: str


def privacy_admin_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def parts() -> tuple[Any, PersonalDataVault, ErasureLog]:
        desk = services.desk
        vault = getattr(desk.app, "personal_data", None) if desk is not None else None
        if desk is None or not isinstance(vault, PersonalDataVault):
            raise NotConfigured("personal data")
        return desk.app, vault, erasure_log_for(desk.app)

    def cleanups() -> list[Cleanup]:
        hashed = address_hasher(services.settings.personal_data_master)
        photos, pool = services.photos, getattr(services.queries, "pool", None)

        def photo(done: CaseErasure) -> None:
            if done.photo_id and photos is not None:
                photos.delete(done.photo_id)

        def outbound(done: CaseErasure) -> None:
            if pool is None:  # no PostgreSQL read side (tests): no notifier record either
                return
            schema = services.settings.outbound_schema
            with pool.connection() as conn:
                found = conn.execute("SELECT to_regclass(%s)", (f"{schema}.sent",)).fetchone()
                if found is not None and found[0] is not None:
                    forget_case_addresses(conn, done.case_id, hashed, schema)

        return [photo, outbound]

    def allowed(principal: StaffPrincipal, unit: str) -> bool:
        try:
            check_unit(principal.actor, UnitAction.ERASE_PERSONAL_DATA, unit, principal.scope)
        except NotAllowed:
            return False
        return True

    def page(request: Request, principal: StaffPrincipal, **extra: Any) -> Response:
        context = {**staff_context(request, principal), "tracking_code": "", "reason": "",
                   "legal_basis": "", "target": None, **extra}  # fmt: skip
        return no_store(renderer.render(request, "admin_privacy_erase.html", context))

    @router.get(PAGE)
    async def form(request: Request, principal: SignedIn) -> Response:
        if not allowed(principal, principal.actor.unit_id):
            return error_page(renderer, request, 403)
        return page(request, principal)

    @router.post(PAGE)
    async def submit(request: Request, principal: SignedIn) -> Response:
        if not allowed(principal, principal.actor.unit_id):
            return error_page(renderer, request, 403)
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        code = normalise_tracking_code(field(form, "tracking_code"))
        reason, basis = field(form, "reason"), field(form, "legal_basis")
        if not code or not reason or not basis:
            return refused(renderer, request, 422, MISSING_FIELDS, PAGE)
        status = await anyio.to_thread.run_sync(services.queries.submission, code)
        if status is None or status.case_id is None:
            return refused(renderer, request, 404, NO_CASE, PAGE)
        if not allowed(principal, status.unit_id):
            return refused(renderer, request, 403, NOT_YOURS, PAGE)
        target = Target(status.case_id, status.tracking_code, status.unit_id)
        if field(form, "confirm") != "yes":  # the confirmation step: nothing erased yet
            return page(request, principal, tracking_code=code, reason=reason,
                        legal_basis=basis, target=target)  # fmt: skip
        app, vault, log = parts()
        erasure = ErasureRequest(principal.username, principal.actor.role.value, reason, basis,
                                 services.clock())  # fmt: skip
        try:
            done = await anyio.to_thread.run_sync(
                lambda: erase_case(app.events, vault, log, target.case_id, erasure, cleanups())
            )
        except ErasureRefused:
            return refused(renderer, request, 404, NO_CASE, PAGE)
        flash(request, ERASED if done.erased_now else ALREADY, params={"code": code})
        return RedirectResponse(PAGE, status_code=303)

    return router
