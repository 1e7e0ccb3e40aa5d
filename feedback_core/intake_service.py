"""Turn intake submissions into new aggregates (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from feedback_core.cases import Case
from feedback_core.identity import case_id_for, rating_id_for, tracking_code_for
from feedback_core.intake import ComplaintCategory, IntakeSubmission
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar, DeadlineRule, due_date
from feedback_core.local_time import local_date
from feedback_core.privacy.submissions import seal_contact
from feedback_core.privacy.vault import Sealer
from feedback_core.ratings import Rating

FEEDBACK_RULE = "service_feedback"


def _submission_context(sub: IntakeSubmission) -> dict[str, Any]:
    """Where and how the submission came in: carried by both the Rating and the Case."""
    return {
        "submission_id": sub.submission_id,
        "tracking_code": tracking_code_for(sub.submission_id),
        "channel": sub.channel.value,
        "unit_id": sub.unit_id,
        "office_id": sub.office_id,
        "counter_id": sub.counter_id,
    }


def _sealed(seal: Sealer | None, sub: IntakeSubmission, value: str) -> str:
    """The contact for the case's event: sealed at the edge already (kept as it is), or
    sealed now (a clear value from an older producer); as given without a vault."""
    return seal_contact(seal, sub.submission_id, value) if seal else value


@dataclass(frozen=True)
class _Creation:
    """One aggregate a submission creates: its class, created-event class, id and fields."""

    aggregate: type[Aggregate]
    event: type[Aggregate.Created]
    id: UUID
    fields: dict[str, Any]


def _creations_for(
    sub: IntakeSubmission,
    calendar: BusinessCalendar,
    rules: dict[str, DeadlineRule],
    seal: Sealer | None,
) -> list[_Creation]:
    """The Rating when the citizen rated, and the Case when they complained: every field of
    their created events (each id derived once, the due date from the memoised clock)."""
    case_id = case_id_for(sub.submission_id) if sub.has_complaint else None
    rating_id = rating_id_for(sub.submission_id) if sub.rating is not None else None
    context = _submission_context(sub)
    found: list[_Creation] = []
    if rating_id is not None:
        rating = {
            **context,
            "score": sub.rating,
            "given_at": sub.submitted_at,
            "case_id": case_id,
            "components": dict(sub.components),
            "dossier_code": sub.dossier_code,
        }
        found.append(_Creation(Rating, Rating.Given, rating_id, rating))
    if case_id is None:
        return found
    rule = rules[FEEDBACK_RULE]
    case = {
        **context,
        "category": (sub.category or ComplaintCategory.OTHER).value,
        "description": sub.description.strip(),
        "received_at": sub.submitted_at,
        "deadline_rule": rule.code,
        "due_on": due_date(local_date(sub.submitted_at), rule, calendar).due,
        "rating_id": rating_id,
        "contact_email": _sealed(seal, sub, sub.contact_email),
        "contact_phone": _sealed(seal, sub, sub.contact_phone),
        "contact_zalo": _sealed(seal, sub, sub.contact_zalo),
        "wants_updates": sub.wants_updates,
        "locale": sub.locale,
        "dossier_code": sub.dossier_code,
        "photo_id": sub.photo_id,
        "reported_by": sub.reported_by,
        "address": sub.address,
        "latitude": sub.latitude,
        "longitude": sub.longitude,
    }
    found.append(_Creation(Case, Case.Received, case_id, case))
    return found


def aggregates_for(
    sub: IntakeSubmission,
    calendar: BusinessCalendar,
    rules: dict[str, DeadlineRule] = DEFAULT_RULES,
    seal: Sealer | None = None,
) -> list[Aggregate]:
    """The Rating when the citizen rated, and the Case when they complained; ``seal``
    encrypts the citizen's contact for the case's event (feedback_core.privacy)."""
    return [
        c.aggregate._create(c.event, id=c.id, **c.fields)
        for c in _creations_for(sub, calendar, rules, seal)
    ]


def created_events_for(
    sub: IntakeSubmission,
    calendar: BusinessCalendar,
    rules: dict[str, DeadlineRule] = DEFAULT_RULES,
    seal: Sealer | None = None,
) -> list[Aggregate.Created]:
    """The created events of ``aggregates_for``'s aggregates, without the aggregates.

    What the store needs from a new submission (the consumer's write path): building each
    aggregate only to collect its one event costs a third of the building, and the library's
    ``save`` checks an aggregate against two runtime Protocols where it checks an event
    against one. The events are those ``_create`` makes (same ids, topics, versions and
    fields; tests/unit/test_intake_events.py compares them).
    """
    return [
        c.event(
            originator_topic=get_topic(c.aggregate),
            originator_id=c.id,
            originator_version=c.aggregate.INITIAL_VERSION,
            timestamp=c.event.create_timestamp(),
            **c.fields,
        )
        for c in _creations_for(sub, calendar, rules, seal)
    ]
