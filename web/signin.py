"""Signing in and out: the password, then for an account with TOTP the six-digit code.

The password step either signs in (no second factor) or leaves the session *pending*
(``web.auth``): the code page is the only thing that state opens, for five minutes and five
tries; staff pages still send it to the login page.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web import auth, csrf
from web.errors import error_page
from web.i18n import N_
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store

BAD_LOGIN = N_("Tên đăng nhập hoặc mật khẩu không đúng")
BAD_CODE = N_(
    "Mã xác thực không đúng hoặc đã được dùng. Vui lòng nhập mã đang hiển thị trong ứng dụng "
    "xác thực."
)
NO_TRIES_LEFT = N_("Bạn đã nhập sai mã xác thực quá nhiều lần. Vui lòng đăng nhập lại.")
STEP_EXPIRED = N_("Phiên đăng nhập đã hết hạn. Vui lòng nhập lại tên đăng nhập và mật khẩu.")
SECOND_STEP = "/login/totp"


def signin_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    used_codes = auth.UsedCodes()

    def render_login(
        request: Request, next_url: str, username: str = "", error: str | None = None
    ) -> Response:
        context = {
            "csrf": csrf.csrf_token(request),
            "next": next_url,
            "username": username,
            "error": error,
        }
        status = 401 if error else 200
        return no_store(renderer.render(request, "login.html", context, status))

    def render_code_page(request: Request, error: str | None = None) -> Response:
        context = {"csrf": csrf.csrf_token(request), "error": error}
        status = 401 if error else 200
        return no_store(renderer.render(request, "login_totp.html", context, status))

    @router.get("/login")
    async def login_form(request: Request, next: str = "") -> Response:
        return render_login(request, auth.safe_next(next, ""))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        username, password = _text(form, "username"), _text(form, "password")
        asked_for = auth.safe_next(_text(form, "next"), "")
        account = await anyio.to_thread.run_sync(
            auth.authenticate, services.organisation, username, password
        )
        if account is None:
            return render_login(request, asked_for, username, BAD_LOGIN)
        next_url = asked_for or auth.landing_page(account)
        if auth.needs_second_factor(account):
            auth.begin_second_step(request, account, next_url, services.clock())
            return no_store(RedirectResponse(SECOND_STEP, status_code=303))
        auth.log_in(request, account)
        return RedirectResponse(next_url, status_code=303)

    @router.get(SECOND_STEP)
    async def code_form(request: Request) -> Response:
        if auth.pending_second_step(request, services.clock()) is None:
            return RedirectResponse("/login", status_code=303)
        return render_code_page(request)

    @router.post(SECOND_STEP)
    async def code(request: Request) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        at = services.clock()
        pending = auth.pending_second_step(request, at)
        account = (
            services.organisation.staff.get(pending.username) if pending is not None else None
        )
        if pending is None or account is None or not getattr(account, "active", True):
            auth.end_second_step(request)
            return render_login(request, "", error=STEP_EXPIRED)
        typed = _text(form, "code").strip()
        if auth.needs_second_factor(account) and not (
            auth.code_ok(account, typed, at) and used_codes.accept(account.username, typed)
        ):
            if not auth.count_wrong_code(request, pending):
                return render_login(request, pending.next_url, account.username, NO_TRIES_LEFT)
            return render_code_page(request, BAD_CODE)
        auth.log_in(request, account)
        return RedirectResponse(pending.next_url, status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        auth.log_out(request)
        return RedirectResponse("/", status_code=303)

    return router


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
