"""The head's dashboard in headless Chromium on the whole platform: headline figures and
charts, the overdue drill-down agreeing with its figure, CSV and XLSX exports downloaded and
read back, and the same dashboard "as of" yesterday (banner, figures of then, links that
stay in the past)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.local_time import local_date
from tests.support.browser import desktop_page
from tests.support.platform import LivePlatform
from web.services import utc_now

pytestmark = [pytest.mark.integration, pytest.mark.browser]

OVERDUE = 3  # complaints (rated 2) received 40 days ago, never handled
RATINGS = 4  # ratings of 5 without text, a few minutes ago


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    with desktop_page(browser, accept_downloads=True) as page:
        yield page


def submit(platform: LivePlatform) -> None:
    """Stored through the same intake handler the consumer uses (recorded today)."""
    now = utc_now()
    wards = [("nhat-tan", "nhat-tan-mc", "nhat-tan-q1"), ("quang-an", "quang-an-mc", "quang-an-q1")]
    late = [
        IntakeSubmission(
            submission_id=uuid4(), channel=Channel.QR, unit_id=wards[i % 2][0],
            office_id=wards[i % 2][1], counter_id=wards[i % 2][2],
            submitted_at=now - timedelta(days=40), rating=2,
            description=f"Hồ sơ bị trả lại lần {i + 2} mà không nói rõ lý do.",
            category=ComplaintCategory.SECOND_TRIP,
        )
        for i in range(OVERDUE)
    ]
    ratings = [
        IntakeSubmission(
            submission_id=uuid4(), channel=Channel.QR, unit_id=wards[i % 2][0],
            office_id=wards[i % 2][1], counter_id=wards[i % 2][2],
            submitted_at=now - timedelta(minutes=5 + i),
            rating=5, description="",
        )
        for i in range(RATINGS)
    ]
    platform.core.app.record_submissions(late + ratings)


def rows_of_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_head_dashboard_drill_down_exports_and_as_of(
    platform: LivePlatform, desk: Page, tmp_path: Path
) -> None:
    submit(platform)
    page = desk
    page.goto(platform.base_url + "/login")
    page.fill("#username", "lanhdao.tayho")
    page.fill("#password", "demo-2026")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/queue$"))

    today = local_date(utc_now())
    period = f"from={(today - timedelta(days=59)).isoformat()}&to={today.isoformat()}"
    page.goto(platform.base_url + f"/staff/dashboard?{period}")
    figure = page.locator("#overdue-figure")
    satisfied = page.locator("#headline-table tr", has_text="Hài lòng")
    for _ in range(100):  # both projections catch up in the background (bounded: ~20 s)
        if figure.inner_text() == str(OVERDUE) and f"{RATINGS} / " in satisfied.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(figure).to_have_text(str(OVERDUE))
    expect(page.locator("h1")).to_have_text("Tổng hợp kết quả giải quyết")
    received = page.locator("#headline-table tr", has_text="Tiếp nhận").first
    expect(received).to_contain_text(str(OVERDUE))  # complaints; ratings counted apart
    expect(satisfied).to_contain_text(f"{RATINGS} / {OVERDUE + RATINGS}")
    trend = page.locator("section[aria-labelledby=trend-heading] svg.chart")
    expect(trend).to_be_visible()  # the ranking's chart waits for enough ratings per ward
    expect(trend).to_contain_text("Tiếp nhận")

    # The units table's CSV: one row per ward, the district's totals spread over them.
    with page.expect_download() as csv_download:
        page.locator("a[href^='/staff/dashboard/units.csv']").click()
    units = rows_of_csv(Path(csv_download.value.path()))
    assert units[0][:2] == ["unit_id", "unit"]
    by_unit = {row[0]: row for row in units[1:]}
    received_col = units[0].index("received")
    overdue_col = units[0].index("open_overdue")
    assert sum(int(row[received_col]) for row in by_unit.values()) == OVERDUE
    assert int(by_unit["nhat-tan"][overdue_col]) + int(by_unit["quang-an"][overdue_col]) \
        == OVERDUE

    # The drill-down behind the figure has as many rows as the figure says.
    figure.click()
    page.wait_for_url(re.compile(r".*/staff/dashboard/overdue\?.*"))
    expect(page.locator("#overdue-count")).to_have_text(str(OVERDUE))
    expect(page.locator("#overdue-table tbody tr")).to_have_count(OVERDUE)
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Tải XLSX").click()
    saved = tmp_path / "overdue.xlsx"
    xlsx_download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["tracking_code", "unit_id"]
    assert len(rows) == 1 + OVERDUE
    shown = set(page.locator("#overdue-table tbody tr td:first-child").all_inner_texts())
    assert {r[0] for r in rows[1:]} == shown
    assert all(int(str(r[rows[0].index("days_overdue")])) > 0 for r in rows[1:])

    # As of yesterday: nothing of today's was recorded yet, and the links stay on that day.
    yesterday = today - timedelta(days=1)
    page.goto(platform.base_url + f"/staff/dashboard?{period}&as_of={yesterday.isoformat()}")
    banner = page.locator("#as-of-banner")  # answered at once from the live tables
    expect(banner).to_contain_text(f"Số liệu tại ngày {yesterday:%d/%m/%Y}", timeout=30_000)
    expect(figure).to_have_text("0")
    figure.click()
    page.wait_for_url(re.compile(rf".*as_of={yesterday.isoformat()}.*"))
    expect(page.locator("#as-of-banner")).to_be_visible()
    expect(page.locator("#overdue-count")).to_have_text("0")
