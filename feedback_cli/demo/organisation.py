"""The demo district at full size: Tây Hồ's eight wards, each with a one-stop office, three
counters and two handlers, and two handlers at the district's own office.

Created through the organisation loader (the same path as ``feedback org load``), so it is
idempotent: what exists is left as it is, and a second run records nothing.
"""

from __future__ import annotations

import json
from typing import Any

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.loading import LoadReport, load_organisation_data
from feedback_core.settings import DEMO_ORGANISATION

DISTRICT = "tay-ho"
# (unit id, Vietnamese name) of the wards that the demo organisation file does not hold.
NEW_WARDS = (
    ("buoi", "Bưởi", "Buoi"),
    ("thuy-khue", "Thụy Khuê", "Thuy Khue"),
    ("tu-lien", "Tứ Liên", "Tu Lien"),
    ("xuan-la", "Xuân La", "Xuan La"),
    ("yen-phu", "Yên Phụ", "Yen Phu"),
)
COUNTERS = (
    ("q1", "Quầy 1 – Tư pháp – Hộ tịch", "Counter 1 – Justice and civil status"),
    ("q2", "Quầy 2 – Đất đai – Xây dựng", "Counter 2 – Land and construction"),
    (
        "q3",
        "Quầy 3 – Lao động – Thương binh và Xã hội",
        "Counter 3 – Labour, invalids and social affairs",
    ),
)
# Second handlers (and the district's first), in the order their names are used.
OFFICER_NAMES = (
    "Bùi Thị Mai",
    "Đặng Văn Long",
    "Ngô Thị Hạnh",
    "Dương Minh Khoa",
    "Lý Thị Thu",
    "Trịnh Văn Sơn",
    "Phan Thị Ngọc",
    "Hồ Quang Vinh",
    "Mai Thị Yến",
    "Tạ Văn Đức",
    "Cao Thị Liên",
    "Lưu Văn Hải",
    "Kiều Thị Oanh",
    "Tôn Thất Bảo",
    "Quách Thị Nga",
)


def _login(unit_id: str) -> str:
    return "canbo." + unit_id.replace("-", "")


def district_data() -> dict[str, Any]:
    """The organisation-file data of the additions (units, offices, counters, staff)."""
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        base = json.load(f)
    password_hash = next(s for s in base["staff"] if s["role"] == "handler")["password_hash"]
    units: list[dict[str, Any]] = []
    offices: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []
    for unit_id, name_vi, name_en in NEW_WARDS:
        units.append(
            {
                "id": unit_id,
                "level": "ward",
                "parent_id": DISTRICT,
                "name_vi": f"UBND phường {name_vi}",
                "name_en": f"{name_en} Ward People's Committee",
            }
        )
        office = f"{unit_id}-mc"
        offices.append(
            {
                "id": office,
                "unit_id": unit_id,
                "name_vi": f"Bộ phận Một cửa phường {name_vi}",
                "name_en": f"One-stop office, {name_en} Ward",
            }
        )
        counters.extend(
            {"id": f"{unit_id}-{code}", "office_id": office, "name_vi": vi, "name_en": en}
            for code, vi, en in COUNTERS
        )
    names = iter(OFFICER_NAMES)
    staff: list[dict[str, Any]] = []
    existing_wards = [u["id"] for u in base["units"] if u["parent_id"] == DISTRICT]
    for unit_id in [DISTRICT, *(w for w, *_ in NEW_WARDS)]:
        staff.append(_handler(_login(unit_id), next(names), unit_id, password_hash))
    for unit_id in [DISTRICT, *existing_wards, *(w for w, *_ in NEW_WARDS)]:
        staff.append(_handler(_login(unit_id) + "2", next(names), unit_id, password_hash))
    return {"units": units, "offices": offices, "counters": counters, "staff": staff}


def added_logins() -> set[str]:
    """The usernames the demo district adds to the organisation file's."""
    return {member["username"] for member in district_data()["staff"]}


def _handler(username: str, name: str, unit_id: str, password_hash: str) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": name,
        "role": "handler",
        "unit_id": unit_id,
        "password_hash": password_hash,
    }


def ensure_district(app: OrganisationApplication) -> LoadReport:
    """Create the wards, offices, counters and officers the store lacks (idempotent),
    effective on the demo organisation's own date."""
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        effective_on = json.load(f)["effective_on"]
    return load_organisation_data(app, {**district_data(), "effective_on": effective_on})
