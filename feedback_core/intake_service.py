"""Turn intake submissions into new aggregates (pure: no I/O)."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from feedback_core.cases import Case
from feedback_core.identity import case_id_for, tracking_code_for
from feedback_core.intake import ComplaintCategory, IntakeSubmission
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar, DeadlineRule, due_date
from feedback_core.local_time import local_date
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


def aggregates_for(
    sub: IntakeSubmission,
    calendar: BusinessCalendar,
    rules: dict[str, DeadlineRule] = DEFAULT_RULES,
) -> list[Aggregate]:
    """The Rating, and the Case when the submission carries a complaint."""
    case_id = case_id_for(sub.submission_id) if sub.has_complaint else None
    context = _submission_context(sub)
    rating = Rating(
        **context,
        score=sub.rating,
        given_at=sub.submitted_at,
        case_id=case_id,
    )
    if case_id is None:
        return [rating]
    rule = rules[FEEDBACK_RULE]
    received_on = local_date(sub.submitted_at)
    case = Case(
        **context,
        category=(sub.category or ComplaintCategory.OTHER).value,
        description=sub.description.strip(),
        received_at=sub.submitted_at,
        deadline_rule=rule.code,
        due_on=due_date(received_on, rule, calendar).due,
        rating_id=rating.id,
        contact_email=sub.contact_email,
        contact_phone=sub.contact_phone,
        wants_updates=sub.wants_updates,
        locale=sub.locale,
    )
    return [rating, case]
