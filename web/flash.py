"""One message carried from a POST to the page it redirects to, in the signed session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request

SESSION_KEY = "flash"


@dataclass(frozen=True)
class Notice:
    """A msgid, its plain parameters, and parameters that are msgids themselves (labels)."""

    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    kind: str = "ok"  # ok | error


def flash(
    request: Request,
    message: str,
    *,
    kind: str = "ok",
    params: Mapping[str, str | int] | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    request.session[SESSION_KEY] = {
        "message": message,
        "kind": kind,
        "params": dict(params or {}),
        "labels": dict(labels or {}),
    }


def pop_flash(request: Request) -> Notice | None:
    data = request.session.pop(SESSION_KEY, None)
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return None
    return Notice(
        data["message"],
        dict(data.get("params") or {}),
        dict(data.get("labels") or {}),
        str(data.get("kind") or "ok"),
    )
