"""The citizen QR page: rendering, validation, publishing and idempotency."""

from __future__ import annotations

from uuid import UUID, uuid4

import anyio
import pytest
from fastapi.testclient import TestClient

from feedback_core.identity import tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.qr_codes import SigningKey, parse_token, signature
from tests.web.web_doubles import NOW, RecordingPublisher, hidden
from web import citizen
from web.services import WebServices

BAD_QR_VI = "Mã QR không hợp lệ hoặc đã bị thay đổi"


def post(client: TestClient, token: str, **fields: str):
    return client.post(f"/q/{token}", data=fields)


def test_qr_page_for_a_genuine_token(client: TestClient, token: str) -> None:
    page = client.get(f"/q/{token}")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "UBND phường Nhật Tân" in page.text
    assert "Bộ phận Một cửa phường Nhật Tân" in page.text
    assert "Quầy 1 – Tư pháp – Hộ tịch" in page.text
    assert "Rất không hài lòng" in page.text and "Rất hài lòng" in page.text
    assert UUID(hidden(page.text, "submission_id"))
    assert 'maxlength="4000"' in page.text
    for category in ComplaintCategory:
        assert f'value="{category.value}"' in page.text


def test_each_render_makes_a_fresh_submission_id(client: TestClient, token: str) -> None:
    first = hidden(client.get(f"/q/{token}").text, "submission_id")
    second = hidden(client.get(f"/q/{token}").text, "submission_id")
    assert first != second


def test_forged_token_is_404_and_publishes_nothing(
    client: TestClient, token: str, services: WebServices, publisher: RecordingPublisher
) -> None:
    forged = token.replace("nhat-tan-q1", "quang-an-q1")
    assert client.get(f"/q/{forged}").status_code == 404
    _counter, serial, _sig = parse_token(token) or ("", 0, "")
    other_key = SigningKey("k1", b"another-secret")
    signed_elsewhere = f"nhat-tan-q1.{serial}.{signature('nhat-tan-q1', serial, other_key)}"
    assert services.qr_keyring is not None
    key = services.qr_keyring.current
    never_issued = f"no-such-counter.1.{signature('no-such-counter', 1, key)}"
    for bad in (forged, signed_elsewhere, "nonsense", never_issued):
        answer = post(client, bad, submission_id=str(uuid4()), rating="5")
        assert answer.status_code == 404
        assert BAD_QR_VI in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    assert publisher.published == []


def test_missing_rating_keeps_what_was_typed(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    sid = str(uuid4())
    answer = post(
        client, token, submission_id=sid, category="delay", description="Chờ <b>3 giờ</b>"
    )
    assert answer.status_code == 422
    assert "Vui lòng chọn mức độ hài lòng" in answer.text
    assert "Chờ &lt;b&gt;3 giờ&lt;/b&gt;" in answer.text
    assert hidden(answer.text, "submission_id") == sid
    assert '<option value="delay" selected>' in answer.text
    assert publisher.published == []


def test_text_over_4000_characters_is_refused(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="2", description="a" * 4001)
    assert answer.status_code == 422
    assert "Nội dung quá dài: 4.001 ký tự, tối đa 4.000 ký tự" in answer.text
    assert publisher.published == []


def test_text_of_exactly_4000_characters_with_browser_line_ends_is_accepted(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    text = ("x" * 99 + "\r\n") * 40  # 4,000 characters once CRLF counts as one, as maxlength does
    answer = post(client, token, submission_id=str(uuid4()), rating="2", description=text)
    assert answer.status_code == 303
    assert len(publisher.published[0].description) == 3999  # the last line end is trimmed


def test_unknown_category_is_refused(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(
        client, token, submission_id=str(uuid4()), rating="3", category="bribes", description="x"
    )
    assert answer.status_code == 422
    assert "Loại phản ánh không hợp lệ" in answer.text
    assert publisher.published == []


def test_category_without_text_asks_for_a_description(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="1", category="harassment")
    assert answer.status_code == 422
    assert "Vui lòng mô tả ngắn gọn sự việc" in answer.text
    assert publisher.published == []


def test_missing_or_broken_submission_id_is_400(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    for bad in ({}, {"submission_id": "not-a-uuid"}):
        answer = post(client, token, rating="5", description="giữ lại", **bad)
        assert answer.status_code == 400
        assert "giữ lại" in answer.text
        assert UUID(hidden(answer.text, "submission_id"))
    assert publisher.published == []


def test_valid_post_publishes_once_and_redirects_to_tracking(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    sid = hidden(client.get(f"/q/{token}").text, "submission_id")
    answer = post(
        client,
        token,
        submission_id=sid,
        rating="2",
        category="second_trip",
        description="  Phải đến 3 lần  ",
    )
    code = tracking_code_for(UUID(sid))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/t/{code}?new=1"
    [sub] = publisher.published
    assert sub.submission_id == UUID(sid)
    assert sub.channel is Channel.QR
    place = (sub.unit_id, sub.office_id, sub.counter_id)
    assert place == ("nhat-tan", "nhat-tan-mc", "nhat-tan-q1")
    assert sub.submitted_at == NOW
    assert sub.rating == 2
    assert sub.category is ComplaintCategory.SECOND_TRIP
    assert sub.description == "Phải đến 3 lần"
    assert sub.locale == "vi"


def test_rating_alone_is_enough(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="5", category="")
    assert answer.status_code == 303
    [sub] = publisher.published
    assert (sub.rating, sub.category, sub.description) == (5, None, "")


def test_the_same_post_twice_leads_to_the_same_tracking_code(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    form = {"submission_id": str(uuid4()), "rating": "4", "description": "Nhanh"}
    first, second = post(client, token, **form), post(client, token, **form)
    assert first.headers["location"] == second.headers["location"]
    assert {s.submission_id for s in publisher.published} == {UUID(form["submission_id"])}


def test_publish_failure_is_503_and_keeps_the_text(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    publisher.fail = True
    sid = str(uuid4())
    answer = post(client, token, submission_id=sid, rating="1", description="Đòi thêm giấy tờ")
    assert answer.status_code == 503
    assert "Hệ thống chưa nhận được đánh giá của bạn" in answer.text
    assert "Đòi thêm giấy tờ" in answer.text
    assert hidden(answer.text, "submission_id") == sid
    assert 'value="1" required checked>' in answer.text


def test_english_form_errors(client: TestClient, token: str) -> None:
    answer = client.post(
        f"/q/{token}?lang=en", data={"submission_id": str(uuid4()), "description": "b" * 4001}
    )
    assert answer.status_code == 422
    assert "Please choose how satisfied you are" in answer.text
    assert "Text too long: 4,001 characters, at most 4,000 characters" in answer.text


def test_english_submission_records_its_locale(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    client.post(f"/q/{token}?lang=en", data={"submission_id": str(uuid4()), "rating": "3"})
    assert publisher.published[0].locale == "en"


def test_forged_token_in_english(client: TestClient) -> None:
    answer = client.get("/q/nhat-tan-q1.aaaaaaaaaa?lang=en")
    assert answer.status_code == 404
    assert "This QR code is not valid or has been altered" in answer.text


def test_a_publish_that_hangs_is_answered_with_503(
    client: TestClient, token: str, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang(submission: object) -> None:
        await anyio.sleep(10)

    monkeypatch.setattr(citizen, "PUBLISH_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(publisher, "publish", hang)
    answer = post(client, token, submission_id=str(uuid4()), rating="4", description="Chờ lâu")
    assert answer.status_code == 503
    assert "Chờ lâu" in answer.text
