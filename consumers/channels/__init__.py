"""Channels that carry a case notice to a citizen: e-mail (SMTP), SMS and Zalo (HTTP
gateways), all behind one interface (``Channel``).

A channel decides whether it can reach a recipient (e-mail needs an address, SMS and Zalo a
phone number), names the address it uses (the notifier keys its de-duplication on it) and
sends one rendered message to one recipient. ``send`` raises ``ChannelError`` for a failure
worth retrying (a server down, a time-out, a 4xx SMTP reply, an HTTP 5xx/408/425/429) and
``PermanentChannelError`` for one that retrying will not change (an address refused, bad
credentials, another HTTP 4xx).

A channel without configuration is not built: ``build_channels`` returns only those that
have one (none at all by default; e-mail once ``FEEDBACK_SMTP_HOST`` is set).
"""

from __future__ import annotations

from consumers.channels.base import (
    Channel,
    ChannelError,
    PermanentChannelError,
    international_phone,
)
from consumers.channels.gateway import GatewaySettings, HttpGatewayChannel, SmsChannel, ZaloChannel
from consumers.channels.smtp import EmailChannel, SmtpSettings
from consumers.channels.zalo_oa import ZaloOaChannel
from feedback_core.zalo_config import ZaloOas


def build_channels(
    smtp: SmtpSettings | None = None,
    sms: GatewaySettings | None = None,
    zalo: GatewaySettings | None = None,
    zalo_oas: ZaloOas | None = None,
) -> list[Channel]:
    """The channels that have a configuration, e-mail first."""
    channels: list[Channel] = []
    if smtp is not None and smtp.host:
        channels.append(EmailChannel(smtp))
    if sms is not None and sms.url:
        channels.append(SmsChannel(sms))
    if zalo is not None and zalo.url:
        channels.append(ZaloChannel(zalo))
    if zalo_oas:  # the wards' own OAs, for their followers (docs/zalo.md)
        channels.append(ZaloOaChannel(zalo_oas))
    return channels


__all__ = [
    "Channel",
    "ChannelError",
    "EmailChannel",
    "GatewaySettings",
    "HttpGatewayChannel",
    "PermanentChannelError",
    "SmsChannel",
    "SmtpSettings",
    "ZaloChannel",
    "ZaloOaChannel",
    "build_channels",
    "international_phone",
]
