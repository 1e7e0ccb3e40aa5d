"""In headless Chromium on a 360 px phone: a citizen rates and complains from the demo QR
page, reads the tracking code, opens the tracking page; a handler logs in and sees the case."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.platform import LivePlatform

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
COMPLAINT = "Tôi phải đi lại ba lần vì mỗi lần được yêu cầu bổ sung một giấy tờ khác nhau."


def small_png() -> bytes:
    """A 4 x 4 red PNG, made here (the citizen's "photo")."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_citizen_complains_and_the_handler_sees_the_case(
    platform: LivePlatform, phone: Page
) -> None:
    phone.goto(platform.base_url + "/")
    phone.locator("a[href^='/q/nhat-tan-q1.']").first.click()
    expect(phone.locator("h1")).to_contain_text("Quầy 1")
    no_horizontal_scroll = phone.evaluate("document.documentElement.scrollWidth <= 360")
    assert no_horizontal_scroll, "the QR page must fit a 360 px screen"

    phone.get_by_text("Không hài lòng", exact=True).click()
    phone.select_option("#category", "second_trip")
    phone.fill("#description", COMPLAINT)
    photo = small_png()
    phone.set_input_files("#photo", {"name": "anh.png", "mimeType": "image/png", "buffer": photo})
    shot(phone, "qr-page-filled")
    phone.get_by_role("button", name="Gửi đánh giá").click()

    code_text = phone.locator("p.code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code_text)
    expect(phone.locator("[role=status]")).to_contain_text("Đã gửi thành công")
    platform.wait_for_submission(code_text)

    phone.goto(platform.base_url + "/")
    phone.fill("#code", code_text.lower().replace("-", " "))
    phone.get_by_role("button", name="Tra cứu").click()
    expect(phone.locator("p.code")).to_have_text(code_text)
    expect(phone.locator("dl.details")).to_contain_text("Đã tiếp nhận")
    expect(phone.locator("dl.details")).to_contain_text("Hẹn lại, phải đi lại nhiều lần")
    shot(phone, "tracking-page")

    phone.goto(platform.base_url + "/login")
    phone.fill("#username", "canbo.nhattan")
    phone.fill("#password", "demo-2026")
    phone.locator("form button[type=submit]").click()
    phone.wait_for_url(re.compile(r".*/staff/queue"))
    row = phone.locator("tr", has_text=code_text)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(COMPLAINT[:40])
    shot(phone, "handler-queue")

    row.locator("a").first.click()
    image = phone.locator("figure.case-photo img")
    expect(image).to_be_visible()
    loaded = image.evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 4, "the handler's case page shows the citizen's photo"
    served = phone.request.get(platform.base_url + (image.get_attribute("src") or ""))
    assert served.status == 200 and served.body() == photo
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    shot(phone, "handler-case-photo")


def test_english_switch_and_clear_error_for_a_forged_code(
    platform: LivePlatform, phone: Page
) -> None:
    phone.goto(platform.base_url + "/q/nhat-tan-q1.aaaaaaaaaa")
    expect(phone.locator("body")).to_contain_text("Mã QR không hợp lệ")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("body")).to_contain_text("QR code")
