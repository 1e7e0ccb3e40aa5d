"""In headless Chromium on the whole platform (real PostgreSQL): the district's inspector
opens the rebuild page, runs the rebuild-and-compare, and reads that the rebuilt views match
the live ones row by row."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.support.platform import LivePlatform
from tests.web.web_doubles import open_case

pytestmark = [pytest.mark.integration, pytest.mark.browser]



def test_an_inspector_runs_the_rebuild_and_sees_no_differences(
    platform: LivePlatform, desk: Page
) -> None:
    _, code = open_case(platform.core.app, unit="nhat-tan", contact_phone="0912345678")
    platform.wait_for_submission(code)  # the live views have caught up

    desk.goto(platform.base_url + "/login")
    desk.fill("#username", "thanhtra.tayho")
    desk.fill("#password", "demo-2026")
    desk.locator("form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/staff/queue$"))
    desk.goto(platform.base_url + "/inspector/rebuild")
    expect(desk.locator("h1")).to_have_text("Dựng lại và đối chiếu các bảng xem")
    expect(desk.locator("#rebuild-status")).to_have_attribute("data-stage", "idle")

    desk.get_by_role("button", name="Dựng lại và đối chiếu").click()
    deadline = time.monotonic() + 60
    while desk.locator("#rebuild-status").get_attribute("data-stage") not in ("done", "failed"):
        assert time.monotonic() < deadline, "the rebuild did not finish in 60 s"
        time.sleep(0.5)
        desk.reload()
    expect(desk.locator("#rebuild-status")).to_have_attribute("data-stage", "done")
    expect(desk.locator("#no-differences")).to_be_visible()
    expect(desk.locator("#rebuild-status")).to_contain_text("Không có khác biệt")
