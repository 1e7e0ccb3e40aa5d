"""In headless Chromium on the whole platform (real Kafka and PostgreSQL): a handler's day
from acceptance to resolution with the citizen answering on the tracking page, a transfer
between two wards, and two duplicates merged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from feedback_core.identity import tracking_code_for
from tests.support.browser import desktop_page
from tests.support.platform import LivePlatform
from tests.support.qr import qr_url

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "demo-2026"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def complain(platform: LivePlatform, counter: str, text: str, category: str) -> str:
    """A citizen's QR submission over HTTP (through Kafka), once it reached the views."""
    with httpx.Client(base_url=platform.base_url, timeout=10) as client:
        url = qr_url(platform, counter)
        found = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', client.get(url).text)
        assert found
        form = {"submission_id": found.group(1), "rating": "2", "category": category,
                "description": text}
        assert client.post(url, data=form).status_code == 303
    code = tracking_code_for(UUID(found.group(1)))
    platform.wait_for_submission(code)
    return code



@pytest.fixture
def second_desk(browser: Browser) -> Iterator[Page]:
    with desktop_page(browser) as page:
        yield page


def sign_in(page: Page, platform: LivePlatform, username: str) -> None:
    page.goto(platform.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/queue$"))


def open_case(page: Page, code: str) -> None:
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.locator("h1")).to_contain_text(code)


def take(page: Page, step: str) -> None:
    """Press a step's submit button (opening its details first when it has one)."""
    details = page.locator(f"#step-{step}")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").click()
    page.locator(f"#form-{step} button[type=submit]").click()


def test_a_handlers_day(platform: LivePlatform, desk: Page, phone: Page) -> None:
    code = complain(
        platform, "nhat-tan-q1",
        "Hồ sơ cấp giấy chứng nhận của tôi đã quá hẹn 5 ngày mà chưa có kết quả.", "delay",
    )
    sign_in(desk, platform, "canbo.nhattan")
    row = desk.locator("tr", has_text=code)
    expect(row).to_contain_text("Đã tiếp nhận")
    open_case(desk, code)
    expect(desk.locator("#form-start")).to_have_count(0)  # not before acceptance

    take(desk, "accept")
    expect(desk.locator("#notice")).to_have_text("Đã thực hiện: Thụ lý.")
    expect(desk.locator("#case-status")).to_have_text("Đã thụ lý")
    take(desk, "claim")
    expect(desk.locator("#case-assignee")).to_have_text("Nguyễn Thị Lan")
    desk.locator("#step-ask_citizen summary").click()
    desk.fill("#ask_citizen-text", "Xin ông/bà cho biết số biên nhận hồ sơ?")
    take(desk, "ask_citizen")
    expect(desk.locator("#case-status")).to_have_text("Chờ công dân bổ sung")
    expect(desk.locator(".badge-waiting")).to_have_text("Chờ công dân")
    shot(desk, "handler-case-waiting")

    phone.goto(f"{platform.base_url}/t/{code}")
    expect(phone.locator("#question")).to_have_text("Xin ông/bà cho biết số biên nhận hồ sơ?")
    phone.fill("#reply-text", "Số biên nhận HS-2026-0412.")
    phone.get_by_role("button", name="Gửi trả lời").click()
    expect(phone.locator("#done")).to_contain_text("Đã gửi nội dung trả lời của bạn")
    expect(phone.locator(".timeline")).to_contain_text("Số biên nhận HS-2026-0412.")
    assert phone.evaluate("document.documentElement.scrollWidth <= 360")
    shot(phone, "citizen-replied")

    desk.reload()
    expect(desk.locator("#case-status")).to_have_text("Đang xử lý")
    expect(desk.locator(".timeline")).to_contain_text("Số biên nhận HS-2026-0412.")
    desk.locator("#step-answer summary").click()
    desk.select_option("#template", "delay")
    desk.get_by_role("button", name="Dùng mẫu này").click()
    answer = desk.locator("#answer-text")
    expect(answer).to_contain_text(code)
    expect(answer).to_contain_text("xin lỗi ông/bà vì việc giải quyết hồ sơ bị chậm")
    answer.fill(answer.input_value().replace("………", "28/11/2026"))
    take(desk, "answer")
    expect(desk.locator("#case-status")).to_have_text("Đã trả lời")
    take(desk, "resolve")
    expect(desk.locator("#case-status")).to_have_text("Đã giải quyết")
    shot(desk, "handler-case-resolved")

    phone.goto(f"{platform.base_url}/t/{code}")
    expect(phone.locator("#status")).to_have_text("Đã giải quyết")
    expect(phone.locator(".timeline")).to_contain_text("28/11/2026")
    expect(phone.get_by_role("button", name="Đã giải quyết", exact=True)).to_be_visible()
    expect(phone.locator("summary", has_text="Giải quyết một phần")).to_be_visible()
    expect(phone.locator("summary", has_text="Chưa giải quyết")).to_be_visible()
    assert "Nguyễn Thị Lan" not in phone.content()  # no officer's name for the citizen
    shot(phone, "citizen-resolved")

    phone.locator("summary", has_text="Chưa giải quyết").click()
    phone.fill("#reopen-not", "Tôi vẫn chưa nhận được kết quả.")
    phone.locator("#reopen-not").locator("xpath=ancestor::form").get_by_role("button").click()
    expect(phone.locator("#done")).to_contain_text("được mở lại")
    expect(phone.locator(".timeline")).to_contain_text("Chưa giải quyết: Tôi vẫn chưa nhận")


def test_a_transfer_between_two_wards(
    platform: LivePlatform, desk: Page, second_desk: Page
) -> None:
    code = complain(
        platform, "nhat-tan-q2", "Tôi ở phường Quảng An, nộp nhầm hồ sơ đất đai ở đây.",
        "wrong_procedure",
    )
    sign_in(desk, platform, "canbo.nhattan")
    open_case(desk, code)
    desk.locator("#step-transfer summary").click()
    desk.select_option("#transfer-unit", "quang-an")
    desk.fill("#transfer-reason", "Thửa đất thuộc địa bàn phường Quảng An.")
    take(desk, "transfer")
    expect(desk.locator(".badge-transfer")).to_have_text("Đang chuyển")

    sign_in(second_desk, platform, "canbo.quangan")
    expect(second_desk.locator("body")).not_to_contain_text(code)
    second_desk.get_by_role("link", name="Chuyển đến đơn vị").click()
    card = second_desk.locator(f"#transfer-{code}")
    expect(card).to_contain_text("Thửa đất thuộc địa bàn phường Quảng An.")
    expect(card).to_contain_text("UBND phường Nhật Tân")
    shot(second_desk, "transfers-into-quang-an")
    card.get_by_role("button", name="Nhận phản ánh chuyển đến").click()
    expect(second_desk.locator("h1")).to_contain_text(code)
    expect(second_desk.locator(".details")).to_contain_text("UBND phường Quảng An")
    second_desk.get_by_role("link", name="Hàng đợi của đơn vị").click()
    expect(second_desk.locator("tr", has_text=code)).to_have_count(1)

    desk.goto(platform.base_url + "/staff/queue")
    expect(desk.locator("tr", has_text=code)).to_have_count(0)
    desk.goto(platform.base_url + "/staff/transfers")
    expect(desk.locator("body")).not_to_contain_text(code)


def test_two_duplicates_merged(platform: LivePlatform, desk: Page) -> None:
    text = "Máy lấy số thứ tự ở bộ phận một cửa hỏng cả tuần nay."
    primary = complain(platform, "phu-thuong-q1", text, "facilities")
    duplicate = complain(platform, "phu-thuong-q2", text + " Rất bất tiện.", "facilities")
    sign_in(desk, platform, "canbo.phuthuong")
    desk.fill("#q", "máy lấy số")
    desk.get_by_role("button", name="Lọc").click()
    expect(desk.locator("tbody tr")).to_have_count(2)
    open_case(desk, duplicate)
    desk.locator("#step-merge summary").click()
    desk.fill("#merge-primary", primary.lower().replace("-", " "))
    desk.fill("#merge-reason", "Cùng phản ánh máy lấy số hỏng.")
    take(desk, "merge")
    expect(desk.locator("#notice")).to_contain_text(f"vào phản ánh {primary}")
    expect(desk.locator("#merged-into")).to_contain_text(f"Đã gộp vào phản ánh {primary}")
    expect(desk.locator("#case-status")).to_have_text("Đã gộp vào phản ánh khác")
    shot(desk, "merged-duplicate")
    desk.get_by_role("link", name="Hàng đợi của đơn vị").click()
    expect(desk.locator("tr", has_text=primary)).to_have_count(1)
    expect(desk.locator("tr", has_text=duplicate)).to_have_count(0)
    desk.goto(f"{platform.base_url}/t/{duplicate}")
    expect(desk.locator(".timeline")).to_contain_text(f"Gộp vào phản ánh · {primary}")
