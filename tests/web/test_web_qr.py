"""The citizen QR page: rendering, validation, publishing and idempotency."""

from __future__ import annotations

from html import escape
from uuid import UUID, uuid4

import anyio
import pytest
from fastapi.testclient import TestClient

from feedback_core.identity import tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory, SipasComponent
from feedback_core.qr_codes import SigningKey, parse_token, signature
from tests.support.qr import qr_token
from tests.web.web_doubles import NOW, RecordingPublisher, hidden
from web import citizen
from web.app import create_app
from web.rate_limit import SubmissionLimits
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


# --- SIPAS components, dossier code, contact with consent ---------------------------------


def test_the_form_offers_the_optional_details(client: TestClient, token: str) -> None:
    page = client.get(f"/q/{token}").text
    assert "<details class=\"sipas\">" in page  # closed until the citizen opens it
    assert "Đánh giá chi tiết (không bắt buộc)" in page
    for component in SipasComponent:
        for score in "12345":
            assert f'name="component_{component.value}" value="{score}"' in page
    assert "Thái độ và năng lực của cán bộ" in page
    assert 'name="dossier_code"' in page and 'name="contact"' in page
    assert "Tôi đồng ý được liên hệ về phản ánh này" in page


def test_components_dossier_and_contact_reach_the_intake(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(
        client, token, submission_id=str(uuid4()), rating="4",
        component_access="5", component_officers="2", dossier_code="000.12.34.H26-260301-0001",
        contact="+84 912.345.678", consent="1",
    )
    assert answer.status_code == 303
    [sub] = publisher.published
    assert sub.components == {"access": 5, "officers": 2}
    assert sub.dossier_code == "000.12.34.H26-260301-0001"
    assert (sub.contact_phone, sub.contact_email, sub.wants_updates) == ("+84912345678", "", True)


def test_an_email_contact(client: TestClient, token: str, publisher: RecordingPublisher) -> None:
    post(client, token, submission_id=str(uuid4()), rating="3", contact="an@example.vn",
         consent="1")
    [sub] = publisher.published
    assert (sub.contact_email, sub.contact_phone, sub.wants_updates) == ("an@example.vn", "", True)
    assert sub.components == {} and sub.dossier_code == ""


def test_contact_without_consent_is_refused_and_kept(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="3", contact="0912345678",
                  component_results="1", description="Chậm")
    assert answer.status_code == 422
    assert "Vui lòng đánh dấu ô đồng ý được liên hệ" in answer.text
    assert 'id="contact-error"' in answer.text and 'value="0912345678"' in answer.text
    assert '<details class="sipas" open>' in answer.text
    assert 'name="component_results" value="1" checked' in answer.text
    assert publisher.published == []


def test_consent_without_contact_is_refused(
    client: TestClient, token: str, publisher: RecordingPublisher
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="3", consent="1")
    assert answer.status_code == 422
    assert 'id="contact-error"' in answer.text
    assert "Vui lòng nhập số điện thoại hoặc e-mail để được liên hệ" in answer.text
    assert 'name="consent" value="1" checked' in answer.text
    assert publisher.published == []


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"contact": "091234", "consent": "1"}, "contact-error", "Số điện thoại không hợp lệ"),
        ({"contact": "an@vn", "consent": "1"}, "contact-error", "Địa chỉ e-mail không hợp lệ"),
        ({"dossier_code": "HS 01 <x>"}, "dossier-error", "Mã hồ sơ không hợp lệ"),
        ({"component_access": "9"}, "components-error", "Điểm đánh giá chi tiết phải từ 1"),
    ],
)
def test_intake_checks_are_shown_next_to_their_field(
    client: TestClient, token: str, publisher: RecordingPublisher,
    fields: dict[str, str], field_id: str, message: str,
) -> None:
    answer = post(client, token, submission_id=str(uuid4()), rating="2", **fields)
    assert answer.status_code == 422
    assert f'id="{field_id}"' in answer.text and message in answer.text
    for value in fields.values():
        if value not in ("1", "9"):
            assert f'value="{escape(value)}"' in answer.text
    assert publisher.published == []


def test_details_errors_in_english(client: TestClient, token: str) -> None:
    answer = client.post(
        f"/q/{token}?lang=en",
        data={"submission_id": str(uuid4()), "rating": "2", "contact": "x@y.vn"},
    )
    assert answer.status_code == 422
    assert "I agree to be contacted about this feedback" in answer.text
    assert "Detailed rating (optional)" in answer.text


# --- abuse limits ----------------------------------------------------------------------------


def limited_client(services: WebServices, **limits: int) -> TestClient:
    services.settings = services.settings.model_copy(update=limits)
    return TestClient(create_app(services), follow_redirects=False)


def test_too_many_posts_from_one_client_are_429_and_keep_the_text(
    services: WebServices, token: str, publisher: RecordingPublisher
) -> None:
    with limited_client(services, qr_posts_per_client_per_minute=2) as client:
        for _ in range(2):
            assert post(client, token, submission_id=str(uuid4()), rating="5").status_code == 303
        sid = str(uuid4())
        answer = post(client, token, submission_id=sid, rating="1", description="Đòi tiền",
                      contact="0912345678", consent="1")
    assert answer.status_code == 429
    assert 0 < int(answer.headers["retry-after"]) <= 60
    assert "Bạn đã gửi quá nhiều lần. Vui lòng thử lại sau 1 phút." in answer.text
    assert "Đòi tiền" in answer.text and 'value="0912345678"' in answer.text
    assert hidden(answer.text, "submission_id") == sid
    assert len(publisher.published) == 2


def test_the_limit_per_qr_code_counts_every_client(
    services: WebServices, token: str, publisher: RecordingPublisher
) -> None:
    with limited_client(services, qr_posts_per_token_per_minute=1) as client:
        assert post(client, token, submission_id=str(uuid4()), rating="5").status_code == 303
        other = qr_token(services, "nhat-tan-q2")
        assert post(client, other, submission_id=str(uuid4()), rating="5").status_code == 303
        answer = client.post(f"/q/{token}?lang=en", data={"submission_id": str(uuid4())})
    assert answer.status_code == 429
    assert "You have sent too many times. Please try again in 1 minute(s)." in answer.text
    assert len(publisher.published) == 2


def test_the_limiter_window_slides() -> None:
    now = [0.0]
    limiter = SubmissionLimits(per_client=2, per_token=0, clock=lambda: now[0])
    assert limiter.check("1.2.3.4", "t") == 0
    now[0] = 30
    assert limiter.check("1.2.3.4", "t") == 0
    assert limiter.check("1.2.3.4", "t") == 30  # the first hit leaves the window at 60 s
    assert limiter.check("5.6.7.8", "t") == 0
    now[0] = 60
    assert limiter.check("1.2.3.4", "t") == 0
    assert limiter.check("1.2.3.4", "t") == 30
