"""The pure comparison of reconcile: intake messages against the aggregates in the store."""

from __future__ import annotations

from uuid import uuid4

import pytest

from consumers.reconcile import IntakeMessage, TopicRange, compare, expected_aggregates
from feedback_core.intake import Channel
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
from tests.unit.test_intake import submission

TOPIC = "feedback.intake.v1"
RANGES = [TopicRange(0, 0, 10)]


@pytest.mark.parametrize(
    "sub",
    [
        submission(),
        submission(description=""),
        submission(channel=Channel.HOTLINE, rating=None),
    ],
    ids=["rating and case", "rating only", "complaint only"],
)
def test_expected_aggregates_are_those_the_core_creates(sub: object) -> None:
    made = aggregates_for(sub, BusinessCalendar())  # type: ignore[arg-type]
    assert expected_aggregates(sub) == [a.id for a in made]  # type: ignore[arg-type]


def messages(*subs: object, partition: int = 0) -> list[IntakeMessage]:
    return [IntakeMessage(partition, i, s) for i, s in enumerate(subs)]  # type: ignore[arg-type]


def test_stored_missing_and_redelivered() -> None:
    a, b, c = submission(), submission(description=""), submission()
    stored = set(expected_aggregates(a)) | set(expected_aggregates(b))
    result = compare(TOPIC, RANGES, messages(a, b, a, c), stored, {0: 2}, set())
    assert result.submissions == 3 and result.stored == 2
    assert result.redelivered == {a.submission_id: 2}
    (missing,) = result.missing
    assert missing.message.submission == c and missing.message.offset == 3
    assert not missing.lost  # offset 3 is beyond the committed offset 2: not consumed yet
    assert result.to_redrive() == [c]
    assert not result.clean


def test_lost_when_the_group_committed_past_it() -> None:
    a = submission()
    result = compare(TOPIC, RANGES, messages(a), set(), {0: 1}, set())
    assert result.missing[0].lost and result.lost == result.missing


def test_a_partial_submission_is_not_redriven() -> None:
    a = submission()
    rating_only = {expected_aggregates(a)[0]}
    result = compare(TOPIC, RANGES, messages(a), rating_only, {}, set())
    (missing,) = result.missing
    assert missing.partial and missing.absent == [expected_aggregates(a)[1]]
    assert result.to_redrive() == []


def test_a_resubmission_with_other_content_is_flagged_and_the_first_counts() -> None:
    a = submission(description="")
    changed = submission(submission_id=a.submission_id, description="Thêm phản ánh")
    stored = set(expected_aggregates(a))
    result = compare(TOPIC, RANGES, messages(a, changed), stored, {}, set())
    assert result.stored == 1 and result.missing == []
    assert [m.offset for m in result.conflicting] == [1]


def test_dead_letters_are_cross_checked_with_the_dlq() -> None:
    poison = [IntakeMessage(1, 7, None, "schema"), IntakeMessage(2, 0, None, "schema")]
    result = compare(TOPIC, RANGES, poison, set(), {}, {f"{TOPIC}/1/7"})
    assert len(result.dead_letters) == 2
    assert [(m.partition, m.offset) for m in result.dead_letters_not_in_dlq] == [(2, 0)]
    assert not result.clean


def test_clean_and_stored_without_message() -> None:
    a = submission()
    other = uuid4()
    result = compare(TOPIC, RANGES, messages(a), set(expected_aggregates(a)), {0: 1}, set(),
                     created=set(expected_aggregates(a)) | {other})
    assert result.clean and result.stored_without_message == 1
    assert result.to_json()["clean"] is True
