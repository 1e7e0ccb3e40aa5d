from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import desktop_page

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes advise: no background connections, no sandbox (root), no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# Package scope, not session: Playwright's sync API keeps an event loop "running" in the
# main thread while it is open, so tests after the browser package (asyncio.run) would fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A small phone: 360 px wide, touch, Vietnamese."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True, locale="vi-VN"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """An officer's desktop, in Vietnamese."""
    with desktop_page(browser) as page:
        yield page


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """A counter kiosk's tablet: 1024×768, touch, Vietnamese, Hanoi's time zone."""
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, has_touch=True, locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )  # fmt: skip
    page = context.new_page()
    yield page
    context.close()
