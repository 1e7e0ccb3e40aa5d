"""to_json writes exactly what the deep-copying ``asdict`` encoding wrote (the log's bytes
do not change with the cheaper encoder), for a submission with every field set."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from uuid import uuid4

from feedback_core.intake import (
    Channel,
    ComplaintCategory,
    IntakeSubmission,
    from_json,
    to_json,
)


def asdict_encoding(sub: IntakeSubmission) -> bytes:
    data = asdict(sub)
    data["submission_id"] = str(sub.submission_id)
    data["submitted_at"] = sub.submitted_at.isoformat()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def test_to_json_is_byte_for_byte_the_asdict_encoding() -> None:
    full = IntakeSubmission(
        submission_id=uuid4(),
        channel=Channel.QR,
        unit_id="nhat-tan",
        office_id="nhat-tan-mc",
        counter_id="nhat-tan-q1",
        submitted_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        rating=4,
        description="Chờ quá lâu ở quầy.",
        category=ComplaintCategory.DELAY,
        locale="en",
        contact_email="dan@example.vn",
        contact_phone="0912345678",
        wants_updates=True,
        components={"access": 4, "officers": 2},
        dossier_code="H01.35-241123-0012",
        photo_id="ab" * 32,
        reported_by="tongdai.tayho",
        address="Số 1 Nhật Tân",
        latitude=21.08,
        longitude=105.82,
    )
    bare = IntakeSubmission(
        submission_id=uuid4(),
        channel=Channel.QR,
        unit_id="nhat-tan",
        office_id="nhat-tan-mc",
        counter_id="nhat-tan-q1",
        submitted_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        rating=5,
    )
    for sub in (full, bare):
        assert to_json(sub) == asdict_encoding(sub)
        assert from_json(to_json(sub)) == sub
    assert full.components == {"access": 4, "officers": 2}  # read, never changed
