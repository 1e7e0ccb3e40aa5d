"""The devices log (kiosk enrolments and revocations, paper-card batches; application
``devices``) is chained like every other log: ``feedback audit verify`` covers it and names
an enrolment altered or a batch deleted by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from feedback_cli.audit_commands import audit_main
from feedback_cli.services import open_devices
from feedback_core.devices import DevicesApplication
from feedback_core.settings import Settings
from feedback_core.store import Database
from projections.audit_chain import APPLICATIONS
from tests.support.audit import chain_heads, verify

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(database_url=database.url, local_dir=tmp_path)


@pytest.fixture
def devices(database: Database) -> Iterator[DevicesApplication]:
    application = open_devices(database)
    yield application
    application.close()


def record_device_history(devices: DevicesApplication) -> None:
    """Four events: a counter's kiosks opened with one enrolment, its revocation, a batch."""
    devices.enrol("nhat-tan-q1", AT, "lanhdao.nhattan", "Máy 1", "canbo.nhattan")
    devices.revoke("nhat-tan-q1", 1, AT, "lanhdao.nhattan", "Máy hỏng")
    assert devices.record_batch("pb-" + "0" * 24, "nhat-tan-q1", date(2026, 11, 20), 12, AT,
                                "canbo.nhattan")


def test_devices_is_one_of_the_chained_applications() -> None:
    assert "devices" in APPLICATIONS


def test_the_devices_log_is_chained_and_verified(
    devices: DevicesApplication, settings: Settings, database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_device_history(devices)
    assert audit_main(["audit", "checkpoint"], settings) == 0
    heads = chain_heads(database)
    assert heads["devices"] == 4
    code, out = verify(settings, capsys)
    assert code == 0, out
    assert "devices: 4 events" in out


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        # the enrolment now names another officer shown on the kiosk
        ("UPDATE devices_events SET state = replace(convert_from(state, 'UTF8'), "
         "'canbo.nhattan', 'canbo.quangan')::bytea WHERE notification_id = 2", "altered"),
        ("DELETE FROM devices_events WHERE notification_id = 3", "deleted"),  # the revocation,
    ],
)
def test_a_tampered_device_record_is_named(  # noqa: PLR0913
    devices: DevicesApplication, settings: Settings, database: Database,
    capsys: pytest.CaptureFixture[str], statement: str, kind: str,
) -> None:
    record_device_history(devices)
    assert audit_main(["audit", "checkpoint"], settings) == 0
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]
    code, out = verify(settings, capsys)
    assert code == 1, out
    nid = 2 if kind == "altered" else 3
    assert f"first broken link: devices #{nid}: {kind}" in out
