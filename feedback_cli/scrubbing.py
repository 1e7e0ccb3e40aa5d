"""Remove citizens' personal data (phone, e-mail, free text) from Sentry events."""

from __future__ import annotations

import re
from typing import Any

SENSITIVE_KEYS = {
    "description", "text", "complaint", "phone", "email", "e-mail", "contact", "password",
    "csrf_token", "cookie", "authorization", "body", "data",
}
_PHONE = re.compile(r"(?:\+?84|0)(?:[\s.-]?\d){8,10}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
FILTERED = "[Filtered]"


def scrub_text(text: str) -> str:
    return _PHONE.sub(FILTERED, _EMAIL.sub(FILTERED, text))


def scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: FILTERED if str(k).lower() in SENSITIVE_KEYS else scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_event(event: Any, hint: dict[str, Any]) -> Any:
    """Sentry ``before_send``: request bodies, local variables and messages are scrubbed."""
    return scrub(event)
