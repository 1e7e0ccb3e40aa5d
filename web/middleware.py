"""Response headers for every page, cookies marked for TLS, the language cookie set by
``?lang=``, and the request body limit.

``PageHeaders`` is plain ASGI middleware: it edits the ``http.response.start`` message on
its way out. (It replaced two ``BaseHTTPMiddleware`` layers, each of which ran the rest of
the app in a task of its own and streamed the body through a memory channel: about a
third of the web's CPU per request went there; docs/performance.md.)
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.i18n import LANG_COOKIE, LOCALES, requested_locale

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


def _language_cookie(locale: str) -> bytes:
    """The ``Set-Cookie`` value of ``remember_language``, built once by Starlette itself."""
    response = Response()
    response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return next(value for name, value in response.raw_headers if name == b"set-cookie")


_LANGUAGE_COOKIES = {locale: _language_cookie(locale) for locale in LOCALES}
_SECURITY_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_HSTS = (b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode())
_SECURE = re.compile(rb";\s*secure\b", re.I)


def _query_locale(query_string: bytes) -> str | None:
    """``?lang=`` when it names one of our locales (as ``requested_locale``)."""
    if b"lang=" not in query_string:
        return None
    lang = dict(parse_qsl(query_string.decode("latin-1"))).get("lang")
    return lang if lang in LOCALES else None


class PageHeaders:
    """What ``remember_language`` and ``security_headers_for`` do, in one ASGI layer:
    the language cookie of ``?lang=``, the security headers where the route set none,
    HSTS over TLS, and ``Secure`` on every cookie over TLS (or always, with
    ``secure_cookies``)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = _query_locale(scope.get("query_string", b""))
        tls = scope.get("scheme") in ("https", "wss")
        secure = tls or self.secure_cookies

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                if locale:
                    headers.append((b"set-cookie", _LANGUAGE_COOKIES[locale]))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _SECURITY_HEADERS if h[0] not in present]
                if tls and _HSTS[0] not in present:
                    headers.append(_HSTS)
                if secure:
                    headers = [
                        (n, v + b"; Secure")
                        if n.lower() == b"set-cookie" and not _SECURE.search(v) else (n, v)
                        for n, v in headers
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
