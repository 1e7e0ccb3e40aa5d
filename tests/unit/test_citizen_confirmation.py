"""The citizen's "Đã giải quyết" on the tracking page: one CitizenConfirmed event on the
case, recorded once per answer, public on the timeline (in-memory store, real domain)."""

from __future__ import annotations

from uuid import UUID

import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case, CaseStatus, InvalidTransition
from feedback_core.handling import CaseDesk
from feedback_core.permissions import Action
from projections.case_workflow import fold_patches, timeline_row
from tests.unit.test_case_workflow import LAN, MONDAY, new_case, step


def answered_case(app: CasesApplication, desk: CaseDesk) -> UUID:
    cid = new_case(app)
    step(desk, cid, LAN, Action.ACCEPT)
    step(desk, cid, LAN, Action.CLAIM)
    step(desk, cid, LAN, Action.ANSWER, text="Đã trả hồ sơ.")
    return cid


def confirmations(app: CasesApplication, cid: UUID) -> list[Case.CitizenConfirmed]:
    return [e for e in app.events.get(cid) if isinstance(e, Case.CitizenConfirmed)]


def test_a_confirmation_is_one_event_however_often_it_is_tapped(
    app: CasesApplication, desk: CaseDesk
) -> None:
    cid = answered_case(app, desk)
    first = desk.confirm_resolved(cid, MONDAY)
    assert first is not None
    assert desk.confirm_resolved(cid, MONDAY) is None  # nothing saved the second time
    [event] = confirmations(app, cid)
    assert (event.answer, event.actor, event.actor_role) == ("resolved", "citizen", "citizen")
    case: Case = app.repository.get(cid)
    assert case.status is CaseStatus.ANSWERED  # the handler still resolves it
    assert step(desk, cid, LAN, Action.RESOLVE).status is CaseStatus.RESOLVED


def test_only_an_answered_or_resolved_case_can_be_confirmed(
    app: CasesApplication, desk: CaseDesk
) -> None:
    cid = new_case(app)
    with pytest.raises(InvalidTransition, match="it is received"):
        desk.confirm_resolved(cid, MONDAY)
    answered = answered_case(app, desk)
    step(desk, answered, LAN, Action.RESOLVE)
    assert desk.confirm_resolved(answered, MONDAY) is not None


def test_a_new_answer_or_a_reopening_asks_again(app: CasesApplication, desk: CaseDesk) -> None:
    cid = answered_case(app, desk)
    desk.confirm_resolved(cid, MONDAY)
    step(desk, cid, LAN, Action.ANSWER, text="Bổ sung: đã xin lỗi công dân.")
    assert desk.confirm_resolved(cid, MONDAY) is not None
    step(desk, cid, LAN, Action.REOPEN, reason="Công dân gọi điện: chưa xong")
    with pytest.raises(InvalidTransition):
        desk.confirm_resolved(cid, MONDAY)
    assert len(confirmations(app, cid)) == 2


def test_the_timeline_shows_it_to_everyone_and_the_queue_keeps_its_state(
    app: CasesApplication, desk: CaseDesk
) -> None:
    cid = answered_case(app, desk)
    desk.confirm_resolved(cid, MONDAY)
    [event] = confirmations(app, cid)
    row = timeline_row(event)
    assert row is not None
    assert (row["kind"], row["public"], row["actor_role"]) == ("citizen_confirmed", True, "citizen")
    patch = fold_patches([event])[cid]
    assert "status" not in patch and patch["version"] == event.originator_version
