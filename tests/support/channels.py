"""In-memory e-mail channel doubles for the notifier's delivery rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from consumers.channels import ChannelError, PermanentChannelError
from consumers.notices import Message, Recipient


@dataclass
class FlakyChannel:
    """Fails ``failures`` times per address, then succeeds; ``permanent`` fails for good.

    ``refusal`` is the permanent error's text; ``{address}`` in it names the address, as
    SMTP servers do in their replies.
    """

    name: str = "flaky"
    failures: int = 0
    permanent: bool = False
    refusal: str = "mailbox does not exist"
    calls: list[str] = field(default_factory=list)

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    def address(self, recipient: Recipient) -> str:
        return recipient.email

    async def send(self, recipient: Recipient, message: Message) -> None:
        self.calls.append(recipient.email)
        if self.permanent:
            raise PermanentChannelError(self.refusal.format(address=recipient.email))
        if self.calls.count(recipient.email) <= self.failures:
            raise ChannelError("try later")


def refusing_channel() -> FlakyChannel:
    """A gateway that refuses every address, naming it in its error."""
    return FlakyChannel(
        name="refusing",
        permanent=True,
        refusal="550 5.1.1 <{address}>: mailbox unavailable",
    )
