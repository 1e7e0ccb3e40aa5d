"""The signed-in member's own account: turning the TOTP second factor on and off.

Turning it on: the page makes a secret (kept in the signed session until confirmed, so a
reload shows the same QR code), shows it as an inline SVG QR code and as text, and asks for
the code the authenticator app then shows; only a matching code records the secret
(``OrganisationApplication.enable_totp`` checks it again). Turning it off asks for the
password again.
"""

from __future__ import annotations

import re

import anyio
import qrcode
import qrcode.constants
import qrcode.image.svg
from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.org.errors import OrganisationError
from feedback_core.org.totp import new_totp_secret, provisioning_uri, verify_totp
from web import auth, csrf
from web.admin import field, org_app_of, refused_change
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.principal import SignedIn, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

PAGE = "/staff/account/totp"
SESSION_SECRET = "totp_setup"
WRONG_CODE = N_(
    "Mã xác thực không khớp. Kiểm tra giờ trên điện thoại và nhập mã đang hiển thị trong "
    "ứng dụng xác thực."
)
WRONG_PASSWORD = N_("Mật khẩu không đúng.")
TOTP_ON = N_("Đã bật xác thực hai bước. Từ lần đăng nhập sau, hệ thống sẽ hỏi mã xác thực.")
TOTP_OFF = N_("Đã tắt xác thực hai bước.")
PIXELS_PER_MODULE = 5
DISABLE_REASON = "turned off by the account holder on the account page (password checked)"


def qr_svg(text: str) -> Markup:
    """``text`` as an inline SVG QR code (no script, no image request, CSP-friendly); the
    page labels it (the SVG itself is hidden from screen readers)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    svg = re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)
    # Whole pixels per module (the viewBox counts modules), so no seams between them.
    size = (code.modules_count + 2 * code.border) * PIXELS_PER_MODULE
    attributes = f'class="qr" width="{size}" height="{size}" aria-hidden="true" focusable="false"'
    return Markup(svg.replace("<svg", f"<svg {attributes}", 1))


def grouped(secret: str) -> str:
    """``JBSW Y3DP EHPK 3PXP``: easier to read and type (spaces are accepted)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def account_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def setup_secret(request: Request) -> str:
        secret = request.session.get(SESSION_SECRET)
        if not isinstance(secret, str) or not secret:
            secret = new_totp_secret()
            request.session[SESSION_SECRET] = secret
        return secret

    def render(
        request: Request, principal: StaffPrincipal, error: str | None = None, status: int = 200
    ) -> Response:
        enabled = bool(principal.account.totp_secret)
        context = {**staff_context(request, principal), "enabled": enabled, "error": error}
        if not enabled:
            secret = setup_secret(request)
            uri = provisioning_uri(secret, principal.username)
            context |= {"secret": grouped(secret), "uri": uri, "qr": qr_svg(uri)}
        return no_store(renderer.render(request, "account_totp.html", context, status))

    @router.get(PAGE)
    async def page(request: Request, principal: SignedIn) -> Response:
        org_app_of(services)
        return render(request, principal)

    @router.post(PAGE)
    async def change(request: Request, principal: SignedIn) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        app = org_app_of(services)
        username = principal.username
        if field(form, "action") == "disable":
            password = form.get("password")
            ok = await anyio.to_thread.run_sync(
                auth.password_ok, principal.account, password if isinstance(password, str) else ""
            )
            if not ok:
                return render(request, principal, WRONG_PASSWORD, 401)
            try:
                await anyio.to_thread.run_sync(
                    lambda: app.disable_totp(username, actor=username, reason=DISABLE_REASON)
                )
            except OrganisationError as error:
                return refused_change(renderer, request, error, PAGE)
            message = TOTP_OFF
        else:
            secret = request.session.get(SESSION_SECRET)
            code, at = field(form, "code"), services.clock()
            if not isinstance(secret, str) or not verify_totp(secret, code, at):
                return render(request, principal, WRONG_CODE, 422)
            try:
                await anyio.to_thread.run_sync(
                    lambda: app.enable_totp(username, secret=secret, code=code, actor=username,
                                            at=at)
                )
            except OrganisationError as error:
                return refused_change(renderer, request, error, PAGE)
            request.session.pop(SESSION_SECRET, None)
            message = TOTP_ON
        await anyio.to_thread.run_sync(services.refresh_organisation)
        flash(request, message)
        return RedirectResponse(PAGE, status_code=303)

    return router
