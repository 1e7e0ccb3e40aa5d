"""CSRF tokens for staff forms: one random token per session, echoed in a hidden field."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

SESSION_KEY = "csrf"
FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's token, made on first use (so the login page itself sets it)."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    expected = request.session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def rotate(request: Request) -> None:
    """A fresh token, e.g. after login, so a token seen before login is worth nothing after."""
    request.session[SESSION_KEY] = secrets.token_urlsafe(32)
