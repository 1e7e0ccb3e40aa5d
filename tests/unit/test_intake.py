from datetime import UTC, datetime
from uuid import uuid4

import pytest

from feedback_core.intake import (
    MAX_DESCRIPTION_CHARS,
    Channel,
    ComplaintCategory,
    IntakeError,
    IntakeSubmission,
    from_json,
    to_json,
)


def submission(**overrides: object) -> IntakeSubmission:
    fields: dict[str, object] = {
        "submission_id": uuid4(),
        "channel": Channel.QR,
        "unit_id": "nhat-tan",
        "office_id": "nhat-tan-mc",
        "counter_id": "nhat-tan-q1",
        "submitted_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        "rating": 2,
        "description": "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định.",
        "category": ComplaintCategory.HARASSMENT,
    }
    fields.update(overrides)
    return IntakeSubmission(**fields)  # type: ignore[arg-type]


def test_json_round_trip_keeps_every_field() -> None:
    sub = submission()
    assert from_json(to_json(sub)) == sub
    assert b'"schema_version":1' in to_json(sub)


@pytest.mark.parametrize("rating", [0, 6, None, "5"])
def test_rating_must_be_one_to_five(rating: object) -> None:
    with pytest.raises(IntakeError) as err:
        submission(rating=rating)
    assert err.value.code == "rating_missing"


def test_description_limit() -> None:
    submission(description="a" * MAX_DESCRIPTION_CHARS)
    with pytest.raises(IntakeError) as err:
        submission(description="a" * (MAX_DESCRIPTION_CHARS + 1))
    assert err.value.code == "description_too_long"


def test_naive_time_is_refused() -> None:
    with pytest.raises(IntakeError):
        submission(submitted_at=datetime(2026, 11, 23, 9, 30))


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{}",
        b'{"schema_version": 2}',
        to_json(submission()).replace(b'"qr"', b'"fax"'),
    ],
)
def test_malformed_events_raise_intake_error(raw: bytes) -> None:
    with pytest.raises(IntakeError):
        from_json(raw)


def test_rating_without_text_is_not_a_complaint() -> None:
    assert not submission(description="   ", category=None).has_complaint


def test_a_hotline_complaint_needs_no_rating_but_a_qr_rating_does() -> None:
    call = submission(channel=Channel.HOTLINE, rating=None, reported_by="tongdai.tayho")
    assert not call.has_rating and call.has_complaint
    assert from_json(to_json(call)) == call
    with pytest.raises(IntakeError, match="needs a description"):
        submission(channel=Channel.HOTLINE, rating=None, description="")
    with pytest.raises(IntakeError):
        submission(channel=Channel.QR, rating=None)


def test_sipas_components_dossier_code_and_location() -> None:
    sub = submission(
        components={"access": 4, "officers": 2}, dossier_code="H01.35-241123-0012",
        address="Số 1 Nhật Tân", latitude=21.08, longitude=105.82,
    )
    assert from_json(to_json(sub)) == sub
    for bad in ({"components": {"access": 6}}, {"components": {"charm": 3}},
                {"dossier_code": "<script>"}, {"latitude": 21.0}, {"latitude": 91.0,
                                                                  "longitude": 0.0}):
        with pytest.raises(IntakeError):
            submission(**bad)
