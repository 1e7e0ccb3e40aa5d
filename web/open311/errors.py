"""Open311 errors: an HTTP status and an array of ``{code, description}``.

GeoReport v2: 404 for resources that do not exist, 403 for a wrong or missing api_key, 400
for every other request that cannot be fulfilled (a service failure included). Each
``code`` here is the HTTP status, as the specification suggests; descriptions are meant
for the user, so they are in Vietnamese and English.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorItem:
    code: int
    description: str


class Open311Error(Exception):
    """Raised by the routes; rendered in the format of the request."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.items = [ErrorItem(status, d) for d in descriptions]


def bilingual(vi: str, en: str) -> str:
    return f"{vi} / {en}"


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def forbidden(description: str) -> Open311Error:
    return Open311Error(403, description)


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, *descriptions)


GENERAL_ERROR = bilingual(
    "Hệ thống không xử lý được yêu cầu lúc này; vui lòng thử lại sau",
    "the service could not process the request now; please retry later",
)
