"""WCAG 2.1 AA with axe-core, and the page-weight budget, in headless Chromium on a phone.

axe-core comes from npm into ``.local/axe`` (installed by the first run when missing; no
browser is ever downloaded). It is injected with the page's CSP bypassed, because the
site's policy allows scripts only from /static.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from feedback_core.handling import Request as DeskRequest
from feedback_core.permissions import Action
from feedback_core.roles import Actor, Role
from tests.support.platform import LivePlatform

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
AXE_DIR = ROOT / ".local" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGE_BUDGET_BYTES = 100_000  # issue 4: under 100 kB without the photo


def axe_source() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is missing and npm is not installed to fetch it")
        subprocess.run(
            [npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "axe-core"],
            check=True, capture_output=True, timeout=300,
        )
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture
def axe_phone(browser: Browser) -> Iterator[Page]:
    """The 360 px phone of conftest, with CSP bypassed so axe can be injected."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
        locale="vi-VN", bypass_csp=True,
    )
    yield context.new_page()
    context.close()


def serious_violations(page: Page, axe: str) -> list[str]:
    page.add_script_tag(content=axe)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + json.dumps([n["target"] for n in v["nodes"]][:5], ensure_ascii=False)
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def open_qr_page(page: Page, platform: LivePlatform) -> None:
    page.goto(platform.base_url + "/")
    page.locator("a[href^='/q/nhat-tan-q1.']").first.click()
    expect(page.locator("h1")).to_contain_text("Quầy 1")


def test_citizen_and_login_pages_have_no_serious_axe_violations(
    platform: LivePlatform, axe_phone: Page, axe: str
) -> None:
    page = axe_phone
    open_qr_page(page, platform)
    page.locator("details.sipas summary").click()  # check the optional part open, too
    assert serious_violations(page, axe) == [], "QR page"

    # The server's error state (the browser's own check of the rating set aside):
    page.evaluate("document.querySelector('form[data-submit-once]').noValidate = true")
    page.fill("#contact", "0912345678")  # without the consent box
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("[role=alert]")).to_be_visible()
    assert serious_violations(page, axe) == [], "QR page with errors"

    page.fill("#contact", "")
    page.get_by_text("Hài lòng", exact=True).click()
    page.fill("#description", "Phòng chờ thiếu ghế ngồi.")
    page.select_option("#category", "facilities")
    page.get_by_role("button", name="Gửi đánh giá").click()
    code = page.locator("p.code").inner_text().strip()
    platform.wait_for_submission(code)
    page.goto(f"{platform.base_url}/t/{code}")
    expect(page.locator("#status")).to_be_visible()
    assert serious_violations(page, axe) == [], "tracking page"

    page.goto(platform.base_url + "/t/00000-00000")
    assert serious_violations(page, axe) == [], "unknown tracking code"

    page.goto(platform.base_url + "/login")
    assert serious_violations(page, axe) == [], "login page"
    page.goto(platform.base_url + "/login?lang=en")
    assert serious_violations(page, axe) == [], "login page in English"


def page_weight(browser: Browser, url: str) -> dict[str, int]:
    """Every byte Chromium received for a page (HTML, CSS, script, icons), on a cold
    cache: headers and bodies as transferred, by URL."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="networkidle")
    sizes = {}
    for response in responses:
        transferred = response.request.sizes()
        sizes[response.url] = transferred["responseBodySize"] + transferred["responseHeadersSize"]
    context.close()
    return sizes


def test_qr_page_weighs_under_100_kb(platform: LivePlatform, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(platform.base_url + "/")
    href = page.locator("a[href^='/q/nhat-tan-q1.']").first.get_attribute("href")
    assert href and re.match(r"^/q/", href)
    context.close()

    sizes = page_weight(browser, platform.base_url + href)
    total = sum(sizes.values())
    print(f"QR page weight: {total} bytes in {len(sizes)} responses: {sizes}")
    assert len(sizes) >= 2  # the page and its stylesheet at least
    assert total < PAGE_BUDGET_BYTES, sizes


def answered_case(platform: LivePlatform, browser: Browser) -> str:
    """A complaint sent from the QR page, answered by the head (a 4,000-character answer):
    its tracking code."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    open_qr_page(page, platform)
    page.get_by_text("Hài lòng", exact=True).click()
    page.fill("#description", "Phòng chờ thiếu ghế ngồi, " * 150)
    page.select_option("#category", "facilities")
    page.get_by_role("button", name="Gửi đánh giá").click()
    code = page.locator("p.code").inner_text().strip()
    context.close()
    platform.wait_for_submission(code)
    status = platform.services.queries.submission(code)
    desk = platform.services.desk
    assert status is not None and status.case_id is not None and desk is not None
    head = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
    answer = ("Đơn vị đã bổ sung ghế ngồi tại phòng chờ của Bộ phận Một cửa. " * 70)[:4000]
    notification = 0
    for request in (DeskRequest(Action.ACCEPT), DeskRequest(Action.ANSWER, text=answer)):
        version: int = desk.app.repository.get(status.case_id).version
        notification = desk.act(status.case_id, version, head, request, datetime.now(UTC))
    platform.services.queries.wait_for(notification)
    return code


def test_tracking_page_weighs_under_100_kb(platform: LivePlatform, browser: Browser) -> None:
    """The heaviest tracking page a citizen gets: an answered case with its long answer on
    the timeline and the three "was it solved?" forms."""
    code = answered_case(platform, browser)
    sizes = page_weight(browser, f"{platform.base_url}/t/{code}")
    total = sum(sizes.values())
    print(f"Tracking page weight: {total} bytes in {len(sizes)} responses: {sizes}")
    assert len(sizes) >= 2
    assert total < PAGE_BUDGET_BYTES, sizes


def test_resolved_is_one_tap_recorded_and_accessible(
    platform: LivePlatform, browser: Browser, axe_phone: Page, axe: str
) -> None:
    code = answered_case(platform, browser)
    page = axe_phone
    page.goto(f"{platform.base_url}/t/{code}")
    assert serious_violations(page, axe) == [], "tracking page asking whether it was solved"
    page.get_by_role("button", name="Đã giải quyết", exact=True).click()
    expect(page.locator("#done")).to_contain_text("Cảm ơn bạn đã xác nhận")
    expect(page.locator(".timeline")).to_contain_text("Công dân xác nhận đã được giải quyết")
    expect(page.get_by_role("button", name="Đã giải quyết", exact=True)).to_have_count(0)
    again = page.request.post(f"{platform.base_url}/t/{code}/confirm")  # a second tap
    assert again.ok and "Cảm ơn bạn đã xác nhận" in again.text()
    page.goto(f"{platform.base_url}/t/{code}")
    expect(page.locator("#confirmed")).to_be_visible()
    status = platform.services.queries.submission(code)
    assert status is not None and status.case_id is not None
    kinds = [row.kind for row in platform.services.queries.timeline(status.case_id)]
    assert kinds.count("citizen_confirmed") == 1
