"""The Cases application on the library's in-memory (POPO) store: no I/O."""

from datetime import UTC, date, datetime

from feedback_core.application import CasesApplication
from feedback_core.cases import Case, CaseStatus
from feedback_core.identity import case_id_for, rating_id_for, tracking_code_for
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.ratings import Rating
from tests.unit.test_intake import submission


def test_a_complaint_opens_a_case_due_in_ten_working_days() -> None:
    sub = submission(submitted_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 09:00 in Hà Nội
    rating, case = aggregates_for(sub, BusinessCalendar())
    assert isinstance(rating, Rating) and isinstance(case, Case)
    assert case.id == case_id_for(sub.submission_id)
    assert case.tracking_code == tracking_code_for(sub.submission_id)
    assert case.status is CaseStatus.RECEIVED
    assert case.due_on == date(2026, 3, 16)
    assert rating.case_id == case.id and case.rating_id == rating.id


def test_received_date_is_the_local_date_in_hanoi() -> None:
    # 23:30 UTC on Friday is 06:30 on Saturday in Hà Nội: counting starts from Saturday.
    sub = submission(submitted_at=datetime(2026, 3, 6, 23, 30, tzinfo=UTC))
    _, case = aggregates_for(sub, BusinessCalendar())
    assert isinstance(case, Case)
    assert case.received_at == sub.submitted_at
    assert case.due_on == date(2026, 3, 20)


def test_a_rating_alone_opens_no_case() -> None:
    (rating,) = aggregates_for(submission(description="", category=None), BusinessCalendar())
    assert isinstance(rating, Rating) and rating.case_id is None


def test_a_resubmission_is_a_duplicate_not_a_second_case() -> None:
    app = CasesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first, second = submission(), submission()
    assert app.record_submissions([first, first]).recorded == [first.submission_id]
    result = app.record_submissions([first, second])
    assert result.recorded == [second.submission_id]
    assert result.duplicates == [first.submission_id]
    assert app.repository.get(case_id_for(first.submission_id)).version == 1
    assert app.repository.get(rating_id_for(second.submission_id)).score == 2
    assert app.recorder.max_notification_id() == 4


def test_a_complaint_without_rating_opens_a_case_only() -> None:
    from feedback_core.intake import Channel

    sub = submission(channel=Channel.HOTLINE, rating=None, contact_phone="0912345678",
                     wants_updates=True, reported_by="tongdai.tayho")
    (case,) = aggregates_for(sub, BusinessCalendar())
    assert isinstance(case, Case) and case.rating_id is None
    assert case.reported_by == "tongdai.tayho" and case.recipients == [("", "0912345678")]
