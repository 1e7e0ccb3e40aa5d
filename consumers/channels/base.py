"""The one interface every channel implements, and its errors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from consumers.notices import Message, Recipient


class ChannelError(RuntimeError):
    """Sending failed; trying again later may work."""


class PermanentChannelError(ChannelError):
    """Sending failed in a way that retrying will not change."""


@runtime_checkable
class Channel(Protocol):
    name: str  # "email", "sms", "zalo": recorded with every sent or failed notice

    def can_reach(self, recipient: Recipient) -> bool: ...

    def address(self, recipient: Recipient) -> str:
        """The address this channel uses for ``recipient`` (e-mail address, phone number)."""
        ...

    async def send(self, recipient: Recipient, message: Message) -> None: ...


def international_phone(phone: str) -> str:
    """A Vietnamese number as the intake accepts it (``0912345678`` or ``+84912345678``)
    in E.164 form, ``+84912345678``; anything else unchanged but for spaces."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return digits
