"""The case desk: the handlers' commands, checked for role and scope, saved with
optimistic concurrency, each returning the notification id a page can wait for."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from feedback_core.application import CasesApplication
from feedback_core.cases import Case, InvalidTransition
from feedback_core.legal_clock import BusinessCalendar, DeadlineRule, due_date_with_pauses
from feedback_core.local_time import local_date
from feedback_core.permissions import Action, check
from feedback_core.roles import CITIZEN, Actor, Role

# Accepting a complaint (thụ lý) starts the resolution period (Law on Complaints 2011).
FOLLOW_UP_RULES = {"complaint_acceptance": "complaint_resolution"}


class CaseChanged(RuntimeError):
    """Someone else changed the case since the page was loaded: reload, then act again."""


class UnknownCase(LookupError):
    pass


@dataclass(frozen=True)
class Request:
    """What a handler asks for, as a form sends it."""

    action: Action
    reason: str = ""
    text: str = ""
    assignee: str = ""
    to_unit: str = ""
    days: int = 0
    primary_case_id: UUID | None = None


@dataclass
class CaseDesk:
    app: CasesApplication
    scope_of: Callable[[Actor], Collection[str]]
    calendar: Callable[[], BusinessCalendar]
    rules: dict[str, DeadlineRule]
    unit_exists: Callable[[str], bool] = lambda _unit: True

    def act(
        self, case_id: UUID, expected_version: int, actor: Actor, request: Request, at: datetime
    ) -> int:
        """Check, apply and save one step; returns the notification id of the last event."""
        case = self._load(case_id, expected_version)
        check(actor, request.action, case.unit_id, self._scope(actor), case.assignee,
              case.pending_transfer)
        changed = [case]
        if request.action is Action.MERGE:
            changed.append(self._merge(case, actor, request, at))
        else:
            self._apply(case, actor, request, at)
        return self._save(*changed)

    def confirm_resolved(self, case_id: UUID, at: datetime) -> int | None:
        """The citizen (the tracking code is their authority) says the answer solved the
        problem. Idempotent: None, and nothing saved, when they already said so."""
        case = self._load(case_id)
        if not case.confirm_resolved(CITIZEN, at):
            return None
        return self._save(case)

    def _scope(self, actor: Actor) -> Collection[str]:
        """Citizens act through their tracking code: no organisational scope."""
        return () if actor.role is Role.CITIZEN else self.scope_of(actor)

    def _load(self, case_id: UUID, expected_version: int | None = None) -> Case:
        try:
            case: Case = self.app.repository.get(case_id)
        except Exception as exc:  # the library raises AggregateNotFoundError
            raise UnknownCase(f"no case with id {case_id}") from exc
        if expected_version is not None and case.version != expected_version:
            raise CaseChanged(_changed_message(case))
        return case

    def _save(self, *cases: Case) -> int:
        try:
            recordings = self.app.save(*cases)
        except IntegrityError as exc:
            raise CaseChanged(_changed_message(cases[0])) from exc
        return max(r.notification.id for r in recordings)

    def _apply(self, case: Case, actor: Actor, r: Request, at: datetime) -> None:
        a = Action
        match r.action:
            case a.ACCEPT:
                rule, start = self._accepted_rule(case, at)
                case.accept(actor, at, r.reason, rule.code, start, self._due(case, rule, start))
            case a.REFUSE:
                case.refuse(actor, at, r.reason)
            case a.ASSIGN:
                case.assign(actor, at, r.assignee, r.reason)
            case a.CLAIM:
                case.assign(actor, at, actor.username, r.reason)
            case a.START:
                case.start(actor, at)
            case a.ASK_CITIZEN:
                case.ask_citizen(actor, at, r.text)
            case a.RECORD_REPLY:
                waiting = case.waiting_since is not None  # else record_reply refuses it
                closed = (
                    [*case.pauses[:-1], (case.pauses[-1][0], local_date(at))]
                    if waiting else case.pauses
                )
                case.record_reply(actor, at, r.text, self._due(case, pauses=closed))
            case a.ANSWER:
                case.answer(actor, at, r.text)
            case a.RESOLVE:
                case.resolve(actor, at, r.reason)
            case a.CLOSE:
                case.close(actor, at, r.reason)
            case a.NOTE:
                case.add_note(actor, at, r.text)
            case a.TRANSFER:
                if not self.unit_exists(r.to_unit):
                    raise InvalidTransition(f"there is no open unit {r.to_unit!r} to transfer to")
                case.request_transfer(actor, at, r.to_unit, r.reason)
            case a.ACCEPT_TRANSFER:
                case.accept_transfer(actor, at, r.reason)
            case a.RETURN_TRANSFER:
                case.return_transfer(actor, at, r.reason)
            case a.ESCALATE:
                case.escalate(actor, at, r.reason)
            case a.WITHDRAW:
                case.withdraw(actor, at, r.reason)
            case a.REOPEN:
                case.reopen(actor, at, r.reason)
            case a.EXTEND:
                if r.days <= 0:
                    raise InvalidTransition("an extension must add at least one day")
                due = self._due(case, extra=r.days, today=local_date(at))
                case.extend_deadline(actor, at, r.days, r.reason, due)
            case _:  # VIEW and MERGE never reach here
                raise InvalidTransition(f"{r.action.value} is not a step of the workflow")

    def _merge(self, duplicate: Case, actor: Actor, r: Request, at: datetime) -> Case:
        if r.primary_case_id is None:
            raise InvalidTransition("name the case to merge this one into")
        primary = self._load(r.primary_case_id)
        check(actor, Action.MERGE, primary.unit_id, self._scope(actor))
        duplicate.merge_into(actor, at, primary, r.reason)
        primary.absorb(actor, at, duplicate, r.reason)
        return primary

    def _accepted_rule(self, case: Case, at: datetime) -> tuple[DeadlineRule, date]:
        follow_up = FOLLOW_UP_RULES.get(case.deadline_rule)
        if follow_up:
            return self.rules[follow_up], local_date(at)
        return self.rules[case.deadline_rule], local_date(case.received_at)

    def _due(
        self,
        case: Case,
        rule: DeadlineRule | None = None,
        start: date | None = None,
        pauses: list[tuple[date, date | None]] | None = None,
        extra: int = 0,
        today: date | None = None,
    ) -> date:
        """Recompute the due date from the case's own history (recomputable from events)."""
        return due_date_with_pauses(
            start or case.clock_start or local_date(case.received_at),
            rule or self.rules[case.deadline_rule],
            self.calendar(),
            pauses if pauses is not None else case.pauses,
            extension_days=case.extension_days + extra,
            today=today,
        ).due

    def move_cases_of_merged_unit(
        self, case_ids: Collection[UUID], successor: str, actor: Actor, at: datetime, reason: str
    ) -> int:
        """A unit merged into ``successor``: its open cases go with it (one transaction)."""
        cases = [c for c in (self._load(i) for i in case_ids) if c.is_open]
        for case in cases:
            case.pass_to_successor(actor, at, successor, reason)
        return self._save(*cases) if cases else 0


def _changed_message(case: Case) -> str:
    return (
        f"Someone changed case {case.tracking_code} while you were looking at it. "
        "Reload the page to see the change, then act again."
    )
