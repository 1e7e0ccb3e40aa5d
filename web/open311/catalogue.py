"""Services and service definitions: our complaint categories and the fields we route and
rate by, as GeoReport v2 describes them (docs/open311.md)."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from feedback_core.intake import ComplaintCategory, SipasComponent
from feedback_core.organisation import Counter, Office, Organisation, Unit
from web.i18n import load_translations
from web.labels import CATEGORY_LABELS, RATING_LABELS, STATUS_LABELS, label
from web.open311.formats import Data

GROUP = "Bộ phận Một cửa (one-stop office)"
KEYWORDS: dict[str, str] = {
    ComplaintCategory.HARASSMENT: "sách nhiễu, phiền hà, đòi tiền, giấy tờ, harassment, bribe",
    ComplaintCategory.DELAY: "chậm trễ, quá hạn, trễ hẹn, delay, overdue",
    ComplaintCategory.SECOND_TRIP: "hẹn lại, đi lại nhiều lần, second trip, come back",
    ComplaintCategory.ATTITUDE: "thái độ, cán bộ, attitude, staff, rude",
    ComplaintCategory.WRONG_PROCEDURE: "sai quy trình, thủ tục, wrong procedure, process",
    ComplaintCategory.FACILITIES: "cơ sở vật chất, chỗ ngồi, facilities, building",
    ComplaintCategory.OTHER: "khác, other",
}

# Attribute codes (``attribute[code]`` in POST requests).
UNIT = "unit"
COUNTER = "counter"
DOSSIER_CODE = "dossier_code"
RATING = "rating"
SIPAS_PREFIX = "sipas_"
SIPAS_LABELS: dict[SipasComponent, tuple[str, str]] = {
    SipasComponent.ACCESS: ("Tiếp cận dịch vụ", "access to the service"),
    SipasComponent.PROCEDURES: ("Thủ tục hành chính", "administrative procedures"),
    SipasComponent.OFFICERS: ("Công chức giải quyết", "the officers"),
    SipasComponent.RESULTS: ("Kết quả dịch vụ", "results of the service"),
    SipasComponent.FEEDBACK: ("Tiếp nhận, xử lý phản ánh", "handling of feedback"),
}
CLIENT_REQUEST_ID = "client_request_id"  # documented in docs/open311.md, not a form field


@cache
def english() -> gettext.NullTranslations:
    return load_translations().get("en", gettext.NullTranslations())


def in_english(msgid: str) -> str:
    return english().gettext(msgid)


def category_names(category: str) -> tuple[str, str]:
    """(Vietnamese, English) names of a category; the code itself for an unknown one."""
    msgid = label(CATEGORY_LABELS, category)
    return msgid, in_english(msgid)


def legal_state_names(status: str) -> tuple[str, str]:
    msgid = label(STATUS_LABELS, status)
    return msgid, in_english(msgid)


def service_list() -> list[Data]:
    services: list[Data] = []
    for category in ComplaintCategory:
        vi, en = category_names(category)
        services.append(
            {
                "service_code": category.value,
                "service_name": vi,
                "description": f"Phản ánh: {vi} / Complaint: {en}",
                "metadata": True,
                "type": "realtime",
                "keywords": KEYWORDS.get(category, ""),
                "group": GROUP,
            }
        )
    return services


@dataclass(frozen=True)
class Route:
    """Where a submission goes: a unit, its office and a counter."""

    unit: Unit
    office: Office
    counter: Counter


def routes(org: Organisation) -> Iterator[Route]:
    """Every open counter, with its open office and unit, in the organisation's order."""
    for unit, office, counter in org.iter_counters():
        if not (unit.closed or office.closed or counter.closed):
            yield Route(unit, office, counter)


def routable_units(org: Organisation) -> list[Unit]:
    """Open units with at least one open counter: those a request can be routed to."""
    seen: dict[str, Unit] = {}
    for route in routes(org):
        seen.setdefault(route.unit.id, route.unit)
    return list(seen.values())


def _score_values() -> list[Data]:
    return [{"key": score, "name": f"{score} – {name}"} for score, name in RATING_LABELS.items()]


def service_definition(service_code: str, org: Organisation) -> Data:
    counters = list(routes(org))
    attributes: list[Data] = [
        {
            "variable": True,
            "code": UNIT,
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "Đơn vị (UBND phường, xã, quận) nơi bạn được phục vụ / "
            "the unit (ward, commune or district People's Committee) that served you",
            "values": [{"key": u.id, "name": u.name_vi} for u in routable_units(org)],
        },
        {
            "variable": True,
            "code": COUNTER,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 2,
            "description": "Quầy tại Bộ phận Một cửa (nếu biết) / "
            "the counter at the one-stop office, if known",
            "values": [
                {"key": r.counter.id, "name": f"{r.unit.name_vi} – {r.counter.name_vi}"}
                for r in counters
            ],
        },
        {
            "variable": True,
            "code": DOSSIER_CODE,
            "datatype": "string",
            "required": False,
            "datatype_description": "Mã hồ sơ trên giấy biên nhận, ví dụ "
            "000.00.23.H26-240115-0001 / the dossier code printed on the receipt",
            "order": 3,
            "description": "Mã hồ sơ (nếu có) / dossier code, if any",
        },
        {
            "variable": True,
            "code": RATING,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 4,
            "description": "Mức độ hài lòng chung, 1 (rất không hài lòng) đến 5 (rất hài lòng) / "
            "overall satisfaction, 1 (very dissatisfied) to 5 (very satisfied)",
            "values": _score_values(),
        },
    ]
    for order, (component, (vi, en)) in enumerate(SIPAS_LABELS.items(), start=5):
        attributes.append(
            {
                "variable": True,
                "code": f"{SIPAS_PREFIX}{component.value}",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": order,
                "description": f"SIPAS – {vi}, 1 đến 5 (cần có mức hài lòng chung) / "
                f"SIPAS – {en}, 1 to 5 (needs the overall rating)",
                "values": _score_values(),
            }
        )
    return {"service_code": service_code, "attributes": attributes}
