"""In headless Chromium on the whole platform (real Kafka and PostgreSQL): the district's
administrator decrees a day off on the calendar page and sees it listed, then renames a
counter and sees the new name on the citizens' home page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from feedback_core.calendar_app import DecreeKind
from tests.support.platform import LivePlatform

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
ADMIN, PASSWORD = "quantri.tayho", "demo-2026"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)



def test_an_administrator_decrees_a_day_off_and_renames_a_counter(
    platform: LivePlatform, desk: Page
) -> None:
    desk.goto(platform.base_url + "/login")
    desk.fill("#username", ADMIN)
    desk.fill("#password", PASSWORD)
    desk.locator("form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/admin/org$"))  # an administrator has no case queue
    expect(desk.locator("#org-tree")).to_contain_text("UBND phường Phú Thượng")

    day = date(date.today().year + 1, 1, 2)
    desk.get_by_role("link", name="Lịch làm việc").click()
    expect(desk.locator("h1")).to_contain_text("Lịch làm việc năm")
    desk.locator("#cmd-day-off summary").click()
    desk.fill("#day-off-day", day.isoformat())
    desk.fill("#day-off-reason", "Thông báo nghỉ bù Tết Dương lịch của Chính phủ")
    desk.locator("#form-day-off button[type=submit]").click()
    expect(desk.locator("#notice")).to_have_text(
        f"Đã ghi nhận ngày nghỉ {day.strftime('%d/%m/%Y')}."
    )
    listed = desk.locator(f"#decree-{day.isoformat()}")
    expect(listed).to_contain_text("Thông báo nghỉ bù Tết Dương lịch của Chính phủ")
    expect(listed).to_contain_text(f"tháng 1, {day.year}")
    expect(listed).to_contain_text(ADMIN)
    shot(desk, "admin-calendar-day-off")
    decrees = platform.core.calendar.decrees(day.year)
    assert [(d.day, d.kind) for d in decrees] == [(day, DecreeKind.DAY_OFF)]
    assert not platform.core.calendar.calendar().is_working_day(day)

    desk.get_by_role("link", name="Tổ chức").click()
    desk.locator("#cmd-rename-counter summary").click()
    desk.select_option("#rename-counter-counter_id", "phu-thuong-q2")
    desk.fill("#rename-counter-name_vi", "Quầy 2 – Đất đai, Xây dựng và Đô thị")
    desk.fill("#rename-counter-name_en", "Counter 2 – Land, construction and urban affairs")
    desk.locator("#form-rename-counter button[type=submit]").click()
    expect(desk.locator("#notice")).to_have_text(
        "Đã đổi tên quầy thành Quầy 2 – Đất đai, Xây dựng và Đô thị."
    )
    expect(desk.locator("#counter-phu-thuong-q2")).to_contain_text("Đất đai, Xây dựng và Đô thị")
    shot(desk, "admin-org-renamed-counter")

    desk.goto(platform.base_url + "/")
    office = desk.locator(".office", has_text="Bộ phận Một cửa phường Phú Thượng")
    expect(office).to_contain_text("Quầy 2 – Đất đai, Xây dựng và Đô thị")
    expect(desk.locator("body")).to_contain_text("Quầy 2 – Đất đai – Xây dựng")  # other wards
    desk.goto(platform.base_url + "/?lang=en")
    expect(desk.locator("body")).to_contain_text(
        "Counter 2 – Land, construction and urban affairs"
    )
