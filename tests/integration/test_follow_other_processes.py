"""A web process follows what other processes save (another web worker, the command
line): a counter renamed and a new QR code issued elsewhere show in this process's
directory and home-page tokens within about a second, without an admin change here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedback_cli.services import (
    Core,
    build_web,
    follow_other_processes,
    open_qr_codes,
)
from feedback_cli.wiring import make_publisher, open_organisation
from feedback_core.calendar_app import open_calendar_application
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import wait_until

pytestmark = pytest.mark.integration


def test_changes_saved_by_another_process_reach_this_web_process(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings(database_url=database.url, secret_key="follow-secret", local_dir=tmp_path)
    calendar = open_calendar_application(database)
    core = Core(database, open_cases_application(database, calendar.calendar), calendar)
    services = build_web(settings, core, make_publisher(settings, core.app))
    other_org, other_qr = open_organisation(settings, database), open_qr_codes(database)
    try:
        follow_other_processes(services, every=0.1)
        old_token = services.qr_token_of("nhat-tan-q1")
        today = datetime.now(UTC).date()

        other_org.rename_counter(
            "nhat-tan-q1",
            name_vi="Quầy số Một",
            name_en="Desk One",
            effective_on=today,
            actor="quantri.tayho",
        )
        wait_until(
            lambda: services.organisation.counters["nhat-tan-q1"].name_vi == "Quầy số Một",
            10,
            "the rename seen by the web process",
        )

        keyring = services.qr()[1]
        new_token = other_qr.issue("nhat-tan-q1", keyring, datetime.now(UTC), "quantri.tayho")
        assert new_token != old_token
        wait_until(
            lambda: services.qr_token_of("nhat-tan-q1") == new_token,
            10,
            "the new QR code shown by the web process",
        )
    finally:
        services.shutdown()
        other_org.close()
        other_qr.close()
        core.app.close()
        calendar.close()
