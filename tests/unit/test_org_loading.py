"""Loading the organisation data file into the in-memory store: complete and idempotent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from feedback_core.org import InvalidChange, NotFound, OrganisationApplication
from feedback_core.org.directory import directory_as_of, head_of
from feedback_core.org.loading import load_organisation_data, load_organisation_file
from feedback_core.organisation import Organisation, organisation_from_dict
from feedback_core.settings import DEMO_ORGANISATION
from tests.unit.test_org_units import popo_app

DEMO_DATE = date(2024, 1, 1)  # the demo file's effective_on


def demo_data() -> dict[str, Any]:
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def without_heads(org: Organisation) -> Organisation:
    return replace(org, units={k: replace(u, head=None) for k, u in org.units.items()})


def test_the_demo_file_reads_back_as_the_same_organisation() -> None:
    app = popo_app()
    report = load_organisation_file(app, DEMO_ORGANISATION)
    from_file = organisation_from_dict(demo_data())
    for on in (DEMO_DATE, date(2026, 6, 1)):
        loaded = directory_as_of(app, on)
        assert without_heads(loaded) == from_file
        assert loaded.units["tay-ho"].head == "lanhdao.tayho"
    assert not directory_as_of(app, date(2023, 12, 31)).units
    assert "head of tay-ho: lanhdao.tayho" in report.created
    roles = {a.role for a in from_file.staff.values()}
    assert roles == {"operator", "handler", "head", "inspector", "admin"}


def test_loading_twice_records_nothing_new() -> None:
    app = popo_app()
    first = load_organisation_file(app, DEMO_ORGANISATION)
    position = app.recorder.max_notification_id()
    second = load_organisation_file(app, DEMO_ORGANISATION)
    assert app.recorder.max_notification_id() == position
    assert second.created == []
    assert len(second.existing) == len(first.created) == 4 + 4 + 11 + 7 + 1


def test_a_reload_keeps_later_changes() -> None:
    app = popo_app()
    load_organisation_file(app, DEMO_ORGANISATION)
    renamed_on, appointed_on = date(2025, 1, 1), date(2025, 2, 1)
    app.rename_unit("nhat-tan", name_vi="Tên mới", name_en="New name", effective_on=renamed_on,
                    actor="quantri.tayho")
    app.appoint_head("tay-ho", username="thanhtra.tayho", effective_on=appointed_on,
                     actor="quantri.tayho")
    load_organisation_file(app, DEMO_ORGANISATION)
    assert directory_as_of(app, renamed_on).units["nhat-tan"].name_vi == "Tên mới"
    assert head_of(app, "tay-ho", appointed_on) == "thanhtra.tayho"


def test_effective_date_from_the_caller_and_new_items_are_added() -> None:
    app = popo_app()
    on = date(2025, 7, 1)
    data = demo_data()
    load_organisation_data(app, data, effective_on=on)
    assert "tay-ho" not in directory_as_of(app, date(2025, 6, 30)).units
    data["units"].insert(0, {"id": "yen-phu", "name_vi": "UBND phường Yên Phụ",
                             "name_en": "Yên Phụ Ward", "level": "ward", "parent_id": "tay-ho"})
    report = load_organisation_data(app, data, effective_on=date(2025, 8, 1))
    assert report.created == ["unit yen-phu"]
    assert directory_as_of(app, date(2025, 8, 1)).units["yen-phu"].parent_id == "tay-ho"


def test_parents_come_first_whatever_the_file_order() -> None:
    app = popo_app()
    data = {"units": [
        {"id": "w", "name_vi": "W", "name_en": "W", "level": "ward", "parent_id": "d"},
        {"id": "d", "name_vi": "D", "name_en": "D", "level": "district", "parent_id": "c"},
        {"id": "c", "name_vi": "C", "name_en": "C", "level": "city", "parent_id": None},
    ]}
    load_organisation_data(app, data, effective_on=DEMO_DATE)
    assert directory_as_of(app, DEMO_DATE).subtree("c") == ["c", "d", "w"]


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ({"offices": [{"id": "x-mc", "unit_id": "nowhere", "name_vi": "X", "name_en": "X"}]},
         NotFound),
        ({"staff": [{"username": "x", "display_name": "X", "role": "boss", "unit_id": "tay-ho",
                     "password_hash": "$argon2id$x"}]}, InvalidChange),
    ],
)
def test_a_broken_file_loads_nothing(broken: dict[str, Any], error: type[Exception]) -> None:
    app: OrganisationApplication = popo_app()
    with pytest.raises(error):
        load_organisation_data(app, {**demo_data(), **broken})
    assert app.recorder.max_notification_id() in (None, 0)
