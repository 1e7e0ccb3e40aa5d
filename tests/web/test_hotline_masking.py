"""The caller's contact: masked for the roles that do not call back (feedback_core.masking),
in full for the others, on the case page (read from the event store, never from the views)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.intake import Channel
from feedback_core.masking import (
    email_for,
    mask_email,
    mask_phone,
    phone_for,
    sees_full_contact,
)
from feedback_core.roles import Role
from tests.web.web_doubles import log_in, open_case


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("0912345678", "091****678"),
        ("02438251234", "024*****234"),
        ("+84912345678", "+84******678"),
        ("  0912345678 ", "091****678"),
        ("1022", "***2"),
        ("0912345", "091*345"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("nguyen.van.a@gmail.com", "n***@g***.com"),
        ("lan@ubnd.hanoi.gov.vn", "l***@u***.h***.g***.vn"),
        ("a@b.vn", "a***@b***.vn"),
        ("no-at-sign", "n***"),
        ("x@localhost", "x***@l***"),
        ("", ""),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_who_sees_the_full_contact() -> None:
    assert {r for r in Role if sees_full_contact(r)} == {Role.OPERATOR, Role.HANDLER, Role.HEAD}
    assert sees_full_contact("handler") and not sees_full_contact("somebody")
    assert phone_for(Role.INSPECTOR, "0912345678") == "091****678"
    assert phone_for(Role.HANDLER, "0912345678") == "0912345678"
    assert email_for(Role.ADMIN, "lan@example.vn") == "l***@e***.vn"
    assert email_for(Role.HEAD, "lan@example.vn") == "lan@example.vn"


def hotline_case(store: CasesApplication, wants_updates: bool = True) -> str:
    case_id, _ = open_case(
        store, channel=Channel.HOTLINE, rating=None, contact_phone="0912345678",
        wants_updates=wants_updates, reported_by="tongdai.nhattan",
    )
    return f"/staff/cases/{case_id}"


@pytest.mark.parametrize(
    ("username", "shown"),
    [
        ("canbo.nhattan", "0912345678"),
        ("lanhdao.nhattan", "0912345678"),
        ("tongdai.nhattan", "0912345678"),
        ("thanhtra.nhattan", "091****678"),
    ],
)
def test_the_case_page_shows_the_number_by_role(
    desk_client: TestClient, store: CasesApplication, username: str, shown: str
) -> None:
    url = hotline_case(store)
    log_in(desk_client, username)
    page = desk_client.get(url)
    assert page.status_code == 200
    assert f'<span id="contact-phone">{shown}</span>' in page.text
    assert ("0912345678" in page.text) is (shown == "0912345678")
    assert ("đã che một phần" in page.text) is (shown != "0912345678")
    assert "Đồng ý được liên hệ lại về phản ánh này" in page.text
    assert 'id="case-reported-by">Đinh Văn Tổng' in page.text


def test_a_caller_who_wants_no_call_back(
    desk_client: TestClient, store: CasesApplication
) -> None:
    url = hotline_case(store, wants_updates=False)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(url).text
    assert '<span id="contact-phone">0912345678</span>' in page
    assert "Không yêu cầu liên hệ lại" in page


def test_email_contact_of_a_qr_submission_is_masked_for_inspectors(
    desk_client: TestClient, store: CasesApplication
) -> None:
    case_id, _ = open_case(store, contact_email="lan.nguyen@gmail.com", wants_updates=True)
    log_in(desk_client, "thanhtra.nhattan")
    page = desk_client.get(f"/staff/cases/{case_id}").text
    assert '<span id="contact-email">l***@g***.com</span>' in page
    assert "lan.nguyen" not in page and "case-reported-by" not in page


def test_no_contact_no_entry(desk_client: TestClient, store: CasesApplication) -> None:
    case_id, _ = open_case(store)
    log_in(desk_client, "canbo.nhattan")
    page = desk_client.get(f"/staff/cases/{case_id}").text
    assert page.count("case-contact") == 0 and "Liên hệ của người phản ánh" not in page


def test_in_english(desk_client: TestClient, store: CasesApplication) -> None:
    url = hotline_case(store)
    log_in(desk_client, "thanhtra.nhattan")
    page = desk_client.get(f"{url}?lang=en").text
    assert "Citizen's contact" in page or "Citizen&#39;s contact" in page
    assert "partly hidden" in page
