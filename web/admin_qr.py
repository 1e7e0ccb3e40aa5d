"""The counters' QR codes on the organisation admin pages: issue a new code, revoke one
(reason required), and what the pages show (each counter's code in service, the history).

Administrators only, within their own subtree (the counter's office must be in it). Each
change is an event of the counter's ``CounterQrCodes`` aggregate with the administrator as
the actor; afterwards the web reads the counter's code again (home page, posters).
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.org.directory import directory_as_of
from feedback_core.qr_codes import QrError, parse_token
from web import csrf
from web.admin import (
    MISSING_FIELDS,
    OUT_OF_SCOPE,
    NotConfigured,
    field,
    org_app_of,
    refused,
    refused_change,
)
from web.admin_org import ORG, Scope
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.principal import Admin
from web.rendering import Renderer
from web.services import WebServices

ISSUED = N_("Đã cấp mã QR mới cho quầy %(counter)s. Vui lòng in và dán áp phích mới.")
REVOKED = N_("Đã thu hồi mã QR %(token)s. Quầy %(counter)s dùng mã mới: %(new)s.")


def qr_admin_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    async def scope_of(principal: Admin) -> Scope:
        app = org_app_of(services)
        today = services.today()
        org = await anyio.to_thread.run_sync(lambda: directory_as_of(app, today))
        return Scope.of(org, principal.actor.unit_id)

    async def checked(request: Request) -> tuple[Any, Response | None]:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return form, error_page(renderer, request, 403)
        if services.qr_codes is None:
            raise NotConfigured("qr codes")
        return form, None

    @router.post(ORG + "/qr/issue")
    async def issue(request: Request, principal: Admin) -> Response:
        form, refusal = await checked(request)
        if refusal:
            return refusal
        counter_id = field(form, "counter_id")
        if not counter_id:
            return refused(renderer, request, 422, MISSING_FIELDS, ORG)
        scope = await scope_of(principal)
        if not scope.has("counter", counter_id):
            return refused(renderer, request, 403, OUT_OF_SCOPE, ORG)
        codes, keyring = services.qr()
        reason = field(form, "reason")
        now = services.clock()
        await anyio.to_thread.run_sync(
            lambda: codes.issue(counter_id, keyring, now, principal.username, reason)
        )
        services.forget_qr_token(counter_id)
        flash(request, ISSUED, params={"counter": counter_id})
        return RedirectResponse(f"{ORG}#counter-{counter_id}", status_code=303)

    @router.post(ORG + "/qr/revoke")
    async def revoke(request: Request, principal: Admin) -> Response:
        form, refusal = await checked(request)
        if refusal:
            return refusal
        token, reason = field(form, "token"), field(form, "reason")
        if not token or not reason:
            return refused(renderer, request, 422, MISSING_FIELDS, ORG)
        parsed = parse_token(token)
        scope = await scope_of(principal)
        if parsed is None or not scope.has("counter", parsed[0]):
            return refused(renderer, request, 403, OUT_OF_SCOPE, ORG)
        counter_id = parsed[0]
        codes, _keyring = services.qr()
        now = services.clock()
        try:
            await anyio.to_thread.run_sync(
                lambda: codes.revoke(token, now, principal.username, reason)
            )
        except QrError as error:
            return refused_change(renderer, request, error, ORG)
        services.forget_qr_token(counter_id)
        new = await anyio.to_thread.run_sync(services.qr_token_of, counter_id)
        flash(request, REVOKED, params={"token": token, "counter": counter_id, "new": new})
        return RedirectResponse(f"{ORG}#counter-{counter_id}", status_code=303)

    return router
