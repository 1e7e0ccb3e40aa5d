"""Response headers for every page, and the language cookie set by ``?lang=``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from web.i18n import LANG_COOKIE, requested_locale

# Scripts only from /static: the one script is progressive enhancement, so no inline code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}
ONE_YEAR = 365 * 24 * 3600

CallNext = Callable[[Request], Awaitable[Response]]


def apply_security_headers(response: Response) -> Response:
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response


async def security_headers(request: Request, call_next: CallNext) -> Response:
    return apply_security_headers(await call_next(request))


async def remember_language(request: Request, call_next: CallNext) -> Response:
    """``?lang=en`` / ``?lang=vi`` sticks for later pages (and the redirect after a POST)."""
    response = await call_next(request)
    locale = requested_locale(request)
    if locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
