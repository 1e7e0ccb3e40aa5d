"""The app's OpenAPI document at ``/openapi.json``, completed where FastAPI cannot see.

Most pages read their HTML forms and filters from the request themselves (so a rejected form
can be shown again as typed), which FastAPI's generator does not see. This module adds those
form bodies and query filters, and the API-key security of the machine APIs (Open311's
``api_key``), so the document describes what the app really accepts and a fuzzer such as
schemathesis can reach every operation. The docs UIs stay off (``docs_url=None``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

OPENAPI_URL = "/openapi.json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
CSRF = "csrf_token"

# (method, path) -> (media type, form fields). Every field is text, as a browser sends it.
FORM_BODIES: Mapping[tuple[str, str], tuple[str, Sequence[str]]] = {
    ("post", "/q/{token}"): (
        MULTIPART,
        ("submission_id", "rating", "category", "description", "dossier_code", "contact",
         "consent", "component_access", "component_procedures", "component_officers",
         "component_results", "component_feedback", "photo"),
    ),
    ("post", "/t/{code}/{step}"): (FORM, ("text", "version", "outcome")),
    ("post", "/login"): (FORM, (CSRF, "username", "password", "next")),
    ("post", "/login/totp"): (FORM, (CSRF, "code")),
    ("post", "/logout"): (FORM, (CSRF,)),
    ("post", "/staff/queue/assign"): (FORM, (CSRF, "case", "assignee", "return_to")),
    ("post", "/staff/account/totp"): (FORM, (CSRF, "action", "password", "code")),
    ("post", "/admin/org/qr/issue"): (FORM, (CSRF, "counter_id", "reason")),
    ("post", "/admin/org/qr/revoke"): (FORM, (CSRF, "token", "reason")),
    ("post", "/admin/org/{name}"): (
        FORM,
        (CSRF, "password", "effective_on", "unit_id", "name_vi", "name_en", "level",
         "parent_id", "into", "reason", "username", "counter_id", "office_id",
         "display_name", "role"),
    ),
    ("post", "/admin/calendar/{name}"): (FORM, (CSRF, "day", "reason")),
    ("post", "/admin/privacy/erase"): (
        FORM, (CSRF, "tracking_code", "reason", "legal_basis", "confirm")
    ),
    ("post", "/staff/cases/{case_id}/{action}"): (
        FORM,
        (CSRF, "version", "text", "reason", "assignee", "to_unit", "days", "primary",
         "return_to"),
    ),
    ("post", "/staff/hotline"): (
        FORM,
        (CSRF, "submission_id", "caller_number", "call_time", "category", "unit_id",
         "counter_id", "description", "callback"),
    ),
    ("post", "/open311/v2/requests.{fmt}"): (
        FORM,
        ("api_key", "service_code", "lat", "long", "address_string", "email", "phone",
         "first_name", "last_name", "description", "media_url", "attribute[unit]",
         "attribute[counter]", "attribute[client_request_id]"),
    ),
}

# (method, path) -> query parameters read from ``request.query_params``.
QUERY_FILTERS: Mapping[tuple[str, str], Sequence[str]] = {
    ("get", "/staff/queue"): ("state", "category", "channel", "assignee", "overdue", "q",
                              "page"),
    ("get", "/staff/my"): ("state", "category", "channel", "overdue", "q", "page"),
    ("get", "/staff/dashboard"): ("unit", "from", "to", "format", "table"),
    ("get", "/staff/dashboard/overdue"): ("unit", "from", "to", "format"),
    ("get", "/staff/dashboard/{table}.csv"): ("unit", "from", "to"),
    ("get", "/staff/cases/{case_id}"): ("template",),
    ("get", "/inspect/log"): ("as_of",),
    ("get", "/open311/v2/requests.{fmt}"): (
        "api_key", "service_request_id", "service_code", "start_date", "end_date", "status",
        "extensions",
    ),
    ("get", "/open311/v2/requests/{request_id}.{fmt}"): ("api_key", "extensions"),
}

OPEN311_KEY = {"Open311ApiKey": {"type": "apiKey", "in": "query", "name": "api_key",
                                 "description": "The application's Open311 api_key"}}


def _text_schema() -> dict[str, Any]:
    return {"type": "string", "maxLength": 200}


def _form_body(media_type: str, fields: Sequence[str]) -> dict[str, Any]:
    properties = {
        name: ({"type": "string", "format": "binary"} if name == "photo" else _text_schema())
        for name in fields
    }
    return {"required": True, "content": {media_type: {"schema": {
        "type": "object", "properties": properties}}}}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the hand-read form bodies, query filters and the Open311 key to ``document``."""
    paths: dict[str, dict[str, Any]] = document.setdefault("paths", {})
    for (method, path), (media_type, fields) in FORM_BODIES.items():
        operation = paths.get(path, {}).get(method)
        if operation is not None and "requestBody" not in operation:
            operation["requestBody"] = _form_body(media_type, fields)
    for (method, path), names in QUERY_FILTERS.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        known = {(p.get("name"), p.get("in")) for p in parameters}
        parameters.extend(
            {"name": name, "in": "query", "required": False, "schema": _text_schema()}
            for name in names if (name, "query") not in known
        )
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.update(OPEN311_KEY)
    for path, operations in paths.items():
        if path.startswith("/open311/v2/requests"):
            for operation in operations.values():
                operation.setdefault("security", [{"Open311ApiKey": []}, {}])
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``OPENAPI_URL`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(title=app.title, version=app.version, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
