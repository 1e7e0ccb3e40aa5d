"""The Rating aggregate: a citizen's judgement of the service at a counter, overall and on
the five SIPAS components, optionally tied to one dossier by its code."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.identity import rating_id_for


class Rating(Aggregate):
    class Given(Aggregate.Created):
        class_version = 2
        submission_id: UUID
        tracking_code: str
        channel: str
        unit_id: str
        office_id: str
        counter_id: str
        score: int
        given_at: datetime
        case_id: UUID | None
        components: dict[str, int]
        dossier_code: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 (the spine) had the overall score only."""
            state.update(components={}, dossier_code="")

    @staticmethod
    def create_id(submission_id: UUID, **_: object) -> UUID:
        return rating_id_for(submission_id)

    @event(Given)
    def __init__(  # noqa: PLR0913
        self,
        *,
        submission_id: UUID,
        tracking_code: str,
        channel: str,
        unit_id: str,
        office_id: str,
        counter_id: str,
        score: int,
        given_at: datetime,
        case_id: UUID | None,
        components: dict[str, int] | None = None,
        dossier_code: str = "",
    ) -> None:
        self.submission_id = submission_id
        self.tracking_code = tracking_code
        self.channel = channel
        self.unit_id = unit_id
        self.office_id = office_id
        self.counter_id = counter_id
        self.score = score
        self.given_at = given_at
        self.case_id = case_id
        self.components = dict(components or {})
        self.dossier_code = dossier_code
