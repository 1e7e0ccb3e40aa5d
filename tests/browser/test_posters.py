"""In headless Chromium on the whole platform (real Kafka and PostgreSQL): the district's
administrator opens a counter's printable poster, a citizen opens the URL printed on it,
rates the service and lands on the tracking page; the administrator then revokes the code
and the old poster's URL says the code is no longer in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.platform import LivePlatform

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
ADMIN, PASSWORD = "quantri.tayho", "demo-2026"



def test_a_printed_posters_url_takes_a_citizen_to_the_form_and_tracking(
    platform: LivePlatform, desk: Page, phone: Page
) -> None:
    desk.goto(platform.base_url + "/login")
    desk.fill("#username", ADMIN)
    desk.fill("#password", PASSWORD)
    desk.locator("form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/admin/org$"))
    desk.get_by_role("link", name="Áp phích mã QR").first.click()
    expect(desk.locator("h1")).to_contain_text("Áp phích mã QR")
    SHOTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(SHOTS / "posters-of-a-unit.png"), full_page=True)
    desk.locator("#poster-nhat-tan-q1 a", has_text="A4").click()
    desk.wait_for_url(re.compile(r".*/staff/posters/nhat-tan-q1\.svg\?size=A4$"))
    expect(desk.locator("#qr")).to_have_count(1)
    printed = (desk.locator("#short-url").text_content() or "").strip()
    assert printed.startswith(platform.base_url + "/q/nhat-tan-q1.")

    phone.goto(printed)
    expect(phone.locator("h1")).to_contain_text("Quầy 1")
    phone.get_by_text("Rất hài lòng", exact=True).click()
    phone.get_by_role("button", name="Gửi đánh giá").click()
    code = phone.locator("p.code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    expect(phone.locator("[role=status]")).to_contain_text("Đã gửi thành công")
    platform.wait_for_submission(code)

    desk.goto(platform.base_url + "/admin/org")
    desk.locator("#qr-nhat-tan-q1 details", has_text="Thu hồi").locator("summary").click()
    desk.fill("#qr-revoke-nhat-tan-q1-reason", "Áp phích bị dán đè mã giả")
    desk.locator("#qr-revoke-nhat-tan-q1 button[type=submit]").click()
    expect(desk.locator("#notice")).to_contain_text("Đã thu hồi mã QR")

    phone.goto(printed)
    expect(phone.locator("#qr-gone")).to_contain_text("Mã QR này đã ngừng sử dụng")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("#qr-gone")).to_contain_text("no longer in use")
