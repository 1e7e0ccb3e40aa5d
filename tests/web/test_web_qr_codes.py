"""The counters' QR codes as events on the web: revoked and expired codes (410, nothing
published), forged ones (404), the admin's issue and revoke forms with their history, and
the printable posters (SVG per counter, ZIP per unit) within the staff member's subtree."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from feedback_core.qr_codes import Keyring, QrCodesApplication, SigningKey, TokenState
from tests.support.qr import qr_token, qr_url
from tests.web.web_doubles import NOW, RecordingPublisher, hidden, log_in
from web.services import WebServices

GONE_VI = "Mã QR này đã ngừng sử dụng. Vui lòng quét mã mới tại quầy hoặc hỏi cán bộ."
GONE_EN = "This QR code is no longer in use. Please scan the new code at the counter or ask"
SVG = "{http://www.w3.org/2000/svg}"


def qr_app(services: WebServices) -> tuple[QrCodesApplication, Keyring]:
    assert services.qr_codes is not None and services.qr_keyring is not None
    return services.qr_codes, services.qr_keyring


# --- citizens ------------------------------------------------------------------------------


def test_a_revoked_code_is_410_keeps_what_was_typed_and_publishes_nothing(
    client: TestClient, services: WebServices, publisher: RecordingPublisher
) -> None:
    token = qr_token(services, "nhat-tan-q1")
    sid = hidden(client.get(f"/q/{token}").text, "submission_id")
    codes, _keys = qr_app(services)
    codes.revoke(token, NOW - timedelta(minutes=1), "quantri.tayho", "Poster bị dán đè")

    page = client.get(f"/q/{token}")
    assert page.status_code == 410 and GONE_VI in page.text
    typed = "Chờ <b>3 giờ</b> mà chưa được giải quyết"
    answer = client.post(f"/q/{token}", data={"submission_id": sid, "rating": "1",
                                               "category": "delay", "description": typed})
    assert answer.status_code == 410
    assert GONE_VI in answer.text
    assert "Chờ &lt;b&gt;3 giờ&lt;/b&gt; mà chưa được giải quyết" in answer.text
    assert re.search(r"<textarea[^>]*readonly", answer.text)
    assert publisher.published == []
    english = client.get(f"/q/{token}?lang=en")
    assert english.status_code == 410 and GONE_EN in english.text
    # The home page now links the counter's new code, which works.
    fresh = qr_token(services, "nhat-tan-q1")
    assert fresh != token and f'href="/q/{fresh}"' in client.get("/?lang=vi").text
    assert client.get(f"/q/{fresh}").status_code == 200


def test_a_code_past_its_keys_grace_period_is_410(
    client: TestClient, services: WebServices, publisher: RecordingPublisher
) -> None:
    codes, keyring = qr_app(services)
    old = codes.issue("nhat-tan-q2", keyring, NOW - timedelta(days=400), "system")
    retired = replace(keyring.current, valid_until=(NOW - timedelta(days=1)).date())
    services.qr_keyring = Keyring((SigningKey("k2", b"new-secret"), retired))
    assert codes.check(old, services.qr_keyring, NOW).state is TokenState.EXPIRED
    assert client.get(f"/q/{old}").status_code == 410
    answer = client.post(f"/q/{old}", data={"submission_id": str(uuid4()), "rating": "5"})
    assert answer.status_code == 410 and GONE_VI in answer.text
    assert publisher.published == []


@pytest.mark.parametrize("edit", ["counter", "signature", "serial", "unknown"])
def test_forged_codes_are_404(
    client: TestClient, services: WebServices, publisher: RecordingPublisher, edit: str
) -> None:
    token = qr_token(services, "nhat-tan-q1")
    counter, serial, sig = token.split(".")
    bad = {
        "counter": f"quang-an-q1.{serial}.{sig}",
        "signature": f"{counter}.{serial}.{'a' * 8}",
        "serial": f"{counter}.{int(serial) + 1}.{sig}",
        "unknown": "nhat-tan-q9.1.abcdefgh",
    }[edit]
    assert client.get(f"/q/{bad}").status_code == 404
    answer = client.post(f"/q/{bad}", data={"submission_id": str(uuid4()), "rating": "5"})
    assert answer.status_code == 404 and "Mã QR không hợp lệ" in answer.text
    assert publisher.published == []


# --- administrators ------------------------------------------------------------------------


@pytest.fixture
def admin(org_client: TestClient) -> TestClient:
    assert log_in(org_client, "quantri.tayho").status_code == 303
    return org_client


def csrf_of(client: TestClient) -> str:
    return hidden(client.get("/admin/org").text, "csrf_token")


def test_the_org_page_shows_each_counters_code_and_its_forms(
    admin: TestClient, org_services: WebServices
) -> None:
    page = admin.get("/admin/org").text
    token = qr_token(org_services, "nhat-tan-q1")
    assert f'<code class="qr-token">{token}</code>' in page
    assert 'id="qr-revoke-nhat-tan-q1"' in page and 'id="qr-issue-nhat-tan-q1"' in page
    assert 'href="/staff/posters/nhat-tan"' in page


def test_an_admin_revokes_a_code_with_a_reason_and_sees_the_history(
    admin: TestClient, org_services: WebServices
) -> None:
    token = qr_token(org_services, "nhat-tan-q1")
    refused = admin.post("/admin/org/qr/revoke",
                         data={"csrf_token": csrf_of(admin), "token": token, "reason": ""})
    assert refused.status_code == 422
    no_csrf = admin.post("/admin/org/qr/revoke", data={"token": token, "reason": "x"})
    assert no_csrf.status_code == 403
    done = admin.post("/admin/org/qr/revoke", data={
        "csrf_token": csrf_of(admin), "token": token, "reason": "Áp phích bị dán đè mã giả"})
    assert done.status_code == 303
    fresh = qr_token(org_services, "nhat-tan-q1")
    assert fresh != token
    page = admin.get("/admin/org").text
    assert f"Đã thu hồi mã QR {token}" in page and fresh in page
    assert admin.get(f"/q/{token}").status_code == 410
    again = admin.post("/admin/org/qr/revoke", data={
        "csrf_token": csrf_of(admin), "token": token, "reason": "again"})
    assert again.status_code == 422 and "already revoked" in again.text

    history = admin.get("/admin/org/units/nhat-tan").text.split('id="qr-history"')[1]
    assert "Áp phích bị dán đè mã giả" in history and "quantri.tayho" in history
    assert history.count("Thu hồi mã") == 1 and token in history and fresh in history


def test_an_admin_issues_a_new_code(admin: TestClient, org_services: WebServices) -> None:
    old = qr_token(org_services, "quang-an-q1")
    done = admin.post("/admin/org/qr/issue", data={
        "csrf_token": csrf_of(admin), "counter_id": "quang-an-q1", "reason": "In lại áp phích"})
    assert done.status_code == 303
    new = qr_token(org_services, "quang-an-q1")
    assert new != old
    assert admin.get(f"/q/{new}").status_code == 200
    assert admin.get(f"/q/{old}").status_code == 200  # the old poster works until revoked
    codes, _ = qr_app(org_services)
    assert [r["actor"] for r in codes.history("quang-an-q1")][-1] == "quantri.tayho"


def test_a_ward_admin_cannot_touch_another_wards_codes(
    org_client: TestClient, org_services: WebServices
) -> None:
    log_in(org_client, "quantri.nhattan")
    token = qr_token(org_services, "quang-an-q1")
    csrf = csrf_of(org_client)
    revoke = org_client.post("/admin/org/qr/revoke",
                             data={"csrf_token": csrf, "token": token, "reason": "x"})
    issue = org_client.post("/admin/org/qr/issue",
                            data={"csrf_token": csrf, "counter_id": "quang-an-q1"})
    assert revoke.status_code == 403 and issue.status_code == 403
    codes, keyring = qr_app(org_services)
    assert codes.check(token, keyring, NOW).state is TokenState.VALID
    assert len(codes.history("quang-an-q1")) == 1


def test_only_administrators_use_the_qr_forms(
    org_client: TestClient, org_services: WebServices
) -> None:
    log_in(org_client, "lanhdao.tayho")
    token = qr_token(org_services, "nhat-tan-q1")
    page = org_client.get("/staff/queue")
    answer = org_client.post("/admin/org/qr/revoke", data={
        "csrf_token": hidden(page.text, "csrf_token"), "token": token, "reason": "x"})
    assert answer.status_code == 403


# --- posters -------------------------------------------------------------------------------


def test_a_counters_poster_is_an_svg_with_its_names_and_url(
    admin: TestClient, org_services: WebServices
) -> None:
    url = org_services.settings.public_base_url + qr_url(org_services, "nhat-tan-q1")
    for size, (width, height) in {"A4": (210, 297), "A5": (148, 210)}.items():
        answer = admin.get(f"/staff/posters/nhat-tan-q1.svg?size={size}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(answer.content)
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == f"0 0 {width} {height}"
        assert root.get("width") == f"{width}mm"
        texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
        joined = " ".join(texts)
        assert "UBND PHƯỜNG NHẬT TÂN" in joined
        assert "Bộ phận Một cửa phường Nhật Tân" in joined
        assert "Quầy 1 – Tư pháp – Hộ tịch" in joined
        assert "Quét mã để đánh giá và phản ánh" in joined and "Scan to rate" in joined
        short = root.find(f".//{SVG}text[@id='short-url']")
        assert short is not None and short.text == url
        qr = root.find(f".//{SVG}path[@id='qr']")
        assert qr is not None and len(qr.get("d", "")) > 1000
    assert admin.get("/staff/posters/nhat-tan-q1.svg?size=A3").status_code == 404
    assert admin.get("/staff/posters/no-such-counter.svg").status_code == 404


def test_the_units_posters_page_and_zip(admin: TestClient, org_services: WebServices) -> None:
    page = admin.get("/staff/posters/nhat-tan")
    assert page.status_code == 200
    counters = ["nhat-tan-q1", "nhat-tan-q2", "nhat-tan-q3"]
    for counter in counters:
        assert f'href="/staff/posters/{counter}.svg?size=A4"' in page.text
        assert qr_url(org_services, counter) in page.text
    assert 'href="/staff/posters/nhat-tan.zip"' in page.text
    answer = admin.get("/staff/posters/nhat-tan.zip")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{c}-{s}.svg" for c in counters for s in ("A4", "A5"))
        for name in names:
            ET.fromstring(archive.read(name))
    district = admin.get("/staff/posters/tay-ho.zip")
    with zipfile.ZipFile(io.BytesIO(district.content)) as archive:
        assert len(archive.namelist()) == 2 * 11  # every open counter of the district


def test_posters_are_for_admins_and_heads_of_that_subtree(org_client: TestClient) -> None:
    log_in(org_client, "lanhdao.nhattan")  # head of the Nhật Tân ward
    assert org_client.get("/staff/posters/nhat-tan").status_code == 200
    assert org_client.get("/staff/posters/nhat-tan-q1.svg").status_code == 200
    for path in ("/staff/posters/quang-an", "/staff/posters/quang-an-q1.svg",
                 "/staff/posters/quang-an.zip", "/staff/posters/tay-ho.zip"):
        assert org_client.get(path).status_code == 403, path
    org_client.cookies.clear()
    log_in(org_client, "canbo.nhattan")  # a handler
    for path in ("/staff/posters/nhat-tan", "/staff/posters/nhat-tan-q1.svg",
                 "/staff/posters/nhat-tan.zip"):
        assert org_client.get(path).status_code == 403, path
    org_client.cookies.clear()
    answer = org_client.get("/staff/posters/nhat-tan")
    assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]
