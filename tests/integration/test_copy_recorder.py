"""The platform's event-store recorder (binary COPY) on the real PostgreSQL: the library's own
recorder test cases, and the guarantees the platform relies on, checked directly."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.tests import persistence as library_tests

from feedback_core.copy_recorder import CopyApplicationRecorder
from feedback_core.store import Database, open_cases_application
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


class _OnFreshDatabase:
    """Recorders made by the library's factory from the platform's settings, each test on
    a fresh database (so notification ids start at 1, as the library's cases expect)."""

    db: Database
    env: dict[str, str] = {}

    @pytest.fixture(autouse=True)
    def _fresh_database(self, database: Database) -> Iterator[None]:
        self.db = database
        self.factories: list[PostgresFactory] = []
        yield
        for factory in self.factories:
            factory.close()

    def create_recorder(self) -> CopyApplicationRecorder:
        factory = PostgresFactory(env={**self.db.eventsourcing_env(), **self.env})
        self.factories.append(factory)
        recorder = factory.application_recorder()
        assert type(recorder) is CopyApplicationRecorder  # wired by APPLICATION_RECORDER_TOPIC
        return recorder


class TestLibraryApplicationRecorderCase(
    _OnFreshDatabase, library_tests.ApplicationRecorderTestCase[CopyApplicationRecorder]
):
    """eventsourcing's own ApplicationRecorderTestCase (insert/select, contiguous ids,
    duplicates, concurrent writers and readers), run against the COPY recorder."""

    def test_insert_subscribe(self) -> None:
        # NOTIFY in the insert's transaction: a subscription wakes on the commit.
        self.optional_test_insert_subscribe()


class TestLibraryNonInterleavingCase(
    _OnFreshDatabase, library_tests.NonInterleavingNotificationIDsBaseCase
):
    """Two writers of 1,000 events each racing: one's ids all come before the other's."""


class TestLibraryCaseWithTextIds(
    _OnFreshDatabase, library_tests.ApplicationRecorderTestCase[CopyApplicationRecorder]
):
    """The same with the library's ORIGINATOR_ID_TYPE=text tables."""

    env = {"ORIGINATOR_ID_TYPE": "text"}

    def new_originator_id(self) -> str:
        return f"text-{uuid4()}"

    # The throughput cases say nothing more with text ids.
    test_concurrent_no_conflicts = None  # type: ignore[assignment]
    test_concurrent_throughput = None  # type: ignore[assignment]
    test_performance = None  # type: ignore[assignment]


# --- the platform's guarantees, checked directly -------------------------------------------


def events(
    count: int, originator_id: UUID | None = None, first_version: int = 1
) -> list[StoredEvent]:
    """``count`` events, each of its own aggregate unless ``originator_id`` is given."""
    return [
        StoredEvent(
            originator_id=originator_id or uuid4(),
            originator_version=first_version + (i if originator_id else 0),
            topic="tests:Event",
            state=f'{{"n":{i},"text":"Cán bộ tiếp nhận \\\\ \\t ok"}}'.encode(),
        )
        for i in range(count)
    ]


@pytest.fixture
def recorder(database: Database) -> Iterator[CopyApplicationRecorder]:
    factory = PostgresFactory(env=database.eventsourcing_env())
    try:
        recorder = factory.application_recorder()
        assert isinstance(recorder, CopyApplicationRecorder)
        yield recorder
    finally:
        factory.close()


def stored_rows(database: Database) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.conninfo) as conn:
        return conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM stored_events ORDER BY notification_id"
        ).fetchall()


def test_reads_back_what_was_written(recorder: CopyApplicationRecorder) -> None:
    written = events(300) + events(5, originator_id=uuid4())
    ids = recorder.insert_events(written)
    assert ids == list(range(1, 306))
    notifications = recorder.select_notifications(start=None, limit=1000)
    assert [n.id for n in notifications] == ids
    for event, notification in zip(written, notifications, strict=True):
        assert (notification.originator_id, notification.originator_version) == (
            event.originator_id,
            event.originator_version,
        )
        assert (notification.topic, notification.state) == (event.topic, event.state)
    assert recorder.max_notification_id() == 305

    # An id given as text on the library's uuid tables is stored as that uuid, as the
    # library's insert does.
    given_as_text = uuid4()
    assert recorder.insert_events([StoredEvent(str(given_as_text), 1, "tests:Event", b"{}")]) == [
        306
    ]
    assert [e.originator_id for e in recorder.select_events(given_as_text)] == [given_as_text]


def test_duplicate_version_raises_integrity_error_and_writes_nothing(
    recorder: CopyApplicationRecorder, database: Database
) -> None:
    aggregate = uuid4()
    recorder.insert_events(events(3, originator_id=aggregate))
    before = stored_rows(database)

    # A batch of new events with one already-stored version among them: all or nothing.
    batch = events(100) + events(1, originator_id=aggregate, first_version=2)
    with pytest.raises(IntegrityError):
        recorder.insert_events(batch)
    # The same version twice within one batch fails the same way.
    with pytest.raises(IntegrityError):
        recorder.insert_events(events(50) + events(1, originator_id=aggregate, first_version=4) * 2)
    assert stored_rows(database) == before

    # The store goes on: the next ids follow the last committed ones (as with the
    # library's recorder, a rolled-back transaction may leave a gap, never an overlap).
    ids = recorder.insert_events(events(10))
    assert ids is not None and len(ids) == 10 and min(ids) > 3
    assert ids == list(range(ids[0], ids[0] + 10))


def test_concurrent_writers_get_consecutive_ids_in_commit_order(
    recorder: CopyApplicationRecorder, database: Database
) -> None:
    """Two threads saving at the same time: every transaction's ids are consecutive (no
    interleaving), the log has no gaps, and each returned id is the stored event's."""
    rounds, size = 25, 120
    returned: list[tuple[list[StoredEvent], Sequence[int]]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                batch = events(size)
                ids = recorder.insert_events(batch)
                assert ids is not None
                returned.append((batch, ids))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(returned) == 2 * rounds

    rows = stored_rows(database)
    assert [row[0] for row in rows] == list(range(1, 2 * rounds * size + 1))  # no gaps
    by_id = {row[0]: row for row in rows}
    for batch, ids in returned:
        assert list(ids) == list(range(ids[0], ids[0] + size))  # consecutive, in order
        for event, notification_id in zip(batch, ids, strict=True):
            row = by_id[notification_id]
            assert (row[1], row[2], row[3], bytes(row[4])) == (
                event.originator_id,
                event.originator_version,
                event.topic,
                event.state,
            )


def test_library_and_copy_recorders_share_one_log(database: Database) -> None:
    """A process still on the library's recorder and one on ours write the same table:
    the ids stay one sequence (the lock and the sequence are the table's)."""
    library = PostgresFactory(env=database.eventsourcing_env(copy_recorder=False))
    ours = PostgresFactory(env=database.eventsourcing_env())
    try:
        plain = library.application_recorder()
        assert type(plain) is PostgresApplicationRecorder
        copying = ours.application_recorder()
        assert plain.insert_events(events(20)) == list(range(1, 21))
        assert copying.insert_events(events(30)) == list(range(21, 51))
        assert plain.insert_events(events(5)) == list(range(51, 56))
        assert copying.max_notification_id() == 55
    finally:
        library.close()
        ours.close()


def test_cases_application_writes_through_copy_and_detects_redelivery(
    database: Database,
) -> None:
    app = open_cases_application(database)
    try:
        assert isinstance(app.recorder, CopyApplicationRecorder)
        subs = [submission(description=f"Chờ lâu quá (#{i})") for i in range(40)]
        first = app.record_submissions(subs)
        assert len(first.recorded) == 40 and not first.duplicates
        assert app.recorder.max_notification_id() == 80  # a rating and a case each

        # A re-delivered batch, with new submissions in it: the store's IntegrityError sends
        # it one by one, the known ones are duplicates, nothing is stored twice.
        again = app.record_submissions(subs[:10] + [submission()])
        assert len(again.duplicates) == 10 and len(again.recorded) == 1
        notifications = app.recorder.select_notifications(start=None, limit=1000)
        assert len(notifications) == 82
        assert len({(n.originator_id, n.originator_version) for n in notifications}) == 82
    finally:
        app.close()
