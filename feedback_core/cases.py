"""The Case aggregate: a complaint or feedback item that a unit must handle by a due date."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.identity import case_id_for


class CaseStatus(StrEnum):
    RECEIVED = "received"


class Case(Aggregate):
    """Opened from an intake submission that carries a complaint."""

    class Received(Aggregate.Created):
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
        self.due_on = due_on
        self.rating_id = rating_id
        self.status = CaseStatus.RECEIVED
