"""Remove citizens' personal data (phone, e-mail, free text) from Sentry events.

What stays is what says *where* an error happened: exception types, stack frames (file,
function, line; local variables are off in ``init_sentry``), log message templates and
identifiers. What may hold what a person typed is removed: request bodies, cookies and
headers carrying credentials, any field named like personal data, exception messages (an
exception can quote a form), and log parameters that are not identifiers. Phone numbers and
e-mail addresses are also cut out of whatever text is left.
"""

from __future__ import annotations

import re
from typing import Any

SENSITIVE_KEYS = {
    "description", "text", "complaint", "phone", "email", "e-mail", "contact", "password",
    "csrf_token", "cookie", "cookies", "authorization", "body", "data", "vars", "reply",
    "question", "public_answer", "reason", "caller_number", "x-api-key", "api_key",
    "query_string",
}
_PHONE = re.compile(r"(?:\+?84|0)(?:[\s.-]?\d){8,10}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_IDENTIFIER = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9A-Z]{5}-[0-9A-Z]{5}|[\w.:/-]{1,64}"
)
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


def _identifier_or_filtered(value: Any) -> Any:
    """A log parameter: kept when it is a number or an identifier (no spaces), else gone."""
    if isinstance(value, int | float) or value is None:
        return value
    text = str(value)
    return scrub_text(text) if _IDENTIFIER.fullmatch(text) else FILTERED


def _scrub_logentry(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    params = entry.get("params")
    cleaned = dict(entry)
    if isinstance(params, list | tuple):
        cleaned["params"] = [_identifier_or_filtered(p) for p in params]
    elif isinstance(params, dict):
        cleaned["params"] = {k: _identifier_or_filtered(v) for k, v in params.items()}
    if params:  # the formatted message repeats the parameters
        cleaned.pop("formatted", None)
    return scrub(cleaned)


def scrub_event(event: Any, hint: dict[str, Any]) -> Any:
    """Sentry ``before_send``: bodies, variables, exception messages and log parameters."""
    if not isinstance(event, dict):
        return event
    event = dict(event)
    exception = event.get("exception")
    if isinstance(exception, dict):
        values = [
            {**v, "value": FILTERED} if isinstance(v, dict) and v.get("value") else v
            for v in exception.get("values") or []
        ]
        event["exception"] = {**exception, "values": values}
    if "logentry" in event:
        event["logentry"] = _scrub_logentry(event["logentry"])
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict) and isinstance(crumbs.get("values"), list):
        event["breadcrumbs"] = {**crumbs, "values": [
            scrub_breadcrumb(c, {}) for c in crumbs["values"]]}
    return scrub(event)


def scrub_breadcrumb(crumb: Any, hint: dict[str, Any]) -> Any:
    """Sentry ``before_breadcrumb``: a log record's message is kept only as its template."""
    if not isinstance(crumb, dict):
        return crumb
    crumb = dict(crumb)
    record = hint.get("log_record") if isinstance(hint, dict) else None
    if record is not None and getattr(record, "args", None):
        crumb["message"] = str(record.msg)
        crumb["data"] = {}
    return scrub(crumb)
