"""In headless Chromium on the whole platform (real Kafka and PostgreSQL): the district's
hotline operator records a call with the keyboard and reads the tracking code to the caller;
the ward's handler finds the case in the queue under the hotline channel and sees the
caller's number, which the inspector sees masked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from feedback_core.identity import normalise_tracking_code
from tests.support.platform import LivePlatform

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "demo-2026"
COMPLAINT = "Tôi gọi đến bộ phận một cửa phường Nhật Tân ba lần, cán bộ hẹn lại mãi chưa trả hồ sơ."


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def desks(browser: Browser) -> Iterator[tuple[Page, Page, Page]]:
    """Three officers' desktops, in Vietnamese: operator, handler, inspector."""
    contexts = [
        browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        for _ in range(3)
    ]
    pages = [context.new_page() for context in contexts]
    yield pages[0], pages[1], pages[2]
    for context in contexts:
        context.close()


def sign_in(page: Page, platform: LivePlatform, username: str) -> None:
    page.goto(platform.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/queue$"))


def test_an_operator_records_a_call_and_the_ward_handles_it(
    platform: LivePlatform, desks: tuple[Page, Page, Page]
) -> None:
    operator, handler, inspector = desks
    sign_in(operator, platform, "tongdai.tayho")
    operator.get_by_role("link", name="Ghi nhận cuộc gọi 1022").click()
    expect(operator.locator("h1")).to_have_text("Ghi nhận cuộc gọi đường dây nóng 1022")

    # The keyboard: the number field has the focus, the call time is already now.
    expect(operator.locator("#caller_number")).to_be_focused()
    operator.keyboard.type("0912 345 678")
    operator.keyboard.press("Tab")
    expect(operator.locator("#call_time")).to_be_focused()
    expect(operator.locator("#call_time")).to_have_value(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"))
    operator.select_option("#unit_id", "nhat-tan")
    operator.select_option("#counter_id", "nhat-tan-q1")
    operator.select_option("#category", "second_trip")
    operator.locator("#description").focus()
    operator.keyboard.type(COMPLAINT)
    operator.locator("#callback").focus()
    operator.keyboard.press("Space")
    expect(operator.locator("#callback")).to_be_checked()
    shot(operator, "hotline-call-typed")
    operator.locator("#caller_number").focus()
    operator.keyboard.press("Enter")  # submits the form

    expect(operator.locator("#done")).to_contain_text("Đã ghi nhận cuộc gọi")
    code = operator.locator("#tracking-code").inner_text()
    assert normalise_tracking_code(code) == code
    expect(operator.locator("#tracking-code-spelled")).to_have_text(
        " – ".join(" ".join(part) for part in code.split("-"))
    )
    expect(operator.locator("#caller_number")).to_have_value("")  # ready for the next call
    expect(operator.locator("#description")).to_have_value("")
    shot(operator, "hotline-call-recorded")

    platform.wait_for_submission(code)
    sign_in(handler, platform, "canbo.nhattan")
    handler.select_option("#channel", "hotline")
    handler.get_by_role("button", name="Lọc").click()
    row = handler.locator("tr", has_text=code)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Đã tiếp nhận")
    expect(row).to_contain_text("Hẹn lại, phải đi lại nhiều lần")
    row.get_by_role("link", name=code).click()
    details = handler.locator(".details")
    expect(details).to_contain_text("Đường dây nóng")
    expect(handler.locator("#contact-phone")).to_have_text("0912345678")
    expect(details).to_contain_text("Đồng ý được liên hệ lại về phản ánh này")
    expect(handler.locator("#case-reported-by")).to_have_text("Hoàng Văn Nam")
    expect(handler.locator(".citizen-text")).to_have_text(COMPLAINT)
    shot(handler, "hotline-case-handler")

    sign_in(inspector, platform, "thanhtra.tayho")
    inspector.goto(handler.url)
    expect(inspector.locator("#contact-phone")).to_have_text("091****678")
    assert "0912345678" not in inspector.content()
