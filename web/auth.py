"""Staff sign-in: argon2 password check and the signed session cookie that remembers it."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from feedback_core.organisation import Organisation, StaffAccount
from web import csrf

SESSION_USER = "staff"
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked against for unknown usernames, so timing does not tell which names exist."""
    return _hasher.hash("not-a-password")


def authenticate(org: Organisation, username: str, password: str) -> StaffAccount | None:
    account = org.staff.get(username.strip())
    try:
        _hasher.verify(account.password_hash if account else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return account if account and _active(account) else None


def log_in(request: Request, account: StaffAccount) -> None:
    """A fresh session (against fixation) holding only the username and a new CSRF token."""
    request.session.clear()
    request.session[SESSION_USER] = account.username
    csrf.rotate(request)


def log_out(request: Request) -> None:
    request.session.clear()


def current_account(request: Request, org: Organisation) -> StaffAccount | None:
    """The signed-in account; None too when it left the organisation or was deactivated."""
    username = request.session.get(SESSION_USER)
    account = org.staff.get(username) if isinstance(username, str) else None
    return account if account and _active(account) else None


def _active(account: StaffAccount) -> bool:
    """Deactivated accounts neither sign in nor keep a session (older files have no flag)."""
    return bool(getattr(account, "active", True))


def safe_next(target: str | None, default: str = "/staff/queue") -> str:
    """Only local paths, so the login form cannot be used to send people elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
