"""Turn intake submissions into new aggregates (pure: no I/O)."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

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


def aggregates_for(
    sub: IntakeSubmission,
    calendar: BusinessCalendar,
    rules: dict[str, DeadlineRule] = DEFAULT_RULES,
    seal: Sealer | None = None,
) -> list[Aggregate]:
    """The Rating when the citizen rated, and the Case when they complained; ``seal``
    encrypts the citizen's contact for the case's event (feedback_core.privacy)."""
    case_id = case_id_for(sub.submission_id) if sub.has_complaint else None
    context = _submission_context(sub)
    found: list[Aggregate] = []
    if sub.rating is not None:
        found.append(
            Rating(
                **context,
                score=sub.rating,
                given_at=sub.submitted_at,
                case_id=case_id,
                components=dict(sub.components),
                dossier_code=sub.dossier_code,
            )
        )
    if case_id is None:
        return found
    rule = rules[FEEDBACK_RULE]
    found.append(
        Case(
            **context,
            category=(sub.category or ComplaintCategory.OTHER).value,
            description=sub.description.strip(),
            received_at=sub.submitted_at,
            deadline_rule=rule.code,
            due_on=due_date(local_date(sub.submitted_at), rule, calendar).due,
            rating_id=rating_id_for(sub.submission_id) if sub.rating is not None else None,
            contact_email=_sealed(seal, sub, sub.contact_email),
            contact_phone=_sealed(seal, sub, sub.contact_phone),
            contact_zalo=_sealed(seal, sub, sub.contact_zalo),
            wants_updates=sub.wants_updates,
            locale=sub.locale,
            dossier_code=sub.dossier_code,
            photo_id=sub.photo_id,
            reported_by=sub.reported_by,
            address=sub.address,
            latitude=sub.latitude,
            longitude=sub.longitude,
        )
    )
    return found
