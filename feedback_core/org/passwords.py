"""Password hashes: argon2id, never plain text in an event."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from feedback_core.org.errors import InvalidChange

MIN_LENGTH = 8


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of a new password (at least ``MIN_LENGTH`` characters)."""
    if len(password) < MIN_LENGTH:
        raise InvalidChange(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_hash(password_hash: str) -> None:
    """Refuse anything but an argon2 hash, so a plain password never reaches the store."""
    if not password_hash.startswith("$argon2"):
        raise InvalidChange("a password is stored only as an argon2 hash ($argon2id$...)")
