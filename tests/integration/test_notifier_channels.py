"""The channel adapters against real local servers: e-mail through a real SMTP server
(aiosmtpd on a free 127.0.0.1 port), SMS and Zalo through a real HTTP server standing in
for a gateway. Also the shared test servers of the notifier's integration tests."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from consumers.channels import (
    ChannelError,
    EmailChannel,
    GatewaySettings,
    PermanentChannelError,
    SmsChannel,
    SmtpSettings,
    ZaloChannel,
)
from consumers.notices import Recipient, render
from tests.unit.test_notices import BASE, sample_notice

pytestmark = pytest.mark.integration

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on an event loop of its own thread (the browser tests' Playwright
    may hold the main thread's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


# --- a real SMTP server ----------------------------------------------------------------------


@dataclass
class Mail:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class MailSink:
    """An aiosmtpd handler that keeps what it receives; refuses the addresses in
    ``refuse`` with 550 and answers 451 to everything while ``busy``."""

    received: list[Mail] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.busy:
            return "451 4.3.0 try again later"
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        with self.lock:
            self.received.append(Mail(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.received if address in m.envelope_to]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def smtp_server(
    sink: MailSink | None = None, port: int | None = None, login: tuple[str, str] | None = None
) -> Iterator[tuple[MailSink, int]]:
    sink = sink or MailSink()
    port = port or free_port()
    options: dict[str, Any] = {}
    if login is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode(), data.password.decode()
            ) == login
            return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535

        # Plain-text AUTH on loopback only: real servers get STARTTLS or implicit TLS.
        options.update(authenticator=authenticate, auth_require_tls=False, auth_required=True)
    controller = Controller(sink, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def smtp_settings(port: int, **changes: Any) -> SmtpSettings:
    fields: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "sender": "Phản ánh <no-reply@phananh.test>",
        "starttls": False, "timeout_s": 5.0,
    }  # fmt: skip
    return SmtpSettings(**{**fields, **changes})


# --- a real HTTP server standing in for an SMS or Zalo gateway --------------------------------


@dataclass
class GatewayRecorder:
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def gateway_server() -> Iterator[tuple[GatewayRecorder, str]]:
    recorder = GatewayRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length))
            recorder.requests.append((self.path, dict(self.headers.items()), payload))
            status = recorder.next_status()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- the tests -------------------------------------------------------------------------------

DAN = Recipient(email="dan@example.vn", phone="0912345678")


def test_email_reaches_a_real_smtp_server() -> None:
    message = render(sample_notice(), BASE)
    with smtp_server() as (sink, port):
        run_async(lambda: EmailChannel(smtp_settings(port)).send(DAN, message))
        (mail,) = sink.received
    assert mail.envelope_to == ["dan@example.vn"]
    assert mail.message["To"] == "dan@example.vn"
    assert mail.message["Subject"] == "Phản ánh 7KQ2M-9XH4T đã có trả lời"
    assert "Hồ sơ của ông/bà đã có kết quả." in mail.body


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_when_configured() -> None:
    message = render(sample_notice(), BASE)
    with smtp_server(login=("phananh", "s3cret")) as (sink, port):
        good = EmailChannel(smtp_settings(port, username="phananh", password="s3cret"))
        run_async(lambda: good.send(DAN, message))
        bad = EmailChannel(smtp_settings(port, username="phananh", password="wrong"))
        with pytest.raises(PermanentChannelError, match="login"):
            run_async(lambda: bad.send(DAN, message))
    assert sink.count() == 1


def test_email_failures_are_classified() -> None:
    message = render(sample_notice(), BASE)
    sink = MailSink(refuse={"gone@example.vn"})
    with smtp_server(sink) as (_, port):
        channel = EmailChannel(smtp_settings(port))
        with pytest.raises(PermanentChannelError, match="550"):
            run_async(lambda: channel.send(Recipient(email="gone@example.vn"), message))
        sink.busy = True
        with pytest.raises(ChannelError, match="451") as temporary:
            run_async(lambda: channel.send(DAN, message))
        assert not isinstance(temporary.value, PermanentChannelError)
    closed = EmailChannel(smtp_settings(free_port()))  # nobody listening
    with pytest.raises(ChannelError) as refused:
        run_async(lambda: closed.send(DAN, message))
    assert not isinstance(refused.value, PermanentChannelError)
    assert sink.count() == 0


def test_sms_and_zalo_post_to_their_gateway() -> None:
    message = render(sample_notice(), BASE)
    with gateway_server() as (recorder, url):
        sms = SmsChannel(GatewaySettings(url=f"{url}/sms", api_key="k-sms", sender="TAYHO"))
        zalo = ZaloChannel(GatewaySettings(url=f"{url}/zalo", api_key="k-zalo"))
        run_async(lambda: sms.send(DAN, message))
        run_async(lambda: zalo.send(DAN, message))
        run_async(lambda: sms.send(DAN, message))  # the same again: the same idempotency key
    (p1, h1, sms_body), (p2, h2, zalo_body), (_, h3, _) = recorder.requests
    assert (p1, p2) == ("/sms", "/zalo")
    assert h1["Authorization"] == "Bearer k-sms" and h2["Authorization"] == "Bearer k-zalo"
    assert h1["Idempotency-Key"] == h3["Idempotency-Key"] != h2["Idempotency-Key"]
    assert sms_body["to"] == "+84912345678" and sms_body["text"] == message.short
    assert sms_body["sender"] == "TAYHO" and sms_body["tracking_code"] == "7KQ2M-9XH4T"
    assert zalo_body["text"] == message.body and zalo_body["kind"] == "answered"


def test_gateway_failures_are_classified() -> None:
    message = render(sample_notice(), BASE)
    with gateway_server() as (recorder, url):
        sms = SmsChannel(GatewaySettings(url=url, timeout_s=5))
        recorder.statuses = [503, 429, 400]
        for status in (503, 429):
            with pytest.raises(ChannelError, match=str(status)) as err:
                run_async(lambda: sms.send(DAN, message))
            assert not isinstance(err.value, PermanentChannelError)
        with pytest.raises(PermanentChannelError, match="400"):
            run_async(lambda: sms.send(DAN, message))
    gone = SmsChannel(GatewaySettings(url=f"http://127.0.0.1:{free_port()}/sms", timeout_s=2))
    with pytest.raises(ChannelError) as unreachable:
        run_async(lambda: gone.send(DAN, message))
    assert not isinstance(unreachable.value, PermanentChannelError)
