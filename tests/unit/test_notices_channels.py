"""The channel adapters without a network: which channels are built from which
configuration, what an e-mail looks like, what a gateway receives."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from consumers.channels import (
    Channel,
    EmailChannel,
    GatewaySettings,
    SmsChannel,
    SmtpSettings,
    ZaloChannel,
    build_channels,
    international_phone,
)
from consumers.notices import NoticeKind, Recipient, render
from consumers.notifier import mask
from tests.unit.test_notices import BASE, sample_notice

CITIZEN = Recipient(email="dan@example.vn", phone="0912345678")


def test_only_configured_channels_are_built() -> None:
    assert build_channels() == []
    assert build_channels(SmtpSettings(host=""), GatewaySettings(url="")) == []
    smtp = SmtpSettings(host="127.0.0.1")
    assert [c.name for c in build_channels(smtp)] == ["email"]
    built = build_channels(
        smtp, GatewaySettings(url="http://127.0.0.1:1/sms"), GatewaySettings(url="http://x/z")
    )
    assert [c.name for c in built] == ["email", "sms", "zalo"]
    assert all(isinstance(c, Channel) for c in built)


def test_bad_configuration_is_refused_early() -> None:
    with pytest.raises(ValueError, match="sender"):
        EmailChannel(SmtpSettings(host="mail", sender="Phản ánh"))
    with pytest.raises(ValueError, match="http"):
        SmsChannel(GatewaySettings(url="ftp://gateway"))


def test_who_each_channel_reaches() -> None:
    email = EmailChannel(SmtpSettings(host="mail"))
    sms = SmsChannel(GatewaySettings(url="http://gw/sms"))
    assert email.can_reach(Recipient(email="a@example.vn"))
    assert not email.can_reach(Recipient(phone="0912345678"))
    assert sms.can_reach(Recipient(phone="0912345678"))
    assert not sms.can_reach(Recipient(email="a@example.vn"))
    assert sms.address(Recipient(phone="0912345678")) == "+84912345678"
    assert international_phone("+84 912 345 678") == "+84912345678"


def test_the_email() -> None:
    channel = EmailChannel(SmtpSettings(host="mail", sender="Phản ánh Tây Hồ <noreply@tayho.vn>"))
    notice = sample_notice()
    message = render(notice, BASE)
    mail = channel.compose(CITIZEN, message)
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed["To"] == CITIZEN.email
    assert parsed["From"] == "Phản ánh Tây Hồ <noreply@tayho.vn>"
    assert parsed["Subject"] == "Phản ánh 7KQ2M-9XH4T đã có trả lời"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"].startswith(f"<{notice.notice_id}.")
    assert parsed["Message-ID"].endswith("@tayho.vn>")
    # The same notice to the same address: the same Message-ID (a re-send is recognisable).
    assert channel.compose(CITIZEN, message)["Message-ID"] == mail["Message-ID"]
    assert channel.compose(Recipient(email="b@example.vn"), message)["Message-ID"] != (
        mail["Message-ID"]
    )
    body = parsed.get_body(("plain",))
    assert body is not None and "Hồ sơ của ông/bà đã có kết quả." in body.get_content()


def test_gateway_payloads() -> None:
    message = render(sample_notice(kind=NoticeKind.RESOLVED), BASE)
    sms = SmsChannel(GatewaySettings(url="http://gw/sms", sender="UBND-TAYHO"))
    zalo = ZaloChannel(GatewaySettings(url="http://gw/zalo"))
    short = sms.payload(CITIZEN, message)
    assert short["channel"] == "sms" and short["to"] == "+84912345678"
    assert short["text"] == message.short and short["sender"] == "UBND-TAYHO"
    assert short["template_data"] == {
        "tracking_code": "7KQ2M-9XH4T", "kind": "resolved", "url": message.url,
    }
    full = zalo.payload(CITIZEN, message)
    assert full["channel"] == "zalo" and full["text"] == message.body


def test_masked_addresses_for_logs() -> None:
    assert mask("dan@example.vn") == "d***@example.vn"
    assert mask("+84912345678") == "+849***78"
