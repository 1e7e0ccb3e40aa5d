"""In headless Chromium on the whole platform (real PostgreSQL): the district's inspector
finds a case by its code, opens its replay, picks an earlier moment and sees the case as it
stood then; the view is in the inspections log."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from feedback_core.cases import Case
from feedback_core.roles import Actor, Role
from tests.support.platform import LivePlatform
from tests.web.web_doubles import NOW, open_case

pytestmark = [pytest.mark.integration, pytest.mark.browser]

HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
STEP = NOW - timedelta(days=2)  # 21/11/2026 10:30 in Hà Nội
SHOTS = Path(__file__).resolve().parents[2] / "test-results"



def sign_in(page: Page, platform: LivePlatform, username: str) -> None:
    page.goto(platform.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo-2026")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/queue$"))


def test_an_inspector_replays_a_case_as_of_an_earlier_moment(
    platform: LivePlatform, desk: Page
) -> None:
    app = platform.core.app
    case_id, code = open_case(app, unit="nhat-tan", contact_phone="0912345678")
    case: Case = app.repository.get(case_id)
    case.accept(HEAD, STEP, "", "standard", date(2026, 11, 21), date(2026, 12, 5))
    case.assign(HEAD, STEP + timedelta(hours=1), "canbo.nhattan", "")
    case.request_transfer(HEAD, STEP + timedelta(hours=2), "quang-an", "Thuộc phường Quảng An")
    case.accept_transfer(HEAD, STEP + timedelta(hours=3), "")
    app.save(case)
    platform.wait_for_submission(code)

    sign_in(desk, platform, "thanhtra.tayho")
    desk.get_by_role("link", name="Thanh tra", exact=True).click()
    desk.fill("#code", code)
    desk.get_by_role("button", name="Xem lại").click()
    expect(desk.locator("h1")).to_contain_text(code)
    expect(desk.locator("#replay tbody tr")).to_have_count(5)
    expect(desk.locator("#current-state .state-unit")).to_have_text("UBND phường Quảng An")
    expect(desk.locator("#case-contact")).to_contain_text("091****678")

    desk.fill("#as_of", "2026-11-21T11:45")  # assigned at 11:30, transferred from 12:30
    desk.locator("#as-of-form button[type=submit]").click()
    expect(desk.locator("#as-of-state .state-status")).to_have_text("Đã thụ lý")
    expect(desk.locator("#as-of-state .state-unit")).to_have_text("UBND phường Nhật Tân")
    expect(desk.locator("#as-of-state .state-assignee")).to_have_text("Nguyễn Thị Lan")
    expect(desk.locator("#as-of-state .state-version")).to_have_text("3")
    SHOTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(SHOTS / "inspector-replay-as-of.png"), full_page=True)

    desk.goto(platform.base_url + "/inspect/log")
    expect(desk.locator("#inspections tbody tr")).to_have_count(2)
    expect(desk.locator("#inspections")).to_contain_text(code)
