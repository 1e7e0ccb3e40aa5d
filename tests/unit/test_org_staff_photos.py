"""Staff photos and the unit's "show officers' photos on kiosks" setting, as organisation
events with effective dates (in-memory store), and a log written before they existed."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from eventsourcing.persistence import StoredEvent

from feedback_core.org import InvalidChange, OrganisationApplication
from feedback_core.org.history import staff_history, unit_history
from feedback_core.org.rules import staff_aggregate_id, unit_aggregate_id
from tests.unit import test_org_staff
from tests.unit.test_org_units import ADMIN, START, popo_app

PHOTO = hashlib.sha256(b"photo one").hexdigest()
OTHER = hashlib.sha256(b"photo two").hexdigest()
DAY = date(2026, 3, 2)


# The fixtures of the staff tests: the small tree with the handler canbo.nhattan.
password_hash = test_org_staff.password_hash
app = test_org_staff.app


def test_a_photo_is_set_replaced_and_removed_on_dates(app: OrganisationApplication) -> None:
    assert app.staff_member("canbo.nhattan").photo is None
    app.set_staff_photo("canbo.nhattan", sha256=PHOTO, effective_on=DAY, actor=ADMIN)
    app.set_staff_photo("canbo.nhattan", sha256=OTHER, effective_on=date(2026, 4, 1),
                        actor=ADMIN, reason="Ảnh mới")
    app.remove_staff_photo("canbo.nhattan", effective_on=date(2026, 5, 1), actor=ADMIN)
    member = app.staff_member("canbo.nhattan")
    assert member.photo is None
    assert member.photo_on(date(2026, 3, 1)) is None
    assert member.photo_on(DAY) == PHOTO
    assert member.photo_on(date(2026, 4, 15)) == OTHER
    assert member.photo_on(date(2026, 5, 1)) is None
    history = [(e.change, e.actor, e.details.get("sha256")) for e in
               staff_history(app, "canbo.nhattan")][-3:]
    assert history == [("PhotoSet", ADMIN, PHOTO), ("PhotoSet", ADMIN, OTHER),
                       ("PhotoRemoved", ADMIN, None)]


def test_photo_changes_are_checked(app: OrganisationApplication) -> None:
    with pytest.raises(InvalidChange, match="SHA-256"):
        app.set_staff_photo("canbo.nhattan", sha256="not-a-hash", effective_on=DAY, actor=ADMIN)
    with pytest.raises(InvalidChange, match="no photo"):
        app.remove_staff_photo("canbo.nhattan", effective_on=DAY, actor=ADMIN)
    app.set_staff_photo("canbo.nhattan", sha256=PHOTO, effective_on=DAY, actor=ADMIN)
    with pytest.raises(InvalidChange, match="already has this photo"):
        app.set_staff_photo("canbo.nhattan", sha256=PHOTO, effective_on=DAY, actor=ADMIN)
    with pytest.raises(InvalidChange, match="history is not rewritten"):
        app.set_staff_photo("canbo.nhattan", sha256=OTHER, effective_on=START, actor=ADMIN)
    app.deactivate_staff("canbo.nhattan", effective_on=date(2026, 6, 1), actor=ADMIN,
                         reason="Nghỉ hưu")
    with pytest.raises(InvalidChange, match="not an active staff member"):
        app.set_staff_photo("canbo.nhattan", sha256=OTHER, effective_on=date(2026, 6, 2),
                            actor=ADMIN)


def test_the_kiosk_setting_is_off_by_default_and_follows_its_dates(
    app: OrganisationApplication,
) -> None:
    assert not app.unit("nhat-tan").shows_kiosk_photos
    app.set_kiosk_photos("nhat-tan", show=True, effective_on=DAY, actor=ADMIN)
    app.set_kiosk_photos("nhat-tan", show=False, effective_on=date(2026, 4, 1), actor=ADMIN,
                         reason="Ý kiến cán bộ")
    unit = app.unit("nhat-tan")
    assert not unit.shows_kiosk_photos
    assert [unit.shows_kiosk_photos_on(d) for d in
            (date(2026, 3, 1), DAY, date(2026, 3, 31), date(2026, 4, 1))] == [
        False, True, True, False]
    assert not app.unit("quang-an").shows_kiosk_photos
    changes = [(e.change, e.details["show"]) for e in unit_history(app, "nhat-tan")
               if e.change == "KioskPhotosChanged"]
    assert changes == [("KioskPhotosChanged", True), ("KioskPhotosChanged", False)]


def test_the_kiosk_setting_is_checked(app: OrganisationApplication) -> None:
    with pytest.raises(InvalidChange, match="already has this kiosk setting"):
        app.set_kiosk_photos("nhat-tan", show=False, effective_on=DAY, actor=ADMIN)
    with pytest.raises(InvalidChange, match="office"):
        app.set_kiosk_photos("nhat-tan-mc", show=True, effective_on=DAY, actor=ADMIN)
    app.close_unit("quang-an", effective_on=DAY, actor=ADMIN, reason="Giải thể")
    with pytest.raises(InvalidChange, match="closed"):
        app.set_kiosk_photos("quang-an", show=True, effective_on=DAY, actor=ADMIN)


# Events exactly as the version before photos stored them (JSON, dates as ISO strings).
OLD_UNIT = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2025-01-02T03:04:05+00:00"},'
    b'"originator_topic":"feedback_core.org.units:Unit","unit_id":"nhat-tan",'
    b'"name_vi":"UBND ph\xc6\xb0\xe1\xbb\x9dng Nh\xe1\xba\xadt T\xc3\xa2n",'
    b'"name_en":"Nhat Tan Ward","level":"ward","parent_id":null,'
    b'"effective_on":{"_type_":"date_iso","_data_":"2024-01-01"},"actor":"system","reason":""}'
)


def old_member(password_hash: str) -> bytes:
    return (
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2025-01-02T03:04:06+00:00"},'
        '"originator_topic":"feedback_core.org.staff:StaffMember","username":"canbo.nhattan",'
        '"display_name":"Lan","role":"handler","unit_id":"nhat-tan",'
        f'"password_hash":"{password_hash}",'
        '"effective_on":{"_type_":"date_iso","_data_":"2024-01-01"},"actor":"system",'
        '"reason":""}'
    ).encode()


def test_a_log_from_before_photos_loads_and_takes_the_new_events(password_hash: str) -> None:
    app = popo_app()
    app.recorder.insert_events([
        StoredEvent(unit_aggregate_id("nhat-tan"), 1, "feedback_core.org.units:Unit.Created",
                    OLD_UNIT),
        StoredEvent(staff_aggregate_id("canbo.nhattan"), 1,
                    "feedback_core.org.staff:StaffMember.Registered",
                    old_member(password_hash)),
    ])
    state = app.state()
    assert state.staff["canbo.nhattan"].photo is None
    assert not state.units["nhat-tan"].shows_kiosk_photos_on(DAY)
    app.set_staff_photo("canbo.nhattan", sha256=PHOTO, effective_on=DAY, actor=ADMIN)
    app.set_kiosk_photos("nhat-tan", show=True, effective_on=DAY, actor=ADMIN)
    again = app.state()
    assert again.staff["canbo.nhattan"].photo_on(DAY) == PHOTO
    assert again.units["nhat-tan"].shows_kiosk_photos_on(DAY)
