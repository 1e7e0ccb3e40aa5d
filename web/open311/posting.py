"""POST requests: the form of GeoReport v2 read into an IntakeSubmission (channel open311).

The problems with the fields are collected, so one 400 answer lists them together (the
core's own checks of e-mail, phone and dossier code follow once the rest is right); a
missing or unknown ``service_code`` is answered alone (400 / 404), as the specification has it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4, uuid5

from feedback_core.api_clients import ApiClient
from feedback_core.identity import NAMESPACE
from feedback_core.intake import (
    MAX_DESCRIPTION_CHARS,
    Channel,
    ComplaintCategory,
    IntakeError,
    IntakeSubmission,
    SipasComponent,
)
from feedback_core.organisation import Organisation
from web.forms import clean_text
from web.open311.catalogue import (
    CLIENT_REQUEST_ID,
    COUNTER,
    DOSSIER_CODE,
    RATING,
    SIPAS_PREFIX,
    UNIT,
    Route,
    routes,
)
from web.open311.errors import bad_request, bilingual, not_found

_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")
_PHONE_PUNCTUATION = re.compile(r"[\s.\-()]")
MAX_KEY_CHARS = 200  # client_request_id / Idempotency-Key, account_id
MAX_ADDRESS_CHARS = 500
SCORES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
SIPAS_CODES = {f"{SIPAS_PREFIX}{c.value}": c for c in SipasComponent}
KNOWN_ATTRIBUTES = frozenset({UNIT, COUNTER, DOSSIER_CODE, RATING, CLIENT_REQUEST_ID, *SIPAS_CODES})


@dataclass
class PostedForm:
    """The fields as posted: every value of every name, ``attribute[...]`` apart."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> PostedForm:
        form = cls()
        for name, value in pairs:
            match = _ATTRIBUTE.fullmatch(name)
            target = form.attributes if match else form.fields
            target.setdefault(match.group(1) if match else name, []).append(value)
        return form


@dataclass(frozen=True)
class Accepted:
    submission: IntakeSubmission
    route: Route
    account_id: str | None


class _Reader:
    """Reads single values and gathers the problems."""

    def __init__(self, form: PostedForm) -> None:
        self.form = form
        self.problems: list[str] = []

    def field(self, name: str) -> str:
        return self._one(name, self.form.fields.get(name, []), name)

    def attribute(self, code: str) -> str:
        return self._one(code, self.form.attributes.get(code, []), f"attribute[{code}]")

    def _one(self, name: str, values: list[str], shown: str) -> str:
        present = [v.strip() for v in values if v.strip()]
        if len(present) > 1:
            self.fail(bilingual(f"{shown} chỉ được gửi một lần", f"{shown} was sent twice or more"))
        return present[0] if present else ""

    def fail(self, problem: str) -> None:
        self.problems.append(problem)


def category_of(form: PostedForm) -> ComplaintCategory:
    """The service_code: 400 when missing, 404 when no such service."""
    values = [v.strip() for v in form.fields.get("service_code", []) if v.strip()]
    if not values:
        raise bad_request(bilingual("Thiếu service_code", "service_code was not provided"))
    try:
        return ComplaintCategory(values[0])
    except ValueError:
        raise not_found(
            bilingual(
                f"Không có dịch vụ service_code={values[0]}",
                f"service_code {values[0]} was not found",
            )
        ) from None


def accept(
    form: PostedForm,
    client: ApiClient,
    org: Organisation,
    now: datetime,
    *,
    locale: str = "vi",
    idempotency_key: str = "",
) -> Accepted:
    """The submission a valid POST makes, or Open311Error (400) listing every problem."""
    category = category_of(form)
    read = _Reader(form)
    unknown = sorted(set(form.attributes) - KNOWN_ATTRIBUTES)
    if unknown:
        read.fail(
            bilingual(
                f"Thuộc tính không có trong định nghĩa dịch vụ: {', '.join(unknown)}",
                f"unknown attribute(s): {', '.join(unknown)}; see services/{category.value}",
            )
        )
    description = _description(read)
    latitude, longitude, address = _location(read)
    route = _route(read, client, org)
    rating, components = _scores(read)
    dossier_code = read.attribute(DOSSIER_CODE)
    email = read.field("email")
    phone = _PHONE_PUNCTUATION.sub("", read.field("phone"))
    account_id = read.field("account_id")
    if len(account_id) > MAX_KEY_CHARS:
        read.fail(bilingual("account_id quá dài", f"account_id is over {MAX_KEY_CHARS} chars"))
    submission_id = _submission_id(read, client, idempotency_key)
    if read.problems or route is None:
        raise bad_request(*read.problems)
    try:
        submission = IntakeSubmission(
            submission_id=submission_id,
            channel=Channel.OPEN311,
            unit_id=route.unit.id,
            office_id=route.office.id,
            counter_id=route.counter.id,
            submitted_at=now,
            rating=rating,
            description=description,
            category=category,
            locale=locale,
            contact_email=email,
            contact_phone=phone,
            wants_updates=bool(email or phone),
            components=components,
            dossier_code=dossier_code,
            reported_by=client.name,
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
    except IntakeError as exc:
        raise bad_request(_intake_problem(exc)) from None
    return Accepted(submission, route, account_id or None)


def _description(read: _Reader) -> str:
    text = clean_text(read.field("description")).strip()
    if not text:
        read.fail(
            bilingual(
                "Thiếu description: nội dung phản ánh là bắt buộc",
                "description is required: a service request here is a complaint",
            )
        )
    elif len(text) > MAX_DESCRIPTION_CHARS:
        read.fail(
            bilingual(
                f"description dài {len(text)} ký tự; tối đa {MAX_DESCRIPTION_CHARS}",
                f"description has {len(text)} characters; at most {MAX_DESCRIPTION_CHARS}",
            )
        )
    return text


def _location(read: _Reader) -> tuple[float | None, float | None, str]:
    lat_text, long_text = read.field("lat"), read.field("long")
    address = clean_text(read.field("address_string")).strip()
    address_id = read.field("address_id")
    if not address and address_id:
        address = f"address_id {address_id}"
    if len(address) > MAX_ADDRESS_CHARS:
        read.fail(bilingual("Địa chỉ quá dài", f"address is over {MAX_ADDRESS_CHARS} chars"))
    if not (lat_text or long_text):
        if not address:
            read.fail(
                bilingual(
                    "Thiếu vị trí: gửi lat và long, address_string hoặc address_id",
                    "a location is required: lat & long, address_string or address_id",
                )
            )
        return None, None, address
    latitude, longitude = _coordinate(lat_text), _coordinate(long_text)
    if latitude is None or longitude is None:
        read.fail(
            bilingual(
                "lat và long phải cùng được gửi, là số thập phân (WGS84)",
                "lat and long go together, as decimal degrees (WGS84)",
            )
        )
        return None, None, address
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        read.fail(bilingual("lat, long ngoài phạm vi", "lat or long out of range"))
        return None, None, address
    return latitude, longitude, address


def _coordinate(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _route(read: _Reader, client: ApiClient, org: Organisation) -> Route | None:
    """The unit (and counter) the request is for, inside the client's subtree."""
    unit_id, counter_id = read.attribute(UNIT), read.attribute(COUNTER)
    open_routes = list(routes(org))
    scope = set(org.subtree(client.unit_id))
    chosen: Route | None = None
    if counter_id:
        chosen = next((r for r in open_routes if r.counter.id == counter_id), None)
        if chosen is None:
            read.fail(bilingual(f"Không có quầy {counter_id}", f"unknown counter {counter_id}"))
            return None
        if unit_id and unit_id != chosen.unit.id:
            read.fail(
                bilingual(
                    f"Quầy {counter_id} không thuộc đơn vị {unit_id}",
                    f"counter {counter_id} is not a counter of unit {unit_id}",
                )
            )
            return None
    elif unit_id:
        chosen = next((r for r in open_routes if r.unit.id == unit_id), None)
        if chosen is None:
            read.fail(bilingual(f"Không có đơn vị {unit_id}", f"unknown unit {unit_id}"))
            return None
    else:
        first_of_unit: dict[str, Route] = {}
        for r in open_routes:
            if r.unit.id in scope:
                first_of_unit.setdefault(r.unit.id, r)
        if len(first_of_unit) != 1:
            read.fail(
                bilingual(
                    "Thiếu attribute[unit]: chọn đơn vị trong định nghĩa dịch vụ",
                    "attribute[unit] is required: pick a unit from the service definition",
                )
            )
            return None
        chosen = next(iter(first_of_unit.values()))  # the client's scope has one unit
    if chosen.unit.id not in scope:
        read.fail(
            bilingual(
                f"Ứng dụng không được gửi phản ánh cho đơn vị {chosen.unit.id}",
                f"unit {chosen.unit.id} is outside the area this api_key may report for",
            )
        )
        return None
    return chosen


def _scores(read: _Reader) -> tuple[int | None, dict[str, int]]:
    def score(code: str) -> int | None:
        text = read.attribute(code)
        if text and text not in SCORES:
            read.fail(
                bilingual(f"attribute[{code}] phải từ 1 đến 5", f"attribute[{code}] must be 1 to 5")
            )
        return SCORES.get(text)

    rating = score(RATING)
    components = {c.value: s for code, c in SIPAS_CODES.items() if (s := score(code)) is not None}
    if components and rating is None:
        read.fail(
            bilingual(
                "Điểm SIPAS cần kèm attribute[rating] (mức hài lòng chung)",
                "SIPAS scores need attribute[rating], the overall rating",
            )
        )
    return rating, components


def _submission_id(read: _Reader, client: ApiClient, header_key: str) -> UUID:
    """From the client's idempotency key (a retried POST is one request), else random."""
    attribute_key = read.attribute(CLIENT_REQUEST_ID)
    header_key = header_key.strip()
    if attribute_key and header_key and attribute_key != header_key:
        read.fail(
            bilingual(
                "Idempotency-Key và attribute[client_request_id] khác nhau",
                "Idempotency-Key and attribute[client_request_id] differ",
            )
        )
    key = header_key or attribute_key
    if len(key) > MAX_KEY_CHARS:
        read.fail(
            bilingual("Khóa chống gửi trùng quá dài", f"idempotency key is over {MAX_KEY_CHARS}")
        )
    return uuid5(NAMESPACE, f"open311:{client.name}:{key}") if key else uuid4()


_INTAKE_PROBLEMS = {
    "email_invalid": ("email không hợp lệ", "email is not a valid e-mail address"),
    "phone_invalid": (
        "phone không phải số điện thoại Việt Nam (0… hoặc +84…)",
        "phone is not a Vietnamese phone number (0… or +84…)",
    ),
    "dossier_invalid": (
        "attribute[dossier_code] không phải mã hồ sơ",
        "attribute[dossier_code] is not a dossier code",
    ),
}


def _intake_problem(exc: IntakeError) -> str:
    vi, en = _INTAKE_PROBLEMS.get(exc.code, ("Dữ liệu không hợp lệ", str(exc)))
    return bilingual(vi, en)
