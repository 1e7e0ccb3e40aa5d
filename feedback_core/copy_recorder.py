"""The event store's write path for bulk saves: the library's PostgreSQL recorder, inserting
with binary COPY instead of a text-dumped array of composite rows.

``PostgresApplicationRecorder.insert_events`` sends the stored events as one array of a
composite type that psycopg dumps as text (every ``state`` escaped by regular expressions):
with the intake consumer's batches of 3,000 events, that dumping was the largest single
cost of a save (docs/benchmarks.md, "The consumer's write path"). This recorder writes the
same rows to the same table with ``COPY ... FROM STDIN (FORMAT BINARY)`` and keeps every
guarantee of the library's:

- one transaction takes the library's ``LOCK TABLE ... IN EXCLUSIVE MODE`` (and its
  ``lock_timeout``) before any notification id is drawn, so the ids of a transaction are
  consecutive and in commit order: a reader tailing the log never passes a gap that is
  filled later (the reason is in the library's ``_lock_table``);
- the ids are drawn from the column's own sequence under that lock and written explicitly,
  so the ids returned are exactly the ids stored (not inferred from ``currval``), in the
  order of the events given, as the library's ``INSERT ... RETURNING`` returns them;
- a duplicate ``(originator_id, originator_version)`` fails the table's primary key and the
  whole transaction: the library's ``IntegrityError`` (through its datastore), nothing
  written. The intake's idempotency relies on it (``CasesApplication.record_submissions``);
- ``NOTIFY`` on the library's channel in the same transaction, so subscribers wake on commit;
- the library's table, columns, indexes and retries on connection errors.

Wired in by ``APPLICATION_RECORDER_TOPIC`` (``feedback_core.store.Database.eventsourcing_env``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import get_topic, retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal


class CopyApplicationRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose bulk inserts are binary COPYs (see the module)."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema, table = Identifier(datastore.schema), Identifier(events_table_name)
        self.copy_events_statement = SQL(
            "COPY {}.{} (originator_id, originator_version, topic, state, notification_id)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(schema, table)
        # %s ids from the sequence behind the bigserial column (looked up once per call).
        qualified = SQL("{}.{}").format(schema, table).as_string()
        self.reserve_ids_statement = SQL(
            "SELECT ARRAY("
            " SELECT nextval(s.seq) AS id"
            " FROM (SELECT pg_get_serial_sequence({}, 'notification_id')::regclass AS seq) s,"
            " generate_series(1, %s)"
            " ORDER BY id) AS ids"
        ).format(Literal(qualified))
        self.copy_types = [datastore.originator_id_type, "int8", "text", "bytea", "int8"]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        return self._copy_events(stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _copy_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        # psycopg errors raised inside get_connection() become the library's (IntegrityError
        # for a duplicate version), after the transaction has rolled back.
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            with conn.pipeline():  # one round trip for the statements before the COPY
                self._insert_events(curs, stored_events, **kwargs)  # the library's hook
                self._lock_table(curs)
                self._notify_channel(curs)
                curs.execute(self.reserve_ids_statement, (len(stored_events),), prepare=True)
            ids = self._reserved_ids(curs)
            self._copy_stored_events(curs, stored_events, ids)
        return ids

    @staticmethod
    def _reserved_ids(curs: Cursor[DictRow]) -> list[int]:
        """The ids ``reserve_ids_statement`` drew from the column's sequence, ascending;
        consecutive, because every writer of this table holds the EXCLUSIVE lock while it
        draws ids."""
        row = curs.fetchone()
        assert row is not None
        ids: list[int] = row["ids"]
        return ids

    def _copy_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        with curs.copy(self.copy_events_statement) as copy:
            copy.set_types(self.copy_types)
            uuid_ids = self.datastore.originator_id_type == "uuid"
            for event, notification_id in zip(stored_events, ids, strict=True):
                originator_id = event.originator_id
                if uuid_ids and not isinstance(originator_id, UUID):
                    originator_id = UUID(originator_id)
                copy.write_row(
                    (
                        originator_id,
                        event.originator_version,
                        event.topic,
                        event.state,
                        notification_id,
                    )
                )


APPLICATION_RECORDER_TOPIC = get_topic(CopyApplicationRecorder)
