"""The complaint workflow on the library's in-memory store: every step, its checks, its
permissions, concurrency, transfer, merge, and due dates recomputed from the events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case, CaseStatus, InvalidTransition
from feedback_core.handling import CaseChanged, CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.permissions import Action, NotAllowed
from feedback_core.roles import CITIZEN, Actor, Role
from tests.unit.test_intake import submission

LAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
MINH = Actor("canbo.quangan", Role.HANDLER, "quang-an")
HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
INSPECTOR = Actor("thanhtra.tayho", Role.INSPECTOR, "tay-ho")
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def new_case(app: CasesApplication, unit: str = "nhat-tan", **fields: object) -> UUID:
    sub = submission(unit_id=unit, submitted_at=MONDAY, **fields)
    app.record_submissions([sub])
    return case_id_for(sub.submission_id)


def step(desk: CaseDesk, case_id: UUID, actor: Actor, action: Action, after_days: int = 0,
         **fields: object) -> Case:
    case: Case = desk.app.repository.get(case_id)
    at = MONDAY + timedelta(days=after_days)
    desk.act(case_id, case.version, actor, Request(action, **fields), at)  # type: ignore[arg-type]
    return desk.app.repository.get(case_id)


def test_a_handlers_day(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    assert step(desk, cid, LAN, Action.ACCEPT).status is CaseStatus.ACCEPTED
    assert step(desk, cid, LAN, Action.CLAIM).assignee == LAN.username
    assert step(desk, cid, LAN, Action.START).status is CaseStatus.IN_PROGRESS
    asked = step(desk, cid, LAN, Action.ASK_CITIZEN, after_days=1, text="Xin số biên nhận hồ sơ?")
    assert asked.status is CaseStatus.WAITING_FOR_CITIZEN
    replied = step(desk, cid, CITIZEN, Action.RECORD_REPLY, after_days=4, text="Số HS-2026-001")
    assert replied.status is CaseStatus.IN_PROGRESS
    # Paused Tue 3 → Fri 6 March: three working days (Wed, Thu, Fri) are added back.
    assert replied.due_on == date(2026, 3, 19)
    step(desk, cid, LAN, Action.NOTE, text="Đã kiểm tra sổ tiếp nhận.")
    step(desk, cid, LAN, Action.ANSWER, text="Hồ sơ đã có kết quả, mời ông/bà đến nhận.")
    assert step(desk, cid, LAN, Action.RESOLVE).status is CaseStatus.RESOLVED
    closed = step(desk, cid, LAN, Action.CLOSE)
    assert closed.status is CaseStatus.CLOSED
    with pytest.raises(InvalidTransition, match="closed"):
        step(desk, cid, LAN, Action.NOTE, text="late")  # noqa: PT012 - a closed case is closed
    events = [type(e).__name__ for e in app.events.get(cid)]
    assert events[0] == "Received" and events[-1] == "Closed"


def test_refusal_needs_a_reason(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    with pytest.raises(InvalidTransition, match="reason"):
        step(desk, cid, LAN, Action.REFUSE)
    refused = step(desk, cid, LAN, Action.REFUSE, reason="Không thuộc thẩm quyền")
    assert refused.status is CaseStatus.REFUSED and not refused.is_open


def test_roles_and_scope(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    with pytest.raises(NotAllowed, match="does not cover"):
        step(desk, cid, MINH, Action.ACCEPT)  # another ward's handler
    with pytest.raises(NotAllowed, match="role inspector"):
        step(desk, cid, INSPECTOR, Action.ACCEPT)
    step(desk, cid, HEAD, Action.ACCEPT)  # the district head covers the ward
    step(desk, cid, HEAD, Action.ASSIGN, assignee=LAN.username)
    with pytest.raises(NotAllowed, match="role handler"):
        step(desk, cid, LAN, Action.EXTEND, days=5, reason="Cần xác minh thêm")
    extended = step(desk, cid, HEAD, Action.EXTEND, days=5, reason="Cần xác minh thêm")
    assert extended.due_on == date(2026, 3, 23)


def test_a_handler_must_claim_before_working(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    step(desk, cid, LAN, Action.ACCEPT)
    with pytest.raises(NotAllowed, match="claim"):
        step(desk, cid, LAN, Action.START)


def test_concurrent_edits_are_caught(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    seen: int = app.repository.get(cid).version
    desk.act(cid, seen, LAN, Request(Action.ACCEPT), MONDAY)
    with pytest.raises(CaseChanged, match="Reload"):
        desk.act(cid, seen, HEAD, Request(Action.REFUSE, reason="trùng"), MONDAY)


def test_transfer_accepted_or_sent_back(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    step(desk, cid, LAN, Action.ACCEPT)
    step(desk, cid, LAN, Action.TRANSFER, to_unit="quang-an", reason="Địa bàn phường Quảng An")
    with pytest.raises(NotAllowed):
        step(desk, cid, LAN, Action.ACCEPT_TRANSFER)  # the sender cannot accept for them
    back = step(desk, cid, MINH, Action.RETURN_TRANSFER, reason="Không thuộc địa bàn")
    assert back.unit_id == "nhat-tan" and back.pending_transfer is None
    step(desk, cid, LAN, Action.TRANSFER, to_unit="quang-an", reason="Đã xác minh lại")
    moved = step(desk, cid, MINH, Action.ACCEPT_TRANSFER)
    assert moved.unit_id == "quang-an" and moved.assignee is None


def test_merge_keeps_every_citizen_informed(app: CasesApplication, desk: CaseDesk) -> None:
    first = new_case(app, contact_email="a@example.vn", wants_updates=True)
    second = new_case(app, contact_phone="0912345678", wants_updates=True)
    step(desk, second, LAN, Action.MERGE, primary_case_id=first, reason="Cùng một sự việc")
    primary: Case = app.repository.get(first)
    duplicate: Case = app.repository.get(second)
    assert duplicate.status is CaseStatus.MERGED and duplicate.merged_into == first
    assert primary.recipients == [("a@example.vn", ""), ("", "0912345678")]


def test_reopen_after_the_citizen_says_not_resolved(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    for action in (Action.ACCEPT, Action.CLAIM, Action.START):
        step(desk, cid, LAN, action)
    step(desk, cid, LAN, Action.ANSWER, text="Đã xử lý")
    step(desk, cid, LAN, Action.RESOLVE)
    reopened = step(desk, cid, CITIZEN, Action.REOPEN, reason="Vẫn chưa được giải quyết")
    assert reopened.status is CaseStatus.IN_PROGRESS


def test_withdrawal_by_the_citizen(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    assert step(desk, cid, CITIZEN, Action.WITHDRAW, reason="Đã tự giải quyết").status is (
        CaseStatus.WITHDRAWN
    )


def test_due_dates_are_recomputable_from_the_events(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app)
    step(desk, cid, LAN, Action.ACCEPT)
    step(desk, cid, LAN, Action.CLAIM)
    step(desk, cid, LAN, Action.ASK_CITIZEN, after_days=2, text="?")
    step(desk, cid, CITIZEN, Action.RECORD_REPLY, after_days=9, text="!")
    step(desk, cid, HEAD, Action.EXTEND, days=10, reason="Phức tạp")
    case: Case = app.repository.get(cid)
    assert desk._due(case) == case.due_on  # replayed state gives the same date


def test_a_chain_of_merges_keeps_every_citizen(app: CasesApplication, desk: CaseDesk) -> None:
    a = new_case(app, contact_email="a@example.vn", wants_updates=True)
    b = new_case(app, contact_email="b@example.vn", wants_updates=True)
    c = new_case(app, contact_phone="0912345678", wants_updates=True)
    step(desk, c, LAN, Action.MERGE, primary_case_id=b, reason="Trùng")
    step(desk, b, LAN, Action.MERGE, primary_case_id=a, reason="Trùng")
    primary: Case = app.repository.get(a)
    assert primary.recipients == [("a@example.vn", ""), ("b@example.vn", ""), ("", "0912345678")]


def test_the_citizens_language_is_kept(app: CasesApplication) -> None:
    cid = new_case(app, locale="en")
    case: Case = app.repository.get(cid)
    assert case.locale == "en"
