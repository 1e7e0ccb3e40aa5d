"""GET requests: the filters of GeoReport v2 and the service request each case becomes.

What anyone may read (``public``) and what only an Open311 client covering the case's unit
reads is decided in ``request_data``; docs/open311.md says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from uuid import UUID

from feedback_core.identity import normalise_tracking_code
from feedback_core.intake import ComplaintCategory
from feedback_core.local_time import LOCAL_ZONE
from feedback_core.organisation import Organisation
from projections.open311_queries import CLOSED_STATES, RequestQuery, ServiceRequestRow
from web.open311.catalogue import category_names, legal_state_names
from web.open311.errors import bad_request, bilingual
from web.open311.formats import Data, end_of_day, w3c

# Coordinates shown to the public: 3 decimals, about 110 m (a block, not a house).
PUBLIC_COORDINATE_DECIMALS = 3
WINDOW = timedelta(days=90)  # the default range, and the longest one may ask for
STATUSES = ("open", "closed")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# "+07:00" sent unencoded in a query string arrives as " 07:00".
_UNENCODED_PLUS = re.compile(r"(.*T[0-9:.]+) (\d{2}:?\d{2})")


def values(raw: Sequence[str]) -> list[str]:
    """A parameter declared several times and/or comma delimited; empty ones dropped."""
    return [part.strip() for value in raw for part in value.split(",") if part.strip()]


def parse_w3c(name: str, text: str, *, end: bool) -> datetime:
    """A W3C date-time with its zone (``2010-01-01T00:00:00Z``); a bare date is a local day,
    from its first instant (start_date) or to its last (end_date)."""
    text = _UNENCODED_PLUS.sub(r"\1+\2", text.strip())
    if _DATE.fullmatch(text):
        day = date.fromisoformat(text)
        if end:
            next_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL_ZONE)
            return next_day - timedelta(microseconds=1)
        return datetime.combine(day, time(), tzinfo=LOCAL_ZONE)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in text:
        raise bad_request(
            bilingual(
                f"{name} phải theo định dạng W3C có múi giờ, ví dụ 2026-01-01T00:00:00+07:00",
                f"{name} must be a W3C date-time with its zone, e.g. 2010-01-01T00:00:00Z",
            )
        )
    return parsed


def window(start_text: str, end_text: str, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range: the last 90 days by default, never more than 90 days."""
    start = parse_w3c("start_date", start_text, end=False) if start_text else None
    end = parse_w3c("end_date", end_text, end=True) if end_text else None
    if start is None:
        end = end or now
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise bad_request(
            bilingual("end_date trước start_date", "end_date is before start_date")
        )
    if end - start > WINDOW:
        raise bad_request(
            bilingual(
                "Khoảng start_date – end_date không được quá 90 ngày",
                "start_date to end_date may not span more than 90 days",
            )
        )
    return start, end


def list_query(
    params: dict[str, list[str]], now: datetime, unit_ids: Sequence[str] | None
) -> RequestQuery:
    """The query of GET requests; ``service_request_id`` overrides every other filter."""
    ids = values(params.get("service_request_id", []))
    if ids:
        return by_ids(ids)
    problems: list[str] = []
    codes = values(params.get("service_code", []))
    unknown = [c for c in codes if c not in ComplaintCategory.__members__.values()]
    if unknown:
        problems.append(
            bilingual(
                f"Không có dịch vụ service_code={', '.join(unknown)}",
                f"unknown service_code {', '.join(unknown)}; see services",
            )
        )
    statuses = set(values(params.get("status", [])))
    if statuses - set(STATUSES):
        problems.append(
            bilingual("status chỉ nhận open, closed", "status takes open and/or closed")
        )
    if problems:
        raise bad_request(*problems)
    start, end = window(_first(params, "start_date"), _first(params, "end_date"), now)
    return RequestQuery(
        unit_ids=tuple(unit_ids) if unit_ids is not None else None,
        received_from=start,
        received_to=end,
        categories=tuple(codes) if codes else None,
        closed=None if len(statuses) != 1 else statuses == {"closed"},
    )


def by_ids(ids: Sequence[str]) -> RequestQuery:
    """Requests by their ``service_request_id``; a tracking code (the id this server gave
    before it had public ids, typed as people type it) finds its request too."""
    public: set[str] = set()
    codes: set[str] = set()
    for text in ids:
        try:
            public.add(str(UUID(text.strip())))
        except ValueError:
            codes.add(normalise_tracking_code(text))
    return RequestQuery(ids=tuple(sorted(public)), codes=tuple(sorted(codes - {""})))


def _first(params: dict[str, list[str]], name: str) -> str:
    found = values(params.get(name, []))
    return found[0] if found else ""


def open_or_closed(status: str) -> str:
    return "closed" if status in CLOSED_STATES else "open"


def request_data(
    row: ServiceRequestRow,
    org: Organisation,
    *,
    in_scope: bool,
    with_extensions: bool,
) -> dict[str, Data]:
    """One ``request`` element, in the specification's order of fields.

    ``in_scope``: the caller is an Open311 client whose key covers the case's unit. Anyone
    else gets no personal data: not the citizen's words, not the answer written to them,
    not the address, and the coordinates rounded to about 110 m. Never the tracking code."""
    service_name, _ = category_names(row.category)
    unit = org.units.get(row.unit_id)
    data: dict[str, Data] = {
        "service_request_id": row.service_request_id,
        "status": open_or_closed(row.status),
        "status_notes": (row.status_notes or None) if in_scope else None,
        "service_name": service_name,
        "service_code": row.category,
        "description": row.description if in_scope else None,
        "agency_responsible": unit.name_vi if unit else row.unit_id,
        "service_notice": None,
        "requested_datetime": w3c(row.received_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": end_of_day(row.due_on),
        "address": (row.address or None) if in_scope else None,
        "address_id": None,
        "zipcode": None,
        "lat": _coordinate(row.latitude, in_scope),
        "long": _coordinate(row.longitude, in_scope),
        "media_url": None,
    }
    if with_extensions:
        vi, en = legal_state_names(row.status)
        data["extended_attributes"] = {
            "legal_state": row.status,
            "legal_state_vi": vi,
            "legal_state_en": en,
            "due_date": row.due_on.isoformat(),
            "unit_id": row.unit_id,
            "channel": row.channel,
        }
    return data


def _coordinate(value: float | None, exact: bool) -> float | None:
    if value is None or exact:
        return value
    return round(value, PUBLIC_COORDINATE_DECIMALS)
