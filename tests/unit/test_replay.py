"""Replay of a case for an inspector: the state after each step, and the case as of a moment."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.replay import as_of, related_cases, replay
from feedback_core.roles import Actor, Role
from tests.web.web_doubles import NOW, open_case

HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def steps_of(app: CasesApplication, case_id: UUID) -> list:  # type: ignore[type-arg]
    return replay(list(app.events.get(case_id)), lambda v: app.repository.get(case_id, version=v))


def worked_case() -> tuple[CasesApplication, UUID, UUID]:
    app = CasesApplication(env=POPO)
    case_id, _ = open_case(app, days_ago=3)
    other_id, _ = open_case(app, days_ago=2)
    case: Case = app.repository.get(case_id)
    t = NOW - timedelta(days=2)
    case.accept(HEAD, t, "", "standard", date(2026, 11, 21), date(2026, 12, 5))
    case.assign(HEAD, t + timedelta(hours=1), "canbo.nhattan", "")
    case.request_transfer(HEAD, t + timedelta(hours=2), "quang-an", "wrong ward")
    case.accept_transfer(HEAD, t + timedelta(hours=3), "")
    app.save(case)
    dup: Case = app.repository.get(other_id)
    primary: Case = app.repository.get(case_id)
    dup.merge_into(HEAD, t + timedelta(hours=4), primary, "same complaint")
    primary.absorb(HEAD, t + timedelta(hours=4), dup, "same complaint")
    app.save(dup, primary)
    return app, case_id, other_id


def test_state_after_each_step() -> None:
    app, case_id, other_id = worked_case()
    steps = steps_of(app, case_id)
    assert [s.event_type for s in steps] == [
        "Received", "Accepted", "Assigned", "TransferRequested", "TransferAccepted",
        "DuplicateAbsorbed",
    ]
    assert [s.version for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s.state.status for s in steps] == ["received"] + ["accepted"] * 5
    assert [s.state.assignee for s in steps] == [None, None, "canbo.nhattan", "canbo.nhattan",
                                                  None, None]
    assert [s.state.unit_id for s in steps] == ["nhat-tan"] * 4 + ["quang-an"] * 2
    assert steps[3].state.pending_transfer == "quang-an"
    assert steps[4].state.pending_transfer is None
    assert steps[1].state.due_on == date(2026, 12, 5)
    assert steps[0].actor_role == "citizen" and steps[0].channel == "qr"
    assert (steps[1].actor, steps[1].actor_role, steps[1].actor_unit) == (
        "lanhdao.tayho", "head", "tay-ho")
    assert steps[3].reason == "wrong ward"
    assert steps[4].links[0].from_unit == "nhat-tan" and steps[4].links[0].to_unit == "quang-an"
    assert all(s.recorded_at.tzinfo is not None for s in steps)
    assert [link.case_id for link in related_cases(steps)] == [other_id]
    dup_steps = steps_of(app, other_id)
    assert dup_steps[-1].state.status == "merged"
    assert dup_steps[-1].state.merged_into == case_id


def test_the_case_as_of_a_moment() -> None:
    app, case_id, _ = worked_case()
    steps = steps_of(app, case_id)
    t = NOW - timedelta(days=2)
    assert as_of(steps, NOW - timedelta(days=10)) is None  # not yet received
    assert as_of(steps, t - timedelta(minutes=1)).version == 1  # type: ignore[union-attr]
    at_assign = as_of(steps, t + timedelta(hours=1, minutes=30))
    assert at_assign is not None and at_assign.version == 3
    assert at_assign.state.assignee == "canbo.nhattan" and at_assign.state.unit_id == "nhat-tan"
    assert as_of(steps, NOW).version == 6  # type: ignore[union-attr]
