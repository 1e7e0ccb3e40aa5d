"""The parallel rebuild's routing: a stored rating goes to the shard of the case its
submission opened (read from its JSON without decoding it), to its own when there is none,
and to every worker (decoded to decide) when the JSON does not show it plainly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from feedback_core.application import CasesApplication
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.ratings import Rating
from projections.bulk_parallel import rating_shard, shard_of


@pytest.fixture
def app() -> Iterator[CasesApplication]:
    application = CasesApplication()
    yield application
    application.close()


def stored_rating(app: CasesApplication, complaint: bool, **fields: Any) -> StoredEvent:
    sub = IntakeSubmission(
        submission_id=uuid4(), channel=Channel.QR, unit_id="nhat-tan",
        office_id="nhat-tan-mc", counter_id="nhat-tan-q1",
        submitted_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC), rating=4,
        description="Chờ quá lâu." if complaint else "",
        category=ComplaintCategory.DELAY if complaint else None, **fields,
    )  # fmt: skip
    for aggregate in aggregates_for(sub, BusinessCalendar()):
        if isinstance(aggregate, Rating):
            (event,) = aggregate.collect_events()
            return app.mapper.to_stored_event(event)
    raise AssertionError("no rating")


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_a_rating_goes_with_its_case(app: CasesApplication, shards: int) -> None:
    for _ in range(40):
        stored = stored_rating(app, complaint=True)
        rating = app.mapper.to_domain_event(stored)
        assert isinstance(rating, Rating.Given)
        assert rating.case_id == case_id_for(rating.submission_id)
        assert rating_shard(stored.state, shards) == shard_of(rating.case_id, shards)


def test_a_rating_without_a_case_goes_by_its_own_id(app: CasesApplication) -> None:
    assert rating_shard(stored_rating(app, complaint=False).state, 2) is None


def test_a_state_that_does_not_show_the_case_plainly_is_decoded(app: CasesApplication) -> None:
    plain = stored_rating(app, complaint=True).state
    assert rating_shard(plain, 2) in (0, 1)
    # A component named like the field: two matches, so no guess.
    twice = plain.replace(b'"components":{', b'"components":{"case_id":3,', 1)
    assert twice != plain and rating_shard(twice, 2) == -1
    assert rating_shard(plain.replace(b'"uuid_hex"', b'"uuid_other"'), 2) == -1
