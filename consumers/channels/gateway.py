"""SMS and Zalo through an HTTP gateway: one generic JSON POST, documented in
docs/notifications.md.

Carriers' SMS brand-name APIs and Zalo's notification service (ZNS, which sends only
templates approved beforehand) differ per contract, so the platform speaks one small,
stable request to a gateway the operator runs or buys, and the gateway speaks to the
provider:

    POST <url>
    Authorization: Bearer <api key>
    Idempotency-Key: <uuid, the same for the same notice, channel and address>
    Content-Type: application/json

    {"channel": "sms" | "zalo", "to": "+84912345678", "sender": "<brand name / OA id>",
     "text": "...", "subject": "...", "url": "https://.../t/7KQ2M-9XH4T",
     "notice_id": "...", "kind": "answered", "tracking_code": "7KQ2M-9XH4T",
     "template_data": {"tracking_code": "...", "kind": "...", "url": "..."}}

Any 2xx is success. 408, 425, 429 and 5xx (and no answer at all) are retried; any other
4xx is a permanent failure (recorded, not retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid5

import httpx

from consumers.channels.base import ChannelError, PermanentChannelError, international_phone
from consumers.notices import Message, Recipient

RETRIED_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class GatewaySettings:
    url: str  # empty: the channel is not built
    api_key: str = ""
    sender: str = ""  # SMS brand name or Zalo Official Account id, passed through
    timeout_s: float = 15.0


class HttpGatewayChannel:
    """A phone channel that posts JSON to a gateway; subclasses choose the name and text."""

    name = "http"

    def __init__(self, settings: GatewaySettings) -> None:
        if not settings.url.startswith(("http://", "https://")):
            raise ValueError(f"the {self.name} gateway URL must be http(s): {settings.url!r}")
        self.settings = settings

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.phone)

    def address(self, recipient: Recipient) -> str:
        return international_phone(recipient.phone)

    def text(self, message: Message) -> str:
        return message.short

    def payload(self, recipient: Recipient, message: Message) -> dict[str, Any]:
        return {
            "channel": self.name,
            "to": self.address(recipient),
            "sender": self.settings.sender,
            "text": self.text(message),
            "subject": message.subject,
            "url": message.url,
            "notice_id": str(message.notice_id),
            "kind": message.kind.value,
            "tracking_code": message.tracking_code,
            "template_data": {
                "tracking_code": message.tracking_code,
                "kind": message.kind.value,
                "url": message.url,
            },
        }

    async def send(self, recipient: Recipient, message: Message) -> None:
        to = self.address(recipient)
        headers = {"Idempotency-Key": str(uuid5(message.notice_id, f"{self.name}:{to}"))}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_s) as client:
                response = await client.post(
                    self.settings.url, json=self.payload(recipient, message), headers=headers
                )
        except httpx.HTTPError as exc:
            raise ChannelError(f"{self.name} gateway: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        text = f"{self.name} gateway replied {status}: {response.text[:200]}"
        if 400 <= status < 500 and status not in RETRIED_STATUSES:
            raise PermanentChannelError(text)
        raise ChannelError(text)


class SmsChannel(HttpGatewayChannel):
    """One short line: the subject and the tracking URL (an SMS is 70 characters a part in
    Vietnamese with diacritics; the gateway may strip them for a cheaper 160-character one)."""

    name = "sms"


class ZaloChannel(HttpGatewayChannel):
    """The whole text; a ZNS gateway maps ``kind`` and ``template_data`` to its template."""

    name = "zalo"

    def text(self, message: Message) -> str:
        return message.body
