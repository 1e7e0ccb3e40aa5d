"""Staff pages: sign in and out, and the queue of open cases within the account's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.organisation import Counter, Organisation, StaffAccount, Unit
from projections.queries import QueueRow
from web import auth, csrf
from web.errors import error_page
from web.i18n import N_
from web.rendering import LOCAL_ZONE, Renderer
from web.services import WebServices

BAD_LOGIN = N_("Tên đăng nhập hoặc mật khẩu không đúng")


@dataclass(frozen=True)
class QueueItem:
    row: QueueRow
    unit: Unit | None
    counter: Counter | None
    overdue: bool


def queue_items(org: Organisation, rows: list[QueueRow], today: date) -> list[QueueItem]:
    return [
        QueueItem(
            row, org.units.get(row.unit_id), org.counters.get(row.counter_id), row.due_on < today
        )
        for row in rows
    ]


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def no_store(response: Response) -> Response:
    """Staff pages hold case text: keep them out of shared caches and the back-button cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def staff_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    org = services.organisation

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

    @router.get("/login")
    async def login_form(request: Request, next: str = "") -> Response:
        return render_login(request, auth.safe_next(next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        username, password = _text(form, "username"), _text(form, "password")
        next_url = auth.safe_next(_text(form, "next"))
        account = await anyio.to_thread.run_sync(auth.authenticate, org, username, password)
        if account is None:
            return render_login(request, next_url, username, BAD_LOGIN)
        auth.log_in(request, account)
        return RedirectResponse(next_url, status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        auth.log_out(request)
        return RedirectResponse("/", status_code=303)

    @router.get("/staff/queue")
    async def queue(request: Request) -> Response:
        account = auth.current_account(request, org)
        if account is None:
            return login_redirect(request)
        rows = await anyio.to_thread.run_sync(services.queries.queue, org.subtree(account.unit_id))
        today = services.clock().astimezone(LOCAL_ZONE).date()
        context = {
            **staff_context(request, account),
            "scope": org.units.get(account.unit_id),
            "items": queue_items(org, list(rows), today),
        }
        return no_store(renderer.render(request, "queue.html", context))

    return router


def staff_context(request: Request, account: StaffAccount) -> dict[str, Any]:
    """What the staff header needs: who is signed in and the token for the logout form."""
    return {"account": account, "csrf": csrf.csrf_token(request)}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
