"""In headless Chromium on the whole platform: the public transparency pages (no script
needed, axe-clean, English switch) and the "as of" banner on the head's dashboard, reached
through the "being prepared" page that refreshes itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from feedback_core.local_time import local_date
from tests.browser.test_accessibility import axe, serious_violations  # noqa: F401 - fixture
from tests.support.browser import desktop_page
from tests.support.platform import LivePlatform
from web.services import utc_now

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def no_script(browser: Browser) -> Iterator[Page]:
    """A desktop without JavaScript, CSP bypassed so axe can be injected afterwards."""
    with desktop_page(browser, java_script_enabled=False) as page:
        yield page


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    with desktop_page(browser, bypass_csp=True) as page:
        yield page


def test_transparency_pages_without_javascript(platform: LivePlatform, no_script: Page) -> None:
    page = no_script
    page.goto(platform.base_url + "/minh-bach")
    expect(page.locator("h1")).to_have_text("Công khai kết quả giải quyết")
    page.get_by_role("link", name=re.compile("Nhật Tân")).first.click()
    expect(page.locator("#public-figures")).to_contain_text("Tiếp nhận")
    expect(page.locator("#public-components")).to_contain_text("Công chức giải quyết")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#public-figures")).to_contain_text("Share resolved on time")


def test_transparency_page_is_axe_clean_and_the_as_of_banner_shows(
    platform: LivePlatform, desk: Page, axe: str  # noqa: F811 - the fixture
) -> None:
    desk.goto(platform.base_url + "/minh-bach/nhat-tan")
    assert serious_violations(desk, axe) == [], "transparency page"
    desk.goto(platform.base_url + "/minh-bach")
    assert serious_violations(desk, axe) == [], "transparency list"

    desk.goto(platform.base_url + "/login")
    desk.fill("#username", "lanhdao.tayho")
    desk.fill("#password", "demo-2026")
    desk.locator("form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/staff/queue$"))
    yesterday = local_date(utc_now()) - timedelta(days=1)
    desk.goto(platform.base_url + f"/staff/dashboard?as_of={yesterday.isoformat()}")
    # Any past day answers at once (the live tables cut at the day), with the banner.
    banner = desk.locator("#as-of-banner")
    expect(banner).to_contain_text(f"Số liệu tại ngày {yesterday:%d/%m/%Y}", timeout=30_000)
    expect(banner).to_contain_text("tính lại từ nhật ký sự kiện")
    assert serious_violations(desk, axe) == [], "dashboard as of"
