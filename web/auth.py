"""Staff sign-in: argon2 password check, the optional TOTP second step, and the signed
session cookie that remembers it.

A password alone signs in an account without a second factor. For an account with a TOTP
secret the password only opens the second step: the session then holds the username as
*pending* (with the time the password was checked and the page to go to), never as signed
in, until a current code is shown; after ``SECOND_STEP_SECONDS`` or ``MAX_CODE_ATTEMPTS``
wrong codes the password must be given again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from feedback_core.org.totp import STEP_SECONDS, verify_totp
from feedback_core.organisation import Organisation, StaffAccount
from web import csrf

SESSION_USER = "staff"
SESSION_PENDING = "pending_2fa"  # {"user": ..., "since": unix seconds, "next": ..., "tries": n}
SECOND_STEP_SECONDS = 5 * 60
MAX_CODE_ATTEMPTS = 5
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


def password_ok(account: StaffAccount, password: str) -> bool:
    """Check the password of an account already signed in (before a sensitive change)."""
    try:
        return bool(_hasher.verify(account.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_second_factor(account: StaffAccount) -> bool:
    return bool(account.totp_secret)


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


# -- the second step ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A password checked, a code still to come."""

    username: str
    since: float
    next_url: str
    tries: int


def begin_second_step(request: Request, account: StaffAccount, next_url: str, at: datetime
                      ) -> None:
    """A fresh session holding the half-signed-in state only (no ``SESSION_USER``)."""
    request.session.clear()
    request.session[SESSION_PENDING] = {
        "user": account.username, "since": at.timestamp(), "next": next_url, "tries": 0,
    }
    csrf.rotate(request)


def pending_second_step(request: Request, at: datetime) -> Pending | None:
    """The half-signed-in state, if there is one and it has not expired by ``at``."""
    data = request.session.get(SESSION_PENDING)
    if not isinstance(data, dict):
        return None
    user, since = data.get("user"), data.get("since")
    next_url, tries = data.get("next"), data.get("tries")
    if not (isinstance(user, str) and isinstance(since, int | float)
            and isinstance(next_url, str) and isinstance(tries, int)):
        return None
    if not 0 <= at.timestamp() - since <= SECOND_STEP_SECONDS or tries >= MAX_CODE_ATTEMPTS:
        return None
    return Pending(user, float(since), next_url, tries)


def count_wrong_code(request: Request, pending: Pending) -> bool:
    """Record a wrong code; False when no attempt is left (the password is asked again)."""
    tries = pending.tries + 1
    if tries >= MAX_CODE_ATTEMPTS:
        request.session.pop(SESSION_PENDING, None)
        return False
    request.session[SESSION_PENDING] = {
        "user": pending.username, "since": pending.since, "next": pending.next_url,
        "tries": tries,
    }
    return True


def end_second_step(request: Request) -> None:
    request.session.pop(SESSION_PENDING, None)


class UsedCodes:
    """Codes already accepted, so one seen over a shoulder cannot be used again while it is
    valid (RFC 6238 §5.2). Kept in this process's memory: with several web processes a code
    could be replayed once on another process within its validity (about 90 seconds)."""

    KEEP_SECONDS = 3 * STEP_SECONDS

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def accept(self, username: str, code: str) -> bool:
        """False when ``code`` was accepted for ``username`` within the last 90 seconds."""
        now = time.monotonic()
        key = (username, code.replace(" ", ""))
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.KEEP_SECONDS}
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def code_ok(account: StaffAccount, code: str, at: datetime) -> bool:
    return bool(account.totp_secret) and verify_totp(account.totp_secret or "", code, at)


def _active(account: StaffAccount) -> bool:
    """Deactivated accounts neither sign in nor keep a session (older files have no flag)."""
    return bool(getattr(account, "active", True))


def safe_next(target: str | None, default: str = "/staff/queue") -> str:
    """Only local paths, so the login form cannot be used to send people elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def landing_page(account: StaffAccount) -> str:
    """Where a sign-in without a requested page goes: the queue, or for an administrator
    (who handles no cases) the organisation page."""
    return "/admin/org" if account.role == "admin" else "/staff/queue"
