"""A citizen's phone number, e-mail address and complaint text never reach the logs or
Sentry. Submissions go through the web app and the in-process intake with every logger at
DEBUG, and the real ``sentry_sdk`` is initialised by ``init_sentry`` with a transport that
keeps the envelopes it would send; then error paths run (the intake log failing, a page
crashing) and neither the log records nor the envelopes hold any of the personal data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from feedback_cli.wiring import init_sentry
from feedback_core.settings import Settings
from tests.security.conftest import SecurityApp, build_security_app

PHONE = "0912 345 678"
PHONE_DIGITS = "912345678"
EMAIL = "nguyen.thi.lan@example.vn"
TEXT = "Ông Trần Văn Bảo ở quầy số 3 đòi hai trăm nghìn đồng mới nhận hồ sơ"
SECRETS = [PHONE, PHONE_DIGITS, EMAIL, "nguyen.thi.lan", "Trần Văn Bảo", "hai trăm nghìn"]


class CapturingTransport(Transport):
    """Keeps every envelope instead of sending it (the real SDK builds them all the same)."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def text(self) -> str:
        return "\n".join(
            item.get_bytes().decode("utf-8", "replace")
            for envelope in self.envelopes for item in envelope.items
        )


class FailingPublisher:
    """The intake log refusing every submission, as a broken broker connection would."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, submission: object) -> None:
        raise ConnectionError("the intake log is unreachable")

    def describe(self) -> dict[str, object]:
        return {"kind": "failing"}


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    capturing = CapturingTransport()
    init_sentry(Settings(sentry_dsn="https://public@sentry.example/1"), transport=capturing)
    try:
        yield capturing
    finally:
        sentry_sdk.flush(timeout=2)
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: off again for the other tests


def form() -> dict[str, str]:
    return {"submission_id": str(uuid4()), "rating": "1", "category": "harassment",
            "description": TEXT, "contact": f"{PHONE}", "consent": "1"}


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]


def test_personal_data_stays_out_of_logs_and_sentry(
    transport: CapturingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secured: SecurityApp = build_security_app()
    token = secured.services.qr_token_of("nhat-tan-q1")
    with TestClient(secured.app, follow_redirects=False) as client:
        accepted = client.post(f"/q/{token}", data=form())  # the in-process intake
        assert accepted.status_code == 303
        by_email = client.post(f"/q/{token}", data={**form(), "contact": EMAIL})
        assert by_email.status_code == 303

        secured.services.publisher = FailingPublisher()  # an error path: the log is down
        refused = client.post(f"/q/{token}", data=form())
        assert refused.status_code == 503

        sentry_sdk.capture_message(f"a message naming {PHONE} and {EMAIL}")  # scrubbed too
    sentry_sdk.flush(timeout=2)

    assert transport.envelopes, "the error path reached Sentry"
    assert "ConnectionError" in transport.text()
    assert leaks(transport.text()) == [], transport.text()[:3000]
    logged = "\n".join(
        f"{r.getMessage()}\n{r.exc_text or ''}\n{r.__dict__}" for r in caplog.records
    )
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    assert leaks(logged) == [], logged[:3000]
    assert secured.store.recorder.max_notification_id() == 4  # the two accepted, kept


def test_an_unexpected_crash_is_scrubbed_too(transport: CapturingTransport) -> None:
    secured = build_security_app()
    token = secured.services.qr_token_of("nhat-tan-q1")

    class Exploding(FailingPublisher):
        async def publish(self, submission: object) -> None:
            raise RuntimeError(f"cannot encode {submission!r}")  # the worst case: data inside

    secured.services.publisher = Exploding()
    with TestClient(secured.app, follow_redirects=False, raise_server_exceptions=False) as c:
        assert c.post(f"/q/{token}", data=form()).status_code in (500, 503)
    sentry_sdk.flush(timeout=2)
    assert "RuntimeError" in transport.text()
    assert leaks(transport.text()) == [], transport.text()[:3000]
