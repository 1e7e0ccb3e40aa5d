"""Officers' photos on the counter kiosks: uploaded by an administrator (the citizens' photo
limits, refused with the form kept), recorded as organisation events, shown on the kiosk
only while the unit's setting is on, and served by a route that serves staff photos only.

The organisation and the devices are the real applications on the in-memory store; the
photos are in the in-memory photo store (web/media.py's own double)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from feedback_core.devices import DevicesApplication
from feedback_core.org.application import OrganisationApplication
from tests.web.conftest import POPO
from tests.web.test_web_photo import JPEG, png
from tests.web.web_doubles import NOW, hidden, log_in
from web.app import create_app
from web.media import MAX_PHOTO_BYTES, MemoryPhotoStore, checked_photo
from web.services import WebServices

OFFICER = "canbo.nhattan"
OFFICER_NAME = "Nguyễn Thị Lan"


@pytest.fixture
def photos() -> MemoryPhotoStore:
    return MemoryPhotoStore()


@pytest.fixture
def kiosk_token(org_services: WebServices, photos: MemoryPhotoStore) -> str:
    org_services.photos = photos
    org_services.devices = DevicesApplication(env=POPO)
    return org_services.devices.enrol("nhat-tan-q1", NOW, "lanhdao.nhattan", "Máy 1", OFFICER)


@pytest.fixture
def admin(org_services: WebServices, kiosk_token: str) -> Iterator[TestClient]:
    with TestClient(create_app(org_services), follow_redirects=False) as client:
        assert log_in(client, "quantri.nhattan").status_code == 303
        yield client


def csrf_of(client: TestClient) -> str:
    return hidden(client.get(f"/admin/org/staff/{OFFICER}").text, "csrf_token")


def upload(client: TestClient, data: bytes, name: str = "anh.png", reason: str = "Ảnh thẻ"):
    return client.post(f"/admin/org/staff/{OFFICER}/photo",
                       data={"csrf_token": csrf_of(client), "reason": reason},
                       files={"photo": (name, data, "image/png")})


def set_kiosk_photos(client: TestClient, show: bool) -> None:
    answer = client.post("/admin/org/units/nhat-tan/kiosk-photos",
                         data={"csrf_token": csrf_of(client), "show": "1" if show else "0"})
    assert answer.status_code == 303, answer.text[-400:]


def officer_photo(client: TestClient, token: str) -> re.Match[str] | None:
    page = client.get(f"/kiosk/{token}")
    assert page.status_code == 200
    return re.search(r'<img class="officer-photo"[^>]*>', page.text)


def test_too_large_is_refused_in_vietnamese_with_the_form_kept(
    admin: TestClient, org_app: OrganisationApplication, photos: MemoryPhotoStore,
) -> None:
    answer = upload(admin, JPEG + b"\x00" * MAX_PHOTO_BYTES, reason="Quyết định 12/QĐ")
    assert answer.status_code == 413
    assert "Ảnh quá lớn: tối đa 5 MB" in answer.text
    assert "Quyết định 12/QĐ</textarea>" in answer.text  # what was typed is kept
    assert 'id="photo-form"' in answer.text
    assert org_app.staff_member(OFFICER).photo is None and not photos.photos


def test_wrong_type_is_refused_in_vietnamese_with_the_form_kept(
    admin: TestClient, org_app: OrganisationApplication, photos: MemoryPhotoStore,
) -> None:
    answer = upload(admin, b"GIF89a not accepted", name="anh.gif", reason="Ảnh mới")
    assert answer.status_code == 415
    assert "không phải ảnh JPEG, PNG hoặc WebP" in answer.text
    assert "Ảnh mới</textarea>" in answer.text
    assert org_app.staff_member(OFFICER).photo is None and not photos.photos


def test_no_file_chosen_is_a_422(admin: TestClient) -> None:
    answer = upload(admin, b"")
    assert answer.status_code == 422
    assert "Vui lòng chọn một ảnh." in answer.text


def test_the_kiosk_shows_the_photo_only_while_the_unit_allows_it(
    admin: TestClient, kiosk_token: str, org_app: OrganisationApplication,
    photos: MemoryPhotoStore,
) -> None:
    photo = png(4, 4)
    assert upload(admin, photo).status_code == 303
    sha256 = checked_photo(photo).sha256
    assert org_app.staff_member(OFFICER).photo == sha256 and sha256 in photos.photos
    url = f"/staff-photos/{OFFICER}/{sha256}"

    assert officer_photo(admin, kiosk_token) is None  # off by default: the name only
    assert admin.get(url).status_code == 404

    set_kiosk_photos(admin, True)
    img = officer_photo(admin, kiosk_token)
    assert img is not None
    assert f'src="{url}"' in img.group(0) and f'alt="{OFFICER_NAME}"' in img.group(0)
    assert 'width="96"' in img.group(0) and 'height="96"' in img.group(0)
    served = TestClient(admin.app).get(url)  # the kiosk is not signed in
    assert served.status_code == 200 and served.content == photo
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"].startswith("public, max-age=")

    set_kiosk_photos(admin, False)
    assert officer_photo(admin, kiosk_token) is None
    assert admin.get(url).status_code == 404
    assert OFFICER_NAME in admin.get(f"/kiosk/{kiosk_token}").text


def test_a_removed_photo_is_no_longer_shown(admin: TestClient, kiosk_token: str) -> None:
    assert upload(admin, png(5, 5)).status_code == 303
    set_kiosk_photos(admin, True)
    assert officer_photo(admin, kiosk_token) is not None
    answer = admin.post(f"/admin/org/staff/{OFFICER}/photo/remove",
                        data={"csrf_token": csrf_of(admin)})
    assert answer.status_code == 303
    assert officer_photo(admin, kiosk_token) is None
    history = admin.get(f"/admin/org/staff/{OFFICER}").text
    assert "Cập nhật ảnh" in history and "Gỡ ảnh" in history


def test_the_photo_route_refuses_citizens_photos(
    admin: TestClient, photos: MemoryPhotoStore,
) -> None:
    assert upload(admin, png(6, 6)).status_code == 303
    set_kiosk_photos(admin, True)
    citizen = checked_photo(JPEG + b"citizen")
    photos.put(citizen)  # a citizen's photo, in the same store
    kiosk = TestClient(admin.app)
    for username in (OFFICER, "canbo.quangan", "nobody"):
        assert kiosk.get(f"/staff-photos/{username}/{citizen.sha256}").status_code == 404
    # ... and another officer's photo only under that officer's name, in a unit that shows it.
    staff_sha = checked_photo(png(6, 6)).sha256
    assert kiosk.get(f"/staff-photos/canbo.quangan/{staff_sha}").status_code == 404


def test_the_unit_page_offers_the_setting(admin: TestClient) -> None:
    page = admin.get("/admin/org/units/nhat-tan")
    assert "Hiển thị ảnh cán bộ trên thiết bị đánh giá" in page.text
    assert re.search(r'id="kiosk-photos-state">Tắt<', page.text)
    set_kiosk_photos(admin, True)
    page = admin.get("/admin/org/units/nhat-tan")
    assert re.search(r'id="kiosk-photos-state">Bật<', page.text)
    assert "Thay đổi hiển thị ảnh cán bộ trên thiết bị đánh giá" in page.text  # history


def test_a_bad_csrf_token_records_nothing(
    admin: TestClient, org_app: OrganisationApplication,
) -> None:
    answer = admin.post(f"/admin/org/staff/{OFFICER}/photo", data={"csrf_token": "forged"},
                        files={"photo": ("a.png", png(), "image/png")})
    assert answer.status_code == 403
    assert org_app.staff_member(OFFICER).photo is None
