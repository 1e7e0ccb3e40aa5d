"""Units of the organisation on the in-memory (POPO) store: changes, refusals, history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from feedback_core.org import AlreadyExists, InvalidChange, NotFound, OrganisationApplication
from feedback_core.org.aggregates import Unit
from feedback_core.org.directory import (
    directory_as_of,
    head_of,
    responsible_unit,
    successor_of,
    unit_history,
)
from feedback_core.org.history import HIDDEN, staff_history
from feedback_core.org.passwords import hash_password
from feedback_core.org.structure import check_tree

START = date(2024, 1, 1)
REFORM = date(2025, 7, 1)  # Hà Nội's two-level local government
DECISION = "Nghị quyết 1656/NQ-UBTVQH15"
ADMIN = "quantri.tayho"


def popo_app() -> OrganisationApplication:
    return OrganisationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password("demo-2026")


def small_tree(password_hash: str) -> OrganisationApplication:
    """Tây Hồ district with two wards, an office and a counter each, and a head."""
    app = popo_app()
    with app.changes("system") as c:
        c.create_unit("tay-ho", name_vi="UBND quận Tây Hồ", name_en="Tây Hồ District",
                      level="district", parent_id=None, effective_on=START)
        for ward, name in (("nhat-tan", "Nhật Tân"), ("quang-an", "Quảng An")):
            c.create_unit(ward, name_vi=f"UBND phường {name}", name_en=f"{name} Ward",
                          level="ward", parent_id="tay-ho", effective_on=START)
            c.create_unit(f"{ward}-mc", name_vi=f"Một cửa {name}", name_en=f"{name} office",
                          level="office", parent_id=ward, effective_on=START)
            c.create_counter(f"{ward}-q1", office_id=f"{ward}-mc", name_vi="Quầy 1",
                             name_en="Counter 1", effective_on=START)
        c.register_staff("lanhdao.tayho", display_name="Phạm Quốc Hùng", role="head",
                         unit_id="tay-ho", password_hash=password_hash, effective_on=START)
        c.appoint_head("tay-ho", username="lanhdao.tayho", effective_on=START)
    return app


@pytest.fixture
def app(password_hash: str) -> OrganisationApplication:
    return small_tree(password_hash)


def new_ward(app: OrganisationApplication, unit_id: str = "tay-ho-moi") -> None:
    app.create_unit(unit_id, name_vi="UBND phường Tây Hồ", name_en="Tây Hồ Ward",
                    level="ward", parent_id=None, effective_on=REFORM, actor=ADMIN)


def test_units_are_addressed_by_their_string_id(app: OrganisationApplication) -> None:
    unit = app.unit("nhat-tan")
    assert isinstance(unit, Unit)
    assert (unit.unit_id, unit.level, unit.parent_id) == ("nhat-tan", "ward", "tay-ho")
    with pytest.raises(NotFound):
        app.unit("no-such-ward")
    with pytest.raises(AlreadyExists):
        app.create_unit("nhat-tan", name_vi="x", name_en="x", level="ward", parent_id=None,
                        effective_on=START, actor=ADMIN)


def test_a_rename_shows_the_old_name_before_its_date(app: OrganisationApplication) -> None:
    renamed_on = date(2024, 6, 1)
    app.rename_unit("nhat-tan", name_vi="UBND phường Nhật Tân (mới)", name_en="Nhật Tân (new)",
                    effective_on=renamed_on, actor=ADMIN, reason="đổi tên")
    before = directory_as_of(app, renamed_on - timedelta(days=1)).units["nhat-tan"]
    after = directory_as_of(app, renamed_on).units["nhat-tan"]
    assert before.name_vi == "UBND phường Nhật Tân"
    assert after.name_vi == "UBND phường Nhật Tân (mới)"
    assert after.name_en == "Nhật Tân (new)"


def test_history_says_who_changed_what_from_when(app: OrganisationApplication) -> None:
    app.rename_unit("quang-an", name_vi="Quảng An mới", name_en="New Quảng An",
                    effective_on=date(2024, 3, 1), actor=ADMIN, reason="Quyết định 12")
    created, renamed = unit_history(app, "quang-an")
    assert (created.change, created.effective_on, created.actor) == ("Created", START, "system")
    assert created.details["parent_id"] == "tay-ho"
    assert renamed.change == "Renamed" and renamed.effective_on == date(2024, 3, 1)
    assert (renamed.actor, renamed.reason) == (ADMIN, "Quyết định 12")
    assert renamed.details == {"name_vi": "Quảng An mới", "name_en": "New Quảng An"}
    assert "Quyết định 12" in renamed.describe()
    with pytest.raises(NotFound):
        unit_history(app, "nowhere")


def test_merger_closes_the_unit_and_names_its_successor(app: OrganisationApplication) -> None:
    new_ward(app)
    app.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=REFORM, actor=ADMIN,
                   reason=DECISION)
    day_before = REFORM - timedelta(days=1)
    assert successor_of(app, "nhat-tan", day_before) is None
    assert successor_of(app, "nhat-tan", REFORM) == "tay-ho-moi"
    assert responsible_unit(app, "nhat-tan", day_before) == "nhat-tan"
    assert responsible_unit(app, "nhat-tan", REFORM) == "tay-ho-moi"
    assert successor_of(app, "quang-an", REFORM) is None

    before, after = directory_as_of(app, day_before), directory_as_of(app, REFORM)
    assert "nhat-tan" in before.units and "tay-ho-moi" not in before.units
    assert "nhat-tan" not in after.units and "tay-ho-moi" in after.units
    # Its office and counters close with it: a QR code there no longer takes submissions.
    assert "nhat-tan-mc" not in after.offices and "nhat-tan-q1" not in after.counters
    assert "nhat-tan-q1" in before.counters
    retired = directory_as_of(app, REFORM, include_retired=True)
    merged = retired.units["nhat-tan"]
    assert merged.closed and merged.successor_id == "tay-ho-moi"
    assert retired.offices["nhat-tan-mc"].closed and retired.counters["nhat-tan-q1"].closed
    assert not retired.units["tay-ho-moi"].closed
    history = unit_history(app, "nhat-tan")
    assert history[-1].change == "MergedInto" and history[-1].reason == DECISION


def test_successor_follows_a_chain_of_mergers(app: OrganisationApplication) -> None:
    new_ward(app)
    new_ward(app, "tay-ho-2")
    later = date(2026, 1, 1)
    app.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=REFORM, actor=ADMIN,
                   reason=DECISION)
    app.merge_unit("tay-ho-moi", into="tay-ho-2", effective_on=later, actor=ADMIN,
                   reason="second merger")
    assert successor_of(app, "nhat-tan", REFORM) == "tay-ho-moi"
    assert successor_of(app, "nhat-tan", later) == "tay-ho-2"
    assert responsible_unit(app, "nhat-tan", later) == "tay-ho-2"


def test_closing_a_district_needs_its_wards_moved_first(app: OrganisationApplication) -> None:
    new_ward(app)
    with pytest.raises(InvalidChange, match="'nhat-tan' would still be under 'tay-ho'"):
        app.close_unit("tay-ho", effective_on=REFORM, actor=ADMIN, reason=DECISION)
    with app.changes(ADMIN) as c:  # the reform as one decision: all or nothing
        c.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=REFORM, reason=DECISION)
        c.merge_unit("quang-an", into="tay-ho-moi", effective_on=REFORM, reason=DECISION)
        c.close_unit("tay-ho", effective_on=REFORM, reason=DECISION)
    after = directory_as_of(app, REFORM)
    assert sorted(after.units) == ["tay-ho-moi"]
    assert responsible_unit(app, "tay-ho", REFORM) is None  # abolished without successor
    assert successor_of(app, "tay-ho", REFORM) is None
    before = directory_as_of(app, date(2025, 6, 30))
    assert before.subtree("tay-ho") == ["tay-ho", "nhat-tan", "quang-an"]


def test_a_refused_batch_saves_nothing(app: OrganisationApplication) -> None:
    new_ward(app)
    position = app.recorder.max_notification_id()
    with pytest.raises(InvalidChange), app.changes(ADMIN) as c:
        c.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=REFORM, reason=DECISION)
        c.close_unit("tay-ho", effective_on=REFORM, reason=DECISION)  # quang-an still under it
    assert app.recorder.max_notification_id() == position
    assert not app.unit("nhat-tan").is_closed


def test_a_batch_that_swallowed_a_refusal_saves_nothing(app: OrganisationApplication) -> None:
    new_ward(app)
    position = app.recorder.max_notification_id()
    with pytest.raises(InvalidChange, match="this batch saves nothing"), app.changes(ADMIN) as c:
        c.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=REFORM, reason=DECISION)
        with pytest.raises(InvalidChange):
            c.rename_unit("nhat-tan", name_vi="X", name_en="X", effective_on=REFORM)
    assert app.recorder.max_notification_id() == position


def test_a_future_closure_blocks_moving_a_unit_under_it(app: OrganisationApplication) -> None:
    new_ward(app)
    app.move_unit("nhat-tan", parent_id=None, effective_on=REFORM, actor=ADMIN, reason=DECISION)
    app.move_unit("quang-an", parent_id=None, effective_on=REFORM, actor=ADMIN, reason=DECISION)
    app.close_unit("tay-ho", effective_on=REFORM, actor=ADMIN, reason=DECISION)
    with pytest.raises(InvalidChange, match="closed"):
        app.create_unit("yen-phu", name_vi="Yên Phụ", name_en="Yên Phụ", level="ward",
                        parent_id="tay-ho", effective_on=date(2025, 1, 1), actor=ADMIN)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda a: a.rename_unit("nhat-tan", name_vi="X", name_en="X", effective_on=REFORM,
                                 actor=ADMIN), "closed"),
        (lambda a: a.merge_unit("quang-an", into="nhat-tan", effective_on=REFORM, actor=ADMIN,
                                reason=DECISION), "closed"),
        (lambda a: a.merge_unit("nhat-tan", into="quang-an", effective_on=REFORM, actor=ADMIN,
                                reason=DECISION), "closed"),
        (lambda a: a.close_unit("nhat-tan", effective_on=REFORM, actor=ADMIN, reason="again"),
         "closed"),
        (lambda a: a.appoint_head("nhat-tan", username="lanhdao.tayho", effective_on=REFORM,
                                  actor=ADMIN), "closed"),
    ],
)
def test_a_closed_unit_takes_no_more_changes(
    app: OrganisationApplication, command: object, message: str
) -> None:
    app.close_unit("nhat-tan", effective_on=REFORM, actor=ADMIN, reason=DECISION)
    with pytest.raises(InvalidChange, match=message):
        command(app)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda a: a.merge_unit("nhat-tan", into="nhat-tan", effective_on=REFORM, actor=ADMIN,
                                reason=DECISION), "into itself"),
        (lambda a: a.merge_unit("nhat-tan", into="quang-an-mc", effective_on=REFORM,
                                actor=ADMIN, reason=DECISION), "cannot be merged into"),
        (lambda a: a.merge_unit("nhat-tan", into="quang-an", effective_on=REFORM, actor=ADMIN,
                                reason=" "), "needs a reason"),
        (lambda a: a.merge_unit("nhat-tan", into="quang-an", effective_on=date(2023, 1, 1),
                                actor=ADMIN, reason=DECISION), "exists only from"),
        (lambda a: a.move_unit("tay-ho", parent_id="nhat-tan", effective_on=REFORM, actor=ADMIN,
                               reason="cycle"), "a ward .* cannot hold a district"),
        (lambda a: a.move_unit("nhat-tan", parent_id="nhat-tan", effective_on=REFORM,
                               actor=ADMIN, reason="self"), "its own parent"),
        (lambda a: a.create_unit("q1", name_vi="Q", name_en="Q", level="ward",
                                 parent_id="nhat-tan-mc", effective_on=REFORM, actor=ADMIN),
         "is an office"),
        (lambda a: a.create_unit("Bad Id", name_vi="Q", name_en="Q", level="ward",
                                 parent_id=None, effective_on=REFORM, actor=ADMIN), "id"),
        (lambda a: a.create_unit("x", name_vi="Q", name_en="Q", level="province",
                                 parent_id=None, effective_on=REFORM, actor=ADMIN),
         "unknown level"),
        (lambda a: a.create_unit("x-mc", name_vi="Q", name_en="Q", level="office",
                                 parent_id=None, effective_on=REFORM, actor=ADMIN),
         "must belong to a unit"),
        (lambda a: a.rename_unit("nhat-tan", name_vi="", name_en="X", effective_on=REFORM,
                                 actor=ADMIN), "a name is needed"),
        (lambda a: a.rename_unit("nhat-tan", name_vi="X", name_en="X", effective_on=REFORM,
                                 actor=""), "actor"),
        (lambda a: a.create_counter("q9", office_id="nhat-tan", name_vi="Q", name_en="Q",
                                    effective_on=REFORM, actor=ADMIN), "belongs to an office"),
    ],
)
def test_invalid_changes_are_refused(
    app: OrganisationApplication, command: object, message: str
) -> None:
    position = app.recorder.max_notification_id()
    with pytest.raises(InvalidChange, match=message):
        command(app)  # type: ignore[operator]
    assert app.recorder.max_notification_id() == position


def test_history_is_added_to_not_rewritten(app: OrganisationApplication) -> None:
    app.rename_unit("nhat-tan", name_vi="A", name_en="A", effective_on=REFORM, actor=ADMIN)
    with pytest.raises(InvalidChange, match="history is not rewritten"):
        app.rename_unit("nhat-tan", name_vi="B", name_en="B", effective_on=date(2025, 1, 1),
                        actor=ADMIN)


def test_a_cycle_of_parents_is_refused_by_the_tree_check() -> None:
    # Level ranks already rule cycles out in commands; the tree check is the second guard.
    a = Unit(unit_id="a", name_vi="A", name_en="A", level="ward", parent_id="b",
             effective_on=START, actor="system", reason="")
    b = Unit(unit_id="b", name_vi="B", name_en="B", level="ward", parent_id="a",
             effective_on=START, actor="system", reason="")
    with pytest.raises(InvalidChange, match="cycle"):
        check_tree({"a": a, "b": b}, START)


def test_the_head_on_a_date(app: OrganisationApplication, password_hash: str) -> None:
    app.register_staff("chutich.moi", display_name="Ngô Thị Mai", role="head", unit_id="tay-ho",
                       password_hash=password_hash, effective_on=START, actor=ADMIN)
    handover = date(2025, 3, 1)
    app.appoint_head("tay-ho", username="chutich.moi", effective_on=handover, actor=ADMIN,
                     reason="Quyết định bổ nhiệm 45")
    assert head_of(app, "tay-ho", START - timedelta(days=1)) is None
    assert head_of(app, "tay-ho", handover - timedelta(days=1)) == "lanhdao.tayho"
    assert head_of(app, "tay-ho", handover) == "chutich.moi"
    assert directory_as_of(app, START).units["tay-ho"].head == "lanhdao.tayho"
    assert directory_as_of(app, handover).units["tay-ho"].head == "chutich.moi"
    app.vacate_head("tay-ho", effective_on=date(2025, 5, 1), actor=ADMIN, reason="nghỉ hưu")
    assert head_of(app, "tay-ho", date(2025, 5, 1)) is None
    assert head_of(app, "tay-ho", date(2025, 4, 30)) == "chutich.moi"
    app.deactivate_staff("lanhdao.tayho", effective_on=date(2025, 6, 1), actor=ADMIN,
                         reason="chuyển công tác")
    with pytest.raises(InvalidChange, match="not an active staff member"):
        app.appoint_head("tay-ho", username="lanhdao.tayho", effective_on=date(2025, 6, 2),
                         actor=ADMIN)
    with pytest.raises(InvalidChange, match="is an office"):
        app.appoint_head("nhat-tan-mc", username="chutich.moi", effective_on=REFORM, actor=ADMIN)


def test_staff_history_hides_password_hashes(app: OrganisationApplication) -> None:
    app.set_password("lanhdao.tayho", password_hash=hash_password("a-new-secret"), actor=ADMIN)
    registered, changed = staff_history(app, "lanhdao.tayho")
    assert registered.details["password_hash"] == HIDDEN
    assert changed.change == "PasswordChanged" and changed.details["password_hash"] == HIDDEN
    assert "$argon2" not in registered.describe() + changed.describe()


def test_counters_rename_and_close(app: OrganisationApplication) -> None:
    on = date(2025, 2, 1)
    app.rename_counter("quang-an-q1", name_vi="Quầy 1 – Hộ tịch", name_en="Counter 1 – Civil",
                       effective_on=on, actor=ADMIN)
    app.close_counter("quang-an-q1", effective_on=REFORM, actor=ADMIN, reason="sáp nhập quầy")
    assert directory_as_of(app, on - timedelta(days=1)).counters["quang-an-q1"].name_vi == "Quầy 1"
    assert directory_as_of(app, on).counters["quang-an-q1"].name_vi == "Quầy 1 – Hộ tịch"
    assert "quang-an-q1" not in directory_as_of(app, REFORM).counters
    with pytest.raises(InvalidChange, match="closed"):
        app.rename_counter("quang-an-q1", name_vi="Q", name_en="Q", effective_on=REFORM,
                           actor=ADMIN)
    with pytest.raises(AlreadyExists):
        app.create_counter("quang-an-q1", office_id="quang-an-mc", name_vi="Q", name_en="Q",
                           effective_on=REFORM, actor=ADMIN)


def test_nothing_exists_before_it_was_created(app: OrganisationApplication) -> None:
    empty = directory_as_of(app, START - timedelta(days=1))
    assert not empty.units and not empty.offices and not empty.counters and not empty.staff
