"""Response headers for every page, cookies marked for TLS, the language cookie set by
``?lang=``, and the request body limit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
# Sent only over TLS (RFC 6797 §7.2: a browser ignores it over plain HTTP anyway). Whether a
# request came over TLS is the ASGI scheme: https directly, or X-Forwarded-Proto from a proxy
# that uvicorn trusts (FEEDBACK_TRUSTED_PROXIES -> forwarded_allow_ips).
STRICT_TRANSPORT_SECURITY = f"max-age={ONE_YEAR}; includeSubDomains"

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]


def apply_security_headers(response: Response) -> Response:
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response


def over_tls(request: Request) -> bool:
    return request.url.scheme in ("https", "wss")


def mark_cookies_secure(response: Response) -> None:
    """Add ``Secure`` to every cookie the response sets (the session, the language)."""
    raw = response.raw_headers
    for index, (name, value) in enumerate(raw):
        if name.lower() == b"set-cookie" and not re.search(rb";\s*secure\b", value, re.I):
            raw[index] = (name, value + b"; Secure")


def security_headers_for(secure_cookies: bool = False) -> Middleware:
    """The headers of every page; HSTS and Secure cookies over TLS (or, with
    ``secure_cookies``, always: for a TLS proxy that sends no X-Forwarded-Proto)."""

    async def security_headers(request: Request, call_next: CallNext) -> Response:
        response = apply_security_headers(await call_next(request))
        tls = over_tls(request)
        if tls:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        if tls or secure_cookies:
            mark_cookies_secure(response)
        return response

    return security_headers


security_headers = security_headers_for()


async def remember_language(request: Request, call_next: CallNext) -> Response:
    """``?lang=en`` / ``?lang=vi`` sticks for later pages (and the redirect after a POST)."""
    response = await call_next(request)
    locale = requested_locale(request)
    if locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "the request body is over the limit")


class BodySizeLimit:
    """Refuse a request body over the limit with 413 before it is read whole.

    A declared ``Content-Length`` over the limit is refused at once, without reading a byte.
    A body without one (chunked) is counted as it arrives; past the limit the app's read
    (``request.form()``, ``request.body()``) raises ``BodyTooLarge``, which the app's error
    handler turns into the 413 page. ``larger`` gives routes their own limit, e.g. the QR
    form with its photo: ``[(re.compile("^/q/[^/]+$"), 25_000_000)]``.
    """

    def __init__(
        self, app: ASGIApp, limit: int, larger: Sequence[tuple[re.Pattern[str], int]] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger

    def limit_of(self, path: str) -> int:
        return next((limit for pattern, limit in self.larger if pattern.match(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope.get("path", ""))
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.app(scope, _refused_at_once, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


async def _refused_at_once() -> Message:
    """The receive channel of a request whose declared length is over the limit: reading
    it raises at once, so the route answers 413 through the app's own error page."""
    raise BodyTooLarge()
