"""The Case aggregate: a complaint or feedback item that a unit must handle by a due date.

Every step of the workflow is an event that names its actor (username, role, unit), its
business time and its reason. The public methods check the transition and raise
``InvalidTransition`` with a message a handler understands; the private ``@event`` methods
only change state, because they also run when the case is replayed from its events.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.identity import case_id_for
from feedback_core.local_time import local_date
from feedback_core.roles import Actor


class CaseStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CITIZEN = "waiting_for_citizen"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


FINAL = frozenset({CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED})
OPEN_WORK = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_FOR_CITIZEN})
# The case's answer is given: the citizen can say whether it solved the problem.
CITIZEN_CONFIRMABLE = frozenset({CaseStatus.ANSWERED, CaseStatus.RESOLVED})


class InvalidTransition(ValueError):
    """A step that the case's current state does not allow; the message says why."""


class Case(Aggregate):
    """Opened from an intake submission that carries a complaint."""

    class Received(Aggregate.Created):
        class_version = 5
        submission_id: UUID
        tracking_code: str
        channel: str
        unit_id: str
        office_id: str
        counter_id: str
        category: str
        description: str
        received_at: datetime
        deadline_rule: str
        due_on: date
        rating_id: UUID | None
        contact_email: str
        contact_phone: str
        wants_updates: bool
        locale: str
        dossier_code: str
        photo_id: str
        reported_by: str
        address: str
        latitude: float | None
        longitude: float | None
        contact_zalo: str  # "<OA id>:<follower id>" (sealed like the other contacts)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 (the spine) had no contact: the citizen stayed anonymous."""
            state.update(contact_email="", contact_phone="", wants_updates=False)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Version 2 did not record the citizen's language: Vietnamese, the default."""
            state["locale"] = "vi"

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """Version 3 had no dossier code, photo, reporter or location."""
            state.update(dossier_code="", photo_id="", reported_by="", address="",
                         latitude=None, longitude=None)

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            """Version 4 had no Zalo follower as a contact."""
            state["contact_zalo"] = ""

    class Step(Aggregate.Event):
        """Base of every workflow event: who acted, for which unit, when, and why."""

        actor: str
        actor_role: str
        actor_unit: str
        at: datetime
        reason: str

    class Accepted(Step):
        deadline_rule: str
        clock_start: date
        due_on: date

        def apply(self, case: Any) -> None:
            case.status = CaseStatus.ACCEPTED
            case.deadline_rule = self.deadline_rule
            case.clock_start = self.clock_start
            case.due_on = self.due_on

    class Refused(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.REFUSED

    class Assigned(Step):
        assignee: str
        kind: str  # assigned | claimed | reassigned

        def apply(self, case: Any) -> None:
            case.assignee = self.assignee

    class Started(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.IN_PROGRESS

    class CitizenAsked(Step):
        question: str

        def apply(self, case: Any) -> None:
            case.status = CaseStatus.WAITING_FOR_CITIZEN
            case.pauses.append((local_date(self.at), None))

    class CitizenReplied(Step):
        reply: str
        due_on: date

        def apply(self, case: Any) -> None:
            case.status = CaseStatus.IN_PROGRESS
            case.pauses[-1] = (case.pauses[-1][0], local_date(self.at))
            case.due_on = self.due_on

    class Answered(Step):
        public_answer: str

        def apply(self, case: Any) -> None:
            case.status = CaseStatus.ANSWERED
            case.citizen_confirmed = False  # a new answer: the citizen may say so again

    class Resolved(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.RESOLVED

    class Closed(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.CLOSED

    class NoteAdded(Step):
        text: str

        def apply(self, case: Any) -> None:
            pass

    class TransferRequested(Step):
        to_unit: str

        def apply(self, case: Any) -> None:
            case.pending_transfer = self.to_unit

    class TransferAccepted(Step):
        from_unit: str
        to_unit: str

        def apply(self, case: Any) -> None:
            case.unit_id = self.to_unit
            case.pending_transfer = None
            case.assignee = None

    class TransferReturned(Step):
        to_unit: str

        def apply(self, case: Any) -> None:
            case.pending_transfer = None

    class Escalated(Step):
        def apply(self, case: Any) -> None:
            case.escalated = True

    class Withdrawn(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.WITHDRAWN

    class Reopened(Step):
        def apply(self, case: Any) -> None:
            case.status = CaseStatus.IN_PROGRESS
            case.citizen_confirmed = False

    class CitizenConfirmed(Step):
        """The citizen answered "Đã giải quyết" on the tracking page: the answer solved
        their problem. ("Giải quyết một phần" and "Chưa giải quyết" are ``Reopened`` by the
        citizen, with their reason.)"""

        answer: str  # "resolved"

        def apply(self, case: Any) -> None:
            case.citizen_confirmed = True

    class DeadlineExtended(Step):
        days: int
        due_on: date

        def apply(self, case: Any) -> None:
            case.extension_days += self.days
            case.due_on = self.due_on

    class MergedInto(Step):
        primary_id: UUID
        primary_tracking_code: str

        def apply(self, case: Any) -> None:
            case.status = CaseStatus.MERGED
            case.merged_into = self.primary_id

    class DuplicateAbsorbed(Step):
        duplicate_id: UUID
        duplicate_tracking_code: str
        # [email, phone] (or [email, phone, zalo]) of every citizen the duplicate had
        recipients: list[list[str]]

        def apply(self, case: Any) -> None:
            case.duplicates.append(self.duplicate_id)
            for entry in self.recipients:
                recipient = tuple(entry)
                if recipient not in case.recipients:
                    case.recipients.append(recipient)

    @staticmethod
    def create_id(submission_id: UUID, **_: object) -> UUID:
        return case_id_for(submission_id)

    @event(Received)
    def __init__(  # noqa: PLR0913 - the created event carries the whole intake context
        self,
        *,
        submission_id: UUID,
        tracking_code: str,
        channel: str,
        unit_id: str,
        office_id: str,
        counter_id: str,
        category: str,
        description: str,
        received_at: datetime,
        deadline_rule: str,
        due_on: date,
        rating_id: UUID | None,
        contact_email: str = "",
        contact_phone: str = "",
        wants_updates: bool = False,
        locale: str = "vi",
        dossier_code: str = "",
        photo_id: str = "",
        reported_by: str = "",
        address: str = "",
        latitude: float | None = None,
        longitude: float | None = None,
        contact_zalo: str = "",
    ) -> None:
        self.submission_id = submission_id
        self.tracking_code = tracking_code
        self.channel = channel
        self.unit_id = unit_id
        self.office_id = office_id
        self.counter_id = counter_id
        self.category = category
        self.description = description
        self.received_at = received_at
        self.deadline_rule = deadline_rule
        self.clock_start: date | None = None  # None: counted from the local date of receipt
        self.due_on = due_on
        self.rating_id = rating_id
        self.locale = locale
        self.dossier_code = dossier_code
        self.photo_id = photo_id
        self.reported_by = reported_by
        self.address = address
        self.location = (latitude, longitude) if latitude is not None else None
        self.status = CaseStatus.RECEIVED
        self.assignee: str | None = None
        self.pending_transfer: str | None = None
        self.escalated = False
        self.pauses: list[tuple[date, date | None]] = []
        self.extension_days = 0
        self.merged_into: UUID | None = None
        # (email, phone), or (email, phone, zalo) for a Zalo follower (docs/zalo.md)
        contact: tuple[str, ...] = (contact_email, contact_phone) + (
            (contact_zalo,) if contact_zalo else ()
        )
        self.recipients: list[tuple[str, ...]] = (
            [contact] if wants_updates and any(contact) else []
        )
        self.duplicates: list[UUID] = []

    # --- checks --------------------------------------------------------------------------

    def _require(self, allowed: frozenset[CaseStatus] | set[CaseStatus], step: str) -> None:
        if self.status not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise InvalidTransition(
                f"cannot {step} case {self.tracking_code}: it is {self.status.value}, "
                f"and {step} needs one of: {names}"
            )

    def _require_open(self, step: str) -> None:
        if self.status in FINAL:
            raise InvalidTransition(
                f"cannot {step} case {self.tracking_code}: it is {self.status.value}"
            )

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL

    @property
    def waiting_since(self) -> date | None:
        """The start of the open pause while the case waits for the citizen."""
        if self.pauses and self.pauses[-1][1] is None:
            return self.pauses[-1][0]
        return None

    # --- commands (checks, then one event) --------------------------------------------------

    def accept(
        self, by: Actor, at: datetime, reason: str, rule: str, start: date, due: date
    ) -> None:
        self._require({CaseStatus.RECEIVED}, "accept")
        self.trigger_event(
            Case.Accepted, **by.stamp(at, reason), deadline_rule=rule, clock_start=start, due_on=due
        )

    def refuse(self, by: Actor, at: datetime, reason: str) -> None:
        self._require({CaseStatus.RECEIVED}, "refuse")
        _require_reason(reason, "refuse")
        self.trigger_event(Case.Refused, **by.stamp(at, reason))

    def assign(self, by: Actor, at: datetime, assignee: str, reason: str = "") -> None:
        self._require_open("assign")
        if self.status is CaseStatus.RECEIVED:
            raise InvalidTransition(f"accept case {self.tracking_code} before assigning it")
        if assignee == self.assignee:
            raise InvalidTransition(f"case {self.tracking_code} is already with {assignee}")
        kind = (
            "claimed"
            if assignee == by.username
            else ("reassigned" if self.assignee else "assigned")
        )
        self.trigger_event(Case.Assigned, **by.stamp(at, reason), assignee=assignee, kind=kind)

    def start(self, by: Actor, at: datetime) -> None:
        self._require({CaseStatus.ACCEPTED}, "start work on")
        self.trigger_event(Case.Started, **by.stamp(at, ""))

    def ask_citizen(self, by: Actor, at: datetime, question: str) -> None:
        self._require({CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS}, "ask the citizen about")
        _require_reason(question, "ask the citizen")
        self.trigger_event(Case.CitizenAsked, **by.stamp(at, ""), question=question)

    def record_reply(self, by: Actor, at: datetime, reply: str, due: date) -> None:
        self._require({CaseStatus.WAITING_FOR_CITIZEN}, "record the citizen's reply on")
        self.trigger_event(Case.CitizenReplied, **by.stamp(at, ""), reply=reply, due_on=due)

    def answer(self, by: Actor, at: datetime, public_answer: str) -> None:
        self._require(OPEN_WORK | {CaseStatus.ANSWERED}, "answer")
        if self.status is CaseStatus.WAITING_FOR_CITIZEN:
            raise InvalidTransition(
                f"case {self.tracking_code} waits for the citizen: record the reply first"
            )
        _require_reason(public_answer, "answer")
        self.trigger_event(Case.Answered, **by.stamp(at, ""), public_answer=public_answer)

    def resolve(self, by: Actor, at: datetime, reason: str = "") -> None:
        self._require({CaseStatus.ANSWERED}, "resolve")
        self.trigger_event(Case.Resolved, **by.stamp(at, reason))

    def close(self, by: Actor, at: datetime, reason: str = "") -> None:
        self._require({CaseStatus.RESOLVED}, "close")
        self.trigger_event(Case.Closed, **by.stamp(at, reason))

    def add_note(self, by: Actor, at: datetime, text: str) -> None:
        self._require_open("add a note to")
        _require_reason(text, "add a note")
        self.trigger_event(Case.NoteAdded, **by.stamp(at, ""), text=text)

    def request_transfer(self, by: Actor, at: datetime, to_unit: str, reason: str) -> None:
        self._require_open("transfer")
        _require_reason(reason, "transfer")
        if to_unit == self.unit_id:
            raise InvalidTransition(f"case {self.tracking_code} already belongs to {to_unit}")
        if self.pending_transfer:
            raise InvalidTransition(
                f"case {self.tracking_code} is already being transferred to {self.pending_transfer}"
            )
        self.trigger_event(Case.TransferRequested, **by.stamp(at, reason), to_unit=to_unit)

    def accept_transfer(self, by: Actor, at: datetime, reason: str = "") -> None:
        target = self._require_pending_transfer("accept the transfer of")
        self.trigger_event(
            Case.TransferAccepted, **by.stamp(at, reason), from_unit=self.unit_id, to_unit=target
        )

    def return_transfer(self, by: Actor, at: datetime, reason: str) -> None:
        target = self._require_pending_transfer("send back")
        _require_reason(reason, "send a transfer back")
        self.trigger_event(Case.TransferReturned, **by.stamp(at, reason), to_unit=target)

    def pass_to_successor(self, by: Actor, at: datetime, successor: str, reason: str) -> None:
        """The unit was merged into ``successor``: the open case goes with it, no asking."""
        self._require_open("pass on")
        self.trigger_event(
            Case.TransferAccepted, **by.stamp(at, reason), from_unit=self.unit_id, to_unit=successor
        )

    def _require_pending_transfer(self, step: str) -> str:
        if not self.pending_transfer:
            raise InvalidTransition(f"cannot {step} case {self.tracking_code}: no transfer pending")
        return self.pending_transfer

    def escalate(self, by: Actor, at: datetime, reason: str) -> None:
        self._require_open("escalate")
        _require_reason(reason, "escalate")
        self.trigger_event(Case.Escalated, **by.stamp(at, reason))

    def withdraw(self, by: Actor, at: datetime, reason: str) -> None:
        self._require_open("withdraw")
        self.trigger_event(Case.Withdrawn, **by.stamp(at, reason))

    def reopen(self, by: Actor, at: datetime, reason: str) -> None:
        self._require({CaseStatus.ANSWERED, CaseStatus.RESOLVED, CaseStatus.CLOSED}, "reopen")
        _require_reason(reason, "reopen")
        self.trigger_event(Case.Reopened, **by.stamp(at, reason))

    def confirm_resolved(self, by: Actor, at: datetime) -> bool:
        """The citizen says the answer solved the problem. False, and no event, when they
        have already said so since the last answer: a second tap is not a second event."""
        self._require(CITIZEN_CONFIRMABLE, "confirm the resolution of")
        if getattr(self, "citizen_confirmed", False):  # getattr: older snapshots lack it
            return False
        self.trigger_event(Case.CitizenConfirmed, **by.stamp(at, ""), answer="resolved")
        return True

    def extend_deadline(self, by: Actor, at: datetime, days: int, reason: str, due: date) -> None:
        self._require_open("extend the deadline of")
        _require_reason(reason, "extend a deadline")
        if days <= 0:
            raise InvalidTransition("an extension must add at least one day")
        self.trigger_event(Case.DeadlineExtended, **by.stamp(at, reason), days=days, due_on=due)

    def merge_into(self, by: Actor, at: datetime, primary: Case, reason: str) -> None:
        """Mark this case a duplicate of ``primary`` (which absorbs it, see ``absorb``)."""
        self._require_open("merge")
        primary._require_open("merge into")
        if primary.id == self.id:
            raise InvalidTransition("a case cannot be merged into itself")
        self.trigger_event(
            Case.MergedInto,
            **by.stamp(at, reason),
            primary_id=primary.id,
            primary_tracking_code=primary.tracking_code,
        )

    def absorb(self, by: Actor, at: datetime, duplicate: Case, reason: str) -> None:
        """Take over a duplicate's citizens (its own and those it absorbed before), so they
        all keep receiving updates."""
        self.trigger_event(
            Case.DuplicateAbsorbed,
            **by.stamp(at, reason),
            duplicate_id=duplicate.id,
            duplicate_tracking_code=duplicate.tracking_code,
            recipients=[list(recipient) for recipient in duplicate.recipients],
        )


def _require_reason(text: str, step: str) -> None:
    if not text.strip():
        raise InvalidTransition(f"to {step}, write the reason or text")
