"""The record of erasures: one ``PersonalDataErased`` event per lawful request (who, when,
why, on which legal basis, which subject and case), never what was erased.

Like the inspections log: a small event-sourced application (table ``privacy_events``), each
erasure its own one-event aggregate. The event is stored before the key is deleted, so no
erasure happens unrecorded (a failed deletion is retried by running the command again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from feedback_core.event_log import logged_events
from feedback_core.privacy.sealing import subject_of
from feedback_core.privacy.vault import PersonalDataVault


class Erasure(Aggregate):
    class PersonalDataErased(Aggregate.Created):
        subject_id: UUID
        case_id: UUID | None
        tracking_code: str
        actor: str
        actor_role: str
        reason: str
        legal_basis: str
        at: datetime

    @event(PersonalDataErased)
    def __init__(  # noqa: PLR0913 - the record names everything about the request
        self,
        *,
        subject_id: UUID,
        case_id: UUID | None,
        tracking_code: str,
        actor: str,
        actor_role: str,
        reason: str,
        legal_basis: str,
        at: datetime,
    ) -> None:
        self.subject_id = subject_id
        self.case_id = case_id
        self.tracking_code = tracking_code
        self.actor = actor
        self.actor_role = actor_role
        self.reason = reason
        self.legal_basis = legal_basis
        self.at = at

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid4()


@dataclass(frozen=True)
class ErasureRequest:
    """Who asks for an erasure, why, on what legal basis, when (the record's own words)."""

    actor: str
    actor_role: str
    reason: str
    legal_basis: str
    at: datetime


class ErasureRefused(ValueError):
    """A request that cannot be carried out; the message says why."""


class ErasureLog(Application[UUID]):
    name = "privacy"

    def erase(
        self,
        vault: PersonalDataVault,
        request: ErasureRequest,
        *,
        subject_id: UUID,
        case_id: UUID | None = None,
        tracking_code: str = "",
    ) -> Erasure:
        """Record the request, then delete the subject's key."""
        reason, basis = request.reason.strip(), request.legal_basis.strip()
        if not reason or not basis:
            raise ErasureRefused("an erasure needs a reason and a legal basis")
        record = Erasure(
            subject_id=subject_id, case_id=case_id, tracking_code=tracking_code,
            **asdict(replace(request, reason=reason, legal_basis=basis)),
        )  # fmt: skip
        self.save(record)
        vault.erase(subject_id)
        return record

    def erasures(self) -> Iterator[Erasure.PersonalDataErased]:
        """Every recorded erasure, oldest first."""
        for _, found in logged_events(self):
            if isinstance(found, Erasure.PersonalDataErased):
                yield found


def subject_of_case(received: object) -> UUID:
    """Whose personal data a case holds: the subject its sealed contact names, else its
    submission (old events, written before sealing, name none)."""
    for value in (
        getattr(received, "contact_phone", ""),
        getattr(received, "contact_email", ""),
        getattr(received, "contact_zalo", ""),
    ):
        subject = subject_of(value)
        if subject is not None:
            return subject
    return UUID(str(getattr(received, "submission_id")))  # noqa: B009 - any Received version
