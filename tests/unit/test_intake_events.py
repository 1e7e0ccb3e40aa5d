"""The consumer's write path stores created events built without their aggregates: they must
be the events the library's own constructors make, and the batch must seal only clear contacts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for, rating_id_for
from feedback_core.intake import Channel, IntakeSubmission
from feedback_core.intake_service import aggregates_for, created_events_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault, is_sealed
from feedback_core.privacy.submissions import seal_submission
from feedback_core.ratings import Rating
from tests.unit.test_intake import submission

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
HEADER = {"originator_id", "originator_version", "originator_topic", "timestamp"}


def stored_state(app: CasesApplication, event: Any) -> dict[str, Any]:
    """The event as the store would hold it, without its timestamp (taken at creation)."""
    stored = app.mapper.to_stored_event(event)
    state: dict[str, Any] = app.mapper.transcoder.decode(stored.state)
    state.pop("timestamp")
    return {"topic": stored.topic, "id": stored.originator_id, **state}


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # a rating and a complaint
        {"description": "", "category": None},  # a rating alone
        {"rating": None, "channel": Channel.HOTLINE},  # a complaint alone
        {
            "contact_email": "lan@example.vn",
            "wants_updates": True,
            "latitude": 21.05,
            "longitude": 105.8,
            "components": {"officers": 2},
            "dossier_code": "H01.2-261123-0001",
        },
    ],
)
def test_created_events_are_those_of_the_library_constructors(overrides: dict[str, Any]) -> None:
    app = CasesApplication(env=POPO)
    sub = submission(**overrides)
    events = created_events_for(sub, BusinessCalendar())
    # The reference: the aggregates the public constructors build from the same fields.
    reference: list[Aggregate] = []
    for event in events:
        fields = {k: v for k, v in event.__dict__.items() if k not in HEADER}
        aggregate_class = Case if isinstance(event, Case.Received) else Rating
        reference.append(aggregate_class(**fields))
    assert [e.originator_id for e in events] == [a.id for a in reference]
    assert [e.originator_version for e in events] == [1] * len(events)
    assert [stored_state(app, e) for e in events] == [
        stored_state(app, a.pending_events[0]) for a in reference
    ]
    built = aggregates_for(sub, BusinessCalendar())
    assert [stored_state(app, e) for e in events] == [
        stored_state(app, a.pending_events[0]) for a in built
    ]
    expected_ids = ([rating_id_for(sub.submission_id)] if sub.rating is not None else []) + (
        [case_id_for(sub.submission_id)] if sub.has_complaint else []
    )
    assert [e.originator_id for e in events] == expected_ids


def test_stored_events_replay_into_the_aggregates() -> None:
    app = CasesApplication(env=POPO)
    sub = submission(contact_phone="0912345678", wants_updates=True)
    assert app.record_submissions([sub]).recorded == [sub.submission_id]
    case: Case = app.repository.get(case_id_for(sub.submission_id))
    rating: Rating = app.repository.get(rating_id_for(sub.submission_id))
    assert case.version == rating.version == 1
    assert case.rating_id == rating.id and rating.case_id == case.id
    assert case.recipients == [("", "0912345678")]
    assert app.record_submissions([sub]).duplicates == [sub.submission_id]


class CountingKeyStore(InMemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[set[UUID]] = []

    def wrapped_keys(self, subjects: Iterable[UUID]) -> dict[UUID, bytes | None]:
        wanted = set(subjects)
        self.lookups.append(wanted)
        return super().wrapped_keys(wanted)


def test_a_batch_sealed_at_the_edge_needs_no_key_lookup() -> None:
    store = CountingKeyStore()
    vault = PersonalDataVault(store, os.urandom(32))
    app = CasesApplication(env=POPO, personal_data=vault)
    sealed_at_edge = [
        seal_submission(vault, submission(contact_email=f"c{i}@example.vn", wants_updates=True))
        for i in range(3)
    ]
    store.lookups.clear()
    app.record_submissions([*sealed_at_edge, submission()])
    assert store.lookups == []
    clear: IntakeSubmission = submission(contact_phone="0912345678", wants_updates=True)
    app.record_submissions([*sealed_at_edge, clear])  # duplicates, and one clear contact
    assert store.lookups[0] == {clear.submission_id}  # only the subject still in clear
    case: Case = app.repository.get(case_id_for(clear.submission_id))
    assert all(is_sealed(v) for v in case.recipients[0] if v)
    kept: Case = app.repository.get(case_id_for(sealed_at_edge[0].submission_id))
    assert kept.recipients[0][0] == sealed_at_edge[0].contact_email


def test_an_event_missing_or_with_an_unknown_field_is_refused() -> None:
    from feedback_core.intake_service import _created_event, _Creation

    sub = submission()
    event = created_events_for(sub, BusinessCalendar())[1]
    fields = {k: v for k, v in event.__dict__.items() if k not in HEADER}
    shuffled = dict(reversed(fields.items()))  # any order in: the declared order out
    again = _created_event(_Creation(Case, Case.Received, event.originator_id, shuffled))
    assert list(vars(again)) == list(vars(event))
    missing = {k: v for k, v in fields.items() if k != "contact_zalo"}
    with pytest.raises(TypeError, match="contact_zalo"):
        _created_event(_Creation(Case, Case.Received, event.originator_id, missing))
    with pytest.raises(TypeError, match="colour"):
        _created_event(_Creation(Case, Case.Received, event.originator_id, {**fields, "colour": 1}))


class NotifiedCases(CasesApplication):
    def __init__(self) -> None:
        super().__init__(env=POPO)
        self.notified: list[int] = []

    def _notify(self, recordings: list[Any]) -> None:
        self.notified.extend(r.notification.id for r in recordings)


def test_save_events_is_save_without_the_protocol_checks() -> None:
    app = NotifiedCases()
    events = [
        e for s in (submission(), submission()) for e in created_events_for(s, BusinessCalendar())
    ]
    recordings = app.save_events(events)
    assert [r.domain_event for r in recordings] == events
    assert [r.notification.id for r in recordings] == app.notified == [1, 2, 3, 4]
    assert [n.id for n in app.notification_log.select(start=1, limit=10)] == [1, 2, 3, 4]
