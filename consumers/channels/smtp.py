"""E-mail through SMTP, with the standard library's ``smtplib`` in a worker thread.

One connection per message: notices are few (a handful per case over weeks), and a fresh
connection leaves no half-dead session behind after a server restart. The Message-ID is a
function of the notice and the address, so a message sent twice after a crash (between the
server's acceptance and our record of it) carries the same id, which mail systems use to
drop the copy.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import anyio

from consumers.channels.base import ChannelError, PermanentChannelError
from consumers.notices import Message, Recipient

DEFAULT_SENDER = "Phản ánh <no-reply@localhost>"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = DEFAULT_SENDER  # "Name <address>" or a bare address
    starttls: bool = True  # STARTTLS after EHLO (port 587)
    ssl: bool = False  # implicit TLS from the first byte (port 465)
    username: str = ""  # log in when set
    password: str = ""
    timeout_s: float = 20.0


class EmailChannel:
    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        display, address = parseaddr(settings.sender or DEFAULT_SENDER)
        if "@" not in address:
            raise ValueError(f"the SMTP sender is not an e-mail address: {settings.sender!r}")
        self.sender_address = address
        self.sender_header = formataddr((display, address)) if display else address
        self.domain = address.rpartition("@")[2]

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    def address(self, recipient: Recipient) -> str:
        return recipient.email

    def compose(self, recipient: Recipient, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender_header
        mail["To"] = recipient.email
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.at)
        digest = hashlib.sha256(recipient.email.lower().encode()).hexdigest()[:12]
        mail["Message-ID"] = f"<{message.notice_id}.{digest}@{self.domain}>"
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        mail["X-Tracking-Code"] = message.tracking_code
        mail.set_content(message.body, charset="utf-8", cte="quoted-printable")
        return mail

    async def send(self, recipient: Recipient, message: Message) -> None:
        mail = self.compose(recipient, message)
        await anyio.to_thread.run_sync(self._send_blocking, mail, recipient.email)

    def _send_blocking(self, mail: EmailMessage, to: str) -> None:
        s = self.settings
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
                if s.ssl
                else smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            )
            with smtp:
                smtp.ehlo()
                if s.starttls and not s.ssl:
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password)
                refused = smtp.send_message(mail, from_addr=self.sender_address, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classified(exc.recipients.get(to, (550, b""))[0], exc) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentChannelError(f"SMTP login refused ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            raise _classified(exc.smtp_code, exc) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentChannelError(f"SMTP server: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # connection refused, time-out, TLS
            raise ChannelError(f"SMTP {type(exc).__name__}: {exc}") from exc
        if refused:
            raise _classified(next(iter(refused.values()))[0], None)


def _classified(code: int, exc: Exception | None) -> ChannelError:
    """5xx is a permanent refusal, 4xx a temporary one (RFC 5321)."""
    text = f"SMTP server replied {code}" + (f": {exc}" if exc else "")
    return PermanentChannelError(text) if 500 <= code < 600 else ChannelError(text)

