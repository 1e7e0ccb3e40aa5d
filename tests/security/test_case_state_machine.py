"""hypothesis drives the real ``CaseDesk`` (on the library's in-memory store) with random
sequences of commands by random actors at a clock that moves forward, and checks after every
step that the case state machine and the legal clock still hold:

- a status changes only along an edge of the workflow; a refused command raises the domain's
  own error (not allowed, invalid step, stale page, unknown case), saves nothing, and never
  raises anything else;
- due dates are never before the day of receipt and always a working day; a pause or an
  extension never brings a due date forward;
- pauses: at most one open, the last, exactly while the case waits for the citizen, none
  ending before it starts;
- a merged case points to a case that exists and lists it among its duplicates;
- every stored event names its actor, role and time (timezone-aware).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from feedback_core.application import CasesApplication
from feedback_core.cases import Case, CaseStatus, InvalidTransition
from feedback_core.handling import CaseChanged, CaseDesk, Request, UnknownCase
from feedback_core.identity import case_id_for
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.local_time import local_date
from feedback_core.permissions import Action, NotAllowed
from feedback_core.roles import CITIZEN, SYSTEM, Actor, Role
from tests.unit.test_intake import submission

S = CaseStatus
EDGES: frozenset[tuple[CaseStatus, CaseStatus]] = frozenset({
    (S.RECEIVED, S.ACCEPTED), (S.RECEIVED, S.REFUSED),
    (S.ACCEPTED, S.IN_PROGRESS), (S.ACCEPTED, S.WAITING_FOR_CITIZEN), (S.ACCEPTED, S.ANSWERED),
    (S.IN_PROGRESS, S.WAITING_FOR_CITIZEN), (S.IN_PROGRESS, S.ANSWERED),
    (S.WAITING_FOR_CITIZEN, S.IN_PROGRESS),
    (S.ANSWERED, S.RESOLVED), (S.RESOLVED, S.CLOSED),
    (S.ANSWERED, S.IN_PROGRESS), (S.RESOLVED, S.IN_PROGRESS), (S.CLOSED, S.IN_PROGRESS),
    *((s, S.WITHDRAWN) for s in S if s not in {S.REFUSED, S.CLOSED, S.WITHDRAWN, S.MERGED}),
    *((s, S.MERGED) for s in S if s not in {S.REFUSED, S.CLOSED, S.WITHDRAWN, S.MERGED}),
})
DOMAIN_ERRORS = (NotAllowed, InvalidTransition, CaseChanged, UnknownCase)
UNITS = {"tay-ho": {"tay-ho", "nhat-tan", "quang-an"}, "nhat-tan": {"nhat-tan"},
         "quang-an": {"quang-an"}, "": set()}
ACTORS = [
    Actor("canbo.nhattan", Role.HANDLER, "nhat-tan"),
    Actor("canbo.quangan", Role.HANDLER, "quang-an"),
    Actor("lanhdao.tayho", Role.HEAD, "tay-ho"),
    Actor("thanhtra.tayho", Role.INSPECTOR, "tay-ho"),
    Actor("tongdai.tayho", Role.OPERATOR, "tay-ho"),
    CITIZEN,
]
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Hà Nội
TEXTS = st.sampled_from(["", " ", "Đã liên hệ công dân.", "<script>alert(1)</script>"])
USERNAMES = st.sampled_from(["canbo.nhattan", "canbo.quangan", "lanhdao.tayho", ""])
TO_UNITS = st.sampled_from(["nhat-tan", "quang-an", "tay-ho", "no-such-unit"])
STEPS = [a for a in Action if a not in (Action.VIEW, Action.MERGE)]


def scope_of(actor: Actor) -> Collection[str]:
    return UNITS[actor.unit_id]


CALENDAR = BusinessCalendar()


def is_working_day(day: date) -> bool:
    return CALENDAR.is_working_day(day)


class CaseDeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = CasesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.desk = CaseDesk(self.app, scope_of, BusinessCalendar, DEFAULT_RULES,
                             unit_exists=lambda unit: unit in UNITS)
        self.now = START
        self.case_ids: list[UUID] = []

    def case(self, case_id: UUID) -> Case:
        found: Case = self.app.repository.get(case_id)
        return found

    def pick(self, index: int) -> UUID:
        return self.case_ids[index % len(self.case_ids)]

    @initialize()
    def two_cases(self) -> None:
        self.new_case("nhat-tan")
        self.new_case("quang-an")

    @rule(unit=st.sampled_from(["nhat-tan", "quang-an"]))
    def new_case(self, unit: str) -> None:
        sub = submission(unit_id=unit, office_id=f"{unit}-mc", counter_id=f"{unit}-q1",
                         submitted_at=self.now)
        self.app.record_submissions([sub])
        self.case_ids.append(case_id_for(sub.submission_id))

    @rule(hours=st.integers(1, 24 * 12))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(
        index=st.integers(0, 50), actor=st.sampled_from(ACTORS), action=st.sampled_from(STEPS),
        text=TEXTS, reason=TEXTS, assignee=USERNAMES, to_unit=TO_UNITS,
        days=st.integers(-2, 30),
    )
    def act(self, index: int, actor: Actor, action: Action, text: str, reason: str,
            assignee: str, to_unit: str, days: int) -> None:
        request = Request(action, reason=reason, text=text, assignee=assignee, to_unit=to_unit,
                          days=days)
        self.attempt(self.pick(index), actor, request)

    @rule(index=st.integers(0, 50), primary=st.integers(0, 50), actor=st.sampled_from(ACTORS),
          reason=TEXTS)
    def merge(self, index: int, primary: int, actor: Actor, reason: str) -> None:
        target = self.pick(primary)
        self.attempt(self.pick(index), actor,
                     Request(Action.MERGE, reason=reason, primary_case_id=target))

    @rule(index=st.integers(0, 50), actor=st.sampled_from(ACTORS), action=st.sampled_from(STEPS))
    def stale_page(self, index: int, actor: Actor, action: Action) -> None:
        """A page loaded before someone else's change: always refused as such."""
        case_id = self.pick(index)
        before = self.case(case_id)
        try:
            self.desk.act(case_id, before.version - 1, actor, Request(action, reason="x"),
                          self.now)
        except CaseChanged:
            pass
        else:
            raise AssertionError("a stale version was accepted")
        assert self.case(case_id).version == before.version

    @rule(actor=st.sampled_from(ACTORS), action=st.sampled_from(STEPS))
    def unknown_case(self, actor: Actor, action: Action) -> None:
        try:
            self.desk.act(uuid4(), 1, actor, Request(action, reason="x"), self.now)
        except UnknownCase:
            return
        raise AssertionError("a command on no case was accepted")

    @rule(index=st.integers(0, 50), to_unit=TO_UNITS)
    def unit_merged_away(self, index: int, to_unit: str) -> None:
        case_id = self.pick(index)
        with contextlib.suppress(*DOMAIN_ERRORS):
            self.desk.move_cases_of_merged_unit([case_id], to_unit, SYSTEM, self.now, "sáp nhập")

    def attempt(self, case_id: UUID, actor: Actor, request: Request) -> None:
        before = self.case(case_id)
        primary = self.case(request.primary_case_id) if request.primary_case_id else None
        try:
            self.desk.act(case_id, before.version, actor, request, self.now)
        except DOMAIN_ERRORS:
            after = self.case(case_id)
            assert after.version == before.version, "a refused command saved something"
            if primary is not None:
                assert self.case(primary.id).version == primary.version
            return
        after = self.case(case_id)
        assert after.version > before.version
        if after.status != before.status:
            assert (before.status, after.status) in EDGES, (
                f"{request.action}: {before.status} -> {after.status}")
        if request.action in (Action.ASK_CITIZEN, Action.RECORD_REPLY, Action.EXTEND):
            assert after.due_on >= before.due_on, "a pause or extension brought the date forward"

    @invariant()
    def cases_hold_together(self) -> None:
        ids = set(self.case_ids)
        for case_id in self.case_ids:
            case = self.case(case_id)
            received = local_date(case.received_at)
            assert case.due_on >= received, "due before receipt"
            assert is_working_day(case.due_on), f"due on a day off: {case.due_on}"
            open_pauses = [p for p in case.pauses if p[1] is None]
            assert len(open_pauses) <= 1 and (not open_pauses or case.pauses[-1][1] is None)
            assert bool(open_pauses) == (case.status is S.WAITING_FOR_CITIZEN)
            assert all(end is None or end >= start for start, end in case.pauses)
            if case.status is S.MERGED:
                assert case.merged_into in ids, "merged into a case that does not exist"
                assert case_id in self.case(case.merged_into).duplicates
            for stored in self.app.events.get(case_id):
                if isinstance(stored, Case.Step):
                    assert stored.actor and stored.actor_role in set(Role)
                    assert stored.at.tzinfo is not None


CaseDeskMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, database=None
)
test_case_desk_state_machine = CaseDeskMachine.TestCase
