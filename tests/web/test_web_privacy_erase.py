"""``/admin/privacy/erase`` on the real applications in memory: a confirmation step that
erases nothing, then the erasure recorded, the contact unreadable and the photo gone; bad
input refused in words a person understands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault
from feedback_core.settings import Settings
from tests.web.conftest import POPO, build_org_app, org_backed_services
from tests.web.web_doubles import StoreQueries, hidden, log_in, open_case
from web.app import create_app
from web.media import MemoryPhotoStore, checked_photo
from web.privacy_admin import erasure_log_for

PAGE = "/admin/privacy/erase"
PHONE = "0912345678"
BASIS = "NĐ 13/2023/NĐ-CP Điều 16"


class World:
    def __init__(self) -> None:
        self.vault = PersonalDataVault(InMemoryKeyStore(), os.urandom(32))
        self.store = CasesApplication(env=POPO, personal_data=self.vault)
        self.photos = MemoryPhotoStore()
        services = org_backed_services(
            Settings(secret_key="erase-secret"), build_org_app(), CalendarApplication(env=POPO),
            self.store, StoreQueries(self.store), pass_cases=lambda on: {},
        )  # fmt: skip
        services.photos = self.photos
        self.client = TestClient(create_app(services), follow_redirects=False)


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    with w.client:
        yield w


def received(world: World, case_id: Any) -> Any:
    return next(iter(world.store.events.get(case_id, lte=1)))


def form(world: World, **fields: str) -> dict[str, str]:
    token = hidden(world.client.get(PAGE).text, "csrf_token")
    return {"csrf_token": token, "reason": "Đơn yêu cầu số 12/2026", "legal_basis": BASIS} | fields


def test_confirm_then_erase_records_it_and_deletes_photo_and_contact(world: World) -> None:
    photo = checked_photo(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    world.photos.put(photo)
    case_id, code = open_case(world.store, contact_phone=PHONE, wants_updates=True,
                              photo_id=photo.sha256)  # fmt: skip
    assert log_in(world.client, "quantri.nhattan").status_code == 303
    page = world.client.get(PAGE)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'id="erase-request"' in page.text

    confirm = world.client.post(PAGE, data=form(world, tracking_code=code.lower()))
    assert confirm.status_code == 200
    assert 'id="confirm-erase"' in confirm.text and code in confirm.text
    assert world.vault.reveal(received(world, case_id).contact_phone).text == PHONE  # not yet
    assert list(erasure_log_for(world.store).erasures()) == []

    done = world.client.post(PAGE, data=form(world, tracking_code=code, confirm="yes"))
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert "Đã xoá dữ liệu cá nhân của phản ánh" in world.client.get(PAGE).text
    assert world.vault.reveal(received(world, case_id).contact_phone).erased
    assert photo.sha256 not in world.photos.photos
    [record] = list(erasure_log_for(world.store).erasures())
    assert (record.tracking_code, record.actor, record.actor_role, record.legal_basis) == (
        code,
        "quantri.nhattan",
        "admin",
        BASIS,
    )

    again = world.client.post(PAGE, data=form(world, tracking_code=code, confirm="yes"))
    assert again.status_code == 303
    assert "đã được xoá trước đó" in world.client.get(PAGE).text
    assert len(list(erasure_log_for(world.store).erasures())) == 1


def test_bad_requests_are_refused_in_words(world: World) -> None:
    _, other_ward = open_case(world.store, unit="quang-an", contact_phone=PHONE)
    log_in(world.client, "quantri.nhattan")
    missing = world.client.post(PAGE, data=form(world, tracking_code="", legal_basis=""))
    assert missing.status_code == 422 and "Vui lòng điền đầy đủ" in missing.text
    unknown = world.client.post(PAGE, data=form(world, tracking_code="ZZZZZ-ZZZZZ"))
    assert unknown.status_code == 404 and "Không tìm thấy phản ánh" in unknown.text
    outside = world.client.post(PAGE, data=form(world, tracking_code=other_ward, confirm="yes"))
    assert outside.status_code == 403 and "không thuộc phạm vi" in outside.text
    forged = world.client.post(PAGE, data=form(world, tracking_code=other_ward) | {
        "csrf_token": "forged"})  # fmt: skip
    assert forged.status_code == 403
    assert list(erasure_log_for(world.store).erasures()) == []
