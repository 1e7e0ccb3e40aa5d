"""In headless Chromium on the whole platform: the district's administrator uploads an
officer's photo and turns on "show officers' photos" for the ward; the counter's kiosk shows
the image (it loads, served as a PNG with the kiosk's cache headers). Turned off again, the
kiosk shows the name only and the photo's URL answers 404, kept out of caches."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.test_kiosk import enrol_counter_one
from tests.support.platform import LivePlatform
from tests.web.test_web_photo import png
from web.staff_photos import CACHE_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ADMIN, PASSWORD = "quantri.tayho", "demo-2026"
OFFICER, UNIT = "canbo.nhattan", "nhat-tan"
PHOTO = png(48, 64)


def log_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", ADMIN)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/admin/org$"))


def toggle_kiosk_photos(page: Page, base_url: str, state: str) -> None:
    """Press the unit's "show officers' photos" button; ``state``: what it then says."""
    page.goto(f"{base_url}/admin/org/units/{UNIT}")
    page.locator("#kiosk-photos-form button[type=submit]").click()
    expect(page.locator("#kiosk-photos-state")).to_have_text(state)


def open_kiosk(tablet: Page, url: str) -> None:
    tablet.goto(url)
    expect(tablet.locator("#kiosk-officer")).to_have_text("Nguyễn Thị Lan")


def test_the_kiosk_shows_the_officer_photo_only_while_the_unit_allows_it(
    platform: LivePlatform, desk: Page, tablet: Page
) -> None:
    kiosk = f"{platform.base_url}/kiosk/{enrol_counter_one(platform, platform.services.clock())}"
    open_kiosk(tablet, kiosk)
    expect(tablet.locator("#kiosk-officer-photo")).to_have_count(0)  # no photo yet

    log_in(desk, platform.base_url)
    desk.goto(f"{platform.base_url}/admin/org/staff/{OFFICER}")
    desk.set_input_files("#photo", {"name": "anh-the.png", "mimeType": "image/png",
                                    "buffer": PHOTO})  # fmt: skip
    desk.fill("#photo-reason", "Ảnh thẻ mới theo Quyết định 15/QĐ-UBND")
    desk.locator("#photo-form button[type=submit]").click()
    expect(desk.locator("#notice")).to_have_text(f"Đã cập nhật ảnh của {OFFICER}.")
    open_kiosk(tablet, kiosk)
    expect(tablet.locator("#kiosk-officer-photo")).to_have_count(0)  # the unit's setting is off

    toggle_kiosk_photos(desk, platform.base_url, "Bật")
    with tablet.expect_response(lambda r: "/staff-photos/" in r.url) as served:
        open_kiosk(tablet, kiosk)
    photo: Response = served.value
    image = tablet.locator("#kiosk-officer-photo")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("alt", "Nguyễn Thị Lan")
    tablet.wait_for_function(
        "() => { const img = document.getElementById('kiosk-officer-photo');"
        " return img !== null && img.complete && img.naturalWidth > 0; }"
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 64]
    url = image.get_attribute("src") or ""
    assert photo.url.endswith(url) and url.startswith(f"/staff-photos/{OFFICER}/")
    assert photo.status == 200 and photo.body() == PHOTO
    assert photo.headers["content-type"] == "image/png"
    assert photo.headers["cache-control"] == f"public, max-age={CACHE_SECONDS}"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert photo.headers["etag"] == f'"{url.rsplit("/", 1)[1]}"'

    toggle_kiosk_photos(desk, platform.base_url, "Tắt")
    open_kiosk(tablet, kiosk)
    expect(tablet.locator("#kiosk-officer-photo")).to_have_count(0)
    gone = tablet.request.get(platform.base_url + url)
    assert gone.status == 404 and gone.body() == b""
    assert gone.headers["cache-control"] == "no-store"
