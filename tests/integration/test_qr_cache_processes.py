"""The QR check cache against a revocation made by *another process* (its own
application on the same PostgreSQL database, as ``feedback qr revoke`` or a second web
worker): still valid until the cache's bound has passed, refused from then on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from feedback_cli.services import Core, build_web, open_qr_codes
from feedback_cli.wiring import make_publisher
from feedback_core.calendar_app import open_calendar_application
from feedback_core.qr_codes import TokenState, keyring_from_config
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from web.app import create_app
from web.qr_cache import MAX_AGE_SECONDS, QrCheckCache

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_another_process_revocation_takes_effect_within_the_bound(database: Database) -> None:
    keyring = keyring_from_config("", b"integration-secret")
    web, cli = open_qr_codes(database), open_qr_codes(database)
    try:
        now = datetime.now(UTC)
        token = web.ensure_codes(["q1"], keyring, now - timedelta(days=1))["q1"]
        clock = Clock()
        cache = QrCheckCache(web, keyring, clock=clock)
        assert cache.check(token, now).state is TokenState.VALID
        reads = cache.reads

        cli.revoke(token, now - timedelta(seconds=1), "quantri.tayho", "Poster bị dán đè")
        clock.now += MAX_AGE_SECONDS / 2
        assert cache.check(token, now).state is TokenState.VALID  # inside the bound
        assert cache.reads == reads  # answered from memory
        clock.now += MAX_AGE_SECONDS / 2
        assert cache.check(token, now).state is TokenState.REVOKED  # the bound has passed
        assert web.check(token, keyring, now).state is TokenState.REVOKED
    finally:
        web.close()
        cli.close()


def test_the_qr_page_refuses_a_code_revoked_elsewhere_within_the_bound(
    database: Database, tmp_path: Path
) -> None:
    """Through the web app: the code is revoked by another application on the database
    (``feedback qr revoke``); the QR page answers 410 no later than the bound after."""
    settings = Settings(database_url=database.url, secret_key="qr-web", local_dir=tmp_path)
    calendar = open_calendar_application(database)
    core = Core(database, open_cases_application(database, calendar.calendar), calendar)
    services = build_web(settings, core, make_publisher(settings, core.app))
    cli = open_qr_codes(database)
    try:
        with TestClient(create_app(services)) as client:
            token = services.qr_token_of("nhat-tan-q1")
            assert client.get(f"/q/{token}").status_code == 200
            cli.revoke(token, datetime.now(UTC), "quantri.tayho", "Poster bị dán đè")
            revoked_at = time.monotonic()
            while client.get(f"/q/{token}").status_code != 410:
                assert time.monotonic() - revoked_at < MAX_AGE_SECONDS + 0.5
                time.sleep(0.05)
    finally:
        services.shutdown()
        cli.close()
        core.app.close()
        calendar.close()
