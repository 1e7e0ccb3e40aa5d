"""Kiosk device tokens and paper batches as events (the real application, in memory)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feedback_core.devices import DeviceError, DevicesApplication, KioskState

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def devices() -> DevicesApplication:
    return DevicesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_enrol_check_and_revoke(devices: DevicesApplication) -> None:
    first = devices.enrol("nhat-tan-q1", NOW, "lanhdao.nhattan", "Máy 1", "canbo.nhattan")
    second = devices.enrol("nhat-tan-q1", NOW, "lanhdao.nhattan")
    assert first.startswith("nhat-tan-q1.1.") and second.startswith("nhat-tan-q1.2.")
    check = devices.check(first)
    assert check.state is KioskState.VALID and check.kiosk is not None
    assert check.kiosk.officer == "canbo.nhattan" and check.kiosk.label == "Máy 1"
    assert first not in repr(devices.kiosks_of("nhat-tan-q1").kiosks)  # type: ignore[union-attr]
    devices.revoke("nhat-tan-q1", 1, NOW, "quantri.nhattan", "Hỏng màn hình")
    assert devices.check(first).state is KioskState.REVOKED
    assert devices.check(second).state is KioskState.VALID
    with pytest.raises(DeviceError):
        devices.revoke("nhat-tan-q1", 1, NOW, "quantri.nhattan", "lần nữa")
    with pytest.raises(DeviceError):
        devices.revoke("nhat-tan-q1", 2, NOW, "quantri.nhattan", "  ")
    with pytest.raises(DeviceError):
        devices.revoke("nhat-tan-q9", 1, NOW, "quantri.nhattan", "không có")


@pytest.mark.parametrize("token", [
    "", "nhat-tan-q1", "nhat-tan-q1.1", "nhat-tan-q1.x.abcdefghijklmnopqrst",
    "nhat-tan-q1.1.abcdefghijklmnopqrstuvwx", "quang-an-q1.1.abcdefghijklmnopqrstuvwx",
])
def test_edited_or_unknown_tokens_are_invalid(devices: DevicesApplication, token: str) -> None:
    devices.enrol("nhat-tan-q1", NOW, "lanhdao.nhattan")
    assert devices.check(token).state is KioskState.INVALID


def test_a_batch_is_recorded_once(devices: DevicesApplication) -> None:
    assert devices.batch("pb-1") is None
    assert devices.record_batch("pb-1", "nhat-tan-q1", date(2026, 11, 19), 12, NOW, "canbo")
    assert not devices.record_batch("pb-1", "nhat-tan-q1", date(2026, 11, 19), 12, NOW, "x")
    batch = devices.batch("pb-1")
    assert batch is not None and batch.actor == "canbo" and batch.cards == 12
    assert batch.day == date(2026, 11, 19)
