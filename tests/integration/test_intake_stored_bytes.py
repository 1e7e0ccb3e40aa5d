"""The intake's write path stores the very rows the library's own path stores.

``CasesApplication.record_submissions`` builds the created events without the frozen
dataclass's ``__init__`` and saves them without ``Application.save``'s Protocol checks
(docs/benchmarks.md, "The consumer's Python cost per event"). Two comparisons of the rows
in PostgreSQL (originator id, version, topic and the state's bytes), for a batch with every
kind of event the intake creates: ratings alone and with components, cases from every
channel in every category, contacts sealed at the edge, a photo, a location, a reporter,
kiosk and paper times around midnight and a weekend, a duplicate in the batch:

1. against the rows the code before that change (commit 0501cd1) stored for the same
   submissions, kept in ``intake_stored_rows.json`` (only the timestamps, taken when the
   events are made, are masked);
2. against the library's own path in the same run: the events its constructors make (with
   the timestamps just stored) saved by ``Application.save`` through the library's
   ``PostgresApplicationRecorder`` into a second table: byte for byte, timestamps included.

``python -m tests.integration.test_intake_stored_bytes --write [by whom]`` records the file
again (after a deliberate change of an event's fields; the file says which code recorded it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from feedback_core.application import CasesApplication
from feedback_core.intake import (
    RATING_CHANNELS,
    Channel,
    ComplaintCategory,
    IntakeSubmission,
    SipasComponent,
    from_json,
    to_json,
)
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault
from feedback_core.privacy.submissions import seal_submission
from feedback_core.store import Database, open_cases_application

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).with_name("intake_stored_rows.json")
Row = tuple[str, int, str, bytes]  # originator id, version, topic, state
_TIMESTAMP = re.compile(rb'^\{"timestamp":\{"_type_":"datetime_iso","_data_":"[^"]+"\}')
_MASKED = b'{"timestamp":{"_type_":"datetime_iso","_data_":"<masked>"}'


def intake_batch() -> list[IntakeSubmission]:
    """Every kind of event the intake creates (deterministic ids and times; the contacts
    are sealed at the edge with a throwaway key, as the web seals them)."""
    n = iter(range(1, 1000))
    subs: list[IntakeSubmission] = []

    def add(channel: Channel, at: datetime, **fields: Any) -> None:
        unit = f"unit-{len(subs) % 3}"
        subs.append(
            IntakeSubmission(
                submission_id=UUID(int=next(n) * 7_919, version=4),
                channel=channel,
                unit_id=unit,
                office_id=f"{unit}-mc",
                counter_id=f"{unit}-q1",
                submitted_at=at,
                rating=fields.pop("rating", None),
                **fields,
            )
        )

    monday = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)  # 09:15 in Hà Nội
    for score, channel in enumerate(sorted(RATING_CHANNELS), start=1):  # ratings alone
        add(channel, monday, rating=score)
    add(
        Channel.QR,
        monday,
        rating=5,
        dossier_code="H01.2-261123-0001",
        components={c.value: i + 1 for i, c in enumerate(SipasComponent)},
    )
    for i, category in enumerate(ComplaintCategory):  # a case from every channel, category
        for channel in Channel:
            add(
                channel,
                monday.replace(minute=i),
                rating=1 + i % 3 if channel in RATING_CHANNELS else None,
                category=category,
                description=f'  Chờ lâu "quá" \\ {category.value}\n(#{i}) 🙏  ',
            )
    add(
        Channel.HOTLINE,
        monday,
        description="Không chọn loại.",
        category=None,
        reported_by="tongdai.tayho",
        locale="en",
    )
    add(
        Channel.OPEN311,
        monday,
        description="Đèn hỏng trước cửa.",
        category=None,
        address="12 Nhật Chiêu, Tây Hồ",
        latitude=21.0702,
        longitude=105.8259,
    )
    add(Channel.QR, monday, rating=2, description="Ảnh kèm theo.", photo_id="ab" * 32)
    # Kiosk and paper: late evening UTC (the next day in Hà Nội), a Saturday, a Sunday.
    add(
        Channel.KIOSK,
        datetime(2026, 11, 27, 17, 30, tzinfo=UTC),
        rating=1,
        description="Máy lấy số hỏng.",
        category=ComplaintCategory.FACILITIES,
    )
    add(
        Channel.PAPER,
        datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
        rating=3,
        description="Thiếu ghế.",
        batch_id="batch-1",
    )
    add(Channel.PAPER, datetime(2026, 11, 29, 16, 59, tzinfo=UTC), rating=4)
    # Contacts sealed at the edge (e-mail, phone, Zalo), with consent.
    vault = PersonalDataVault(InMemoryKeyStore(), os.urandom(32))
    sealed: list[tuple[Channel, dict[str, Any]]] = [
        (Channel.QR, {"contact_email": "lan@example.vn", "rating": 2}),
        (Channel.HOTLINE, {"contact_phone": "0912345678"}),
        (Channel.ZALO, {"contact_zalo": "oa-tayho:follower_1"}),
    ]
    for channel, contact in sealed:
        add(channel, monday, description="Xin báo kết quả.", wants_updates=True, **contact)
        subs[-1] = seal_submission(vault, subs[-1])
    subs.append(subs[0])  # a duplicate in the batch: stored once
    return subs


def stored_rows(db: Database, table: str = "cases_events") -> list[Row]:
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}"
                " ORDER BY notification_id"
            ).format(sql.Identifier(table))
        ).fetchall()
    return [(str(r[0]), r[1], r[2], bytes(r[3])) for r in rows]


def masked(state: bytes) -> bytes:
    """The state with its timestamp (the time the event was made) masked."""
    result, count = _TIMESTAMP.subn(_MASKED, state)
    assert count == 1, state[:120]
    return result


def record_with_the_intake(db: Database, submissions: list[IntakeSubmission]) -> list[Row]:
    app = open_cases_application(db)
    try:
        result = app.record_submissions(submissions)
        assert len(result.recorded) == len({s.submission_id for s in submissions})
    finally:
        app.close()
    return stored_rows(db)


def with_timestamp(event: Any, timestamp: datetime) -> Any:
    """The event made again by its dataclass's ``__init__``, with the given timestamp."""
    return dataclasses.replace(event, timestamp=timestamp)


class LibraryCases(CasesApplication):
    """The reference: its own table, the library's recorder and ``Application.save``."""

    name = "reference"


def test_rows_are_those_the_previous_code_stored(database: Database) -> None:
    golden = json.loads(GOLDEN.read_text())
    submissions = [from_json(raw) for raw in golden["submissions"]]
    rows = record_with_the_intake(database, submissions)
    expected = [(i, v, t, s.encode()) for i, v, t, s in golden["rows"]]
    assert len(rows) == len(expected) > 60
    assert [(i, v, t, masked(s)) for i, v, t, s in rows] == expected


def test_rows_are_those_of_the_library_constructors_and_save(database: Database) -> None:
    submissions = intake_batch()
    rows = record_with_the_intake(database, submissions)
    timestamps = {
        (UUID(i), v): datetime.fromisoformat(json.loads(s)["timestamp"]["_data_"])
        for i, v, _, s in rows
    }
    reference = LibraryCases(database.eventsourcing_env(copy_recorder=False))
    try:
        assert type(reference.recorder).__name__ == "PostgresApplicationRecorder"
        calendar = BusinessCalendar()
        unique = {s.submission_id: s for s in submissions}.values()
        events = [
            with_timestamp(pending, timestamps[(pending.originator_id, 1)])
            for sub in unique
            for aggregate in aggregates_for(sub, calendar)
            for pending in aggregate.collect_events()
        ]
        reference.save(*events)
    finally:
        reference.close()
    assert stored_rows(database, "reference_events") == rows
    kinds = {(t, json.loads(s).get("channel")) for _, _, t, s in rows}
    assert {("feedback_core.cases:Case.Received", c.value) for c in Channel} <= kinds
    assert {("feedback_core.ratings:Rating.Given", c.value) for c in RATING_CHANNELS} <= kinds


def write_golden(recorded_by: str) -> None:
    """Record the batch with the code on ``sys.path`` and write ``intake_stored_rows.json``."""
    from tests.support.services import drop_database, fresh_database

    submissions = intake_batch()
    db = fresh_database()
    try:
        rows = record_with_the_intake(db, submissions)
    finally:
        drop_database(db)
    GOLDEN.write_text(
        json.dumps(
            {
                "recorded_by": recorded_by,
                "submissions": [to_json(s).decode() for s in submissions],
                "rows": [[i, v, t, masked(s).decode()] for i, v, t, s in rows],
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"{GOLDEN}: {len(rows)} rows")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"]:
        sys.exit(__doc__)
    write_golden(" ".join(sys.argv[2:]) or "record_submissions of the working tree")
