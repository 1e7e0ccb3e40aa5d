"""The library's own per-event projection runner, kept as the correctness and speed baseline.

``eventsourcing.projection.ProjectionRunner`` subscribes to the Cases application's
notification log and calls ``process_event`` once per event; the view below applies that one
event with the very same ``CaseViews`` statements as the batched runner and records the
tracking position, in one transaction per event. Its tables live in a schema of its own, so
``projections.rebuild.compare_schemas`` can hold it up against the batched runner's schema.

Environment: the runner builds the application from ``env`` as given (the application is named
``cases``, so ``CASES_*`` keys would be its own) and the view from the same ``env`` read through
an ``Environment`` named after the projection, which looks up ``<PROJECTION NAME>_<KEY>``
first and then ``<KEY>``. Only the view's schema is set with the prefix
(``LIBRARY_CASE_VIEWS_POSTGRES_SCHEMA``): an unprefixed ``POSTGRES_SCHEMA`` would move the
application's event store too. The tracking table is named after the projection as well
(``library_case_views_tracking``).

The library's ``ListenNotifySubscription`` needs ``subscribe()``, which the SQLite recorder
does not implement: this baseline runs on PostgreSQL only.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg import Cursor, errors, sql
from psycopg.rows import DictRow, tuple_row

from feedback_core.application import CasesApplication
from feedback_core.store import Database
from projections.case_views import CaseViews
from projections.views import create_views

PROJECTION_NAME = "library_case_views"
TRACKING_TABLE = f"{PROJECTION_NAME}_tracking"  # the library's PostgresFactory names it so
DEFAULT_SCHEMA = "library_views"


class LibraryCaseView(PostgresTrackingRecorder):
    """The case views as a library tracking recorder: one event, one transaction."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.case_views = CaseViews()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # The schema must exist before the library creates its tracking table in it. The
        # library's connections return dict rows; create_views, like the batched runner's
        # connection, expects tuples.
        conn = curs.connection
        row_factory = conn.row_factory
        conn.row_factory = tuple_row
        try:
            create_views(conn, self.datastore.schema)
        finally:
            conn.row_factory = row_factory
        super()._create_table(curs)

    def apply_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The event's view rows and the tracking record: one connection, one transaction."""
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as view_cursor,
            conn.cursor() as tracking_cursor,
        ):
            self.case_views.apply(view_cursor, self.datastore.schema, [domain_event])
            self._insert_tracking(tracking_cursor, tracking)


class LibraryCaseProjection(Projection[LibraryCaseView]):
    name = PROJECTION_NAME
    topics: tuple[str, ...] = ()  # every event: the tracking position moves on each one

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply_event(domain_event, tracking)


def library_env(db: Database, schema: str = DEFAULT_SCHEMA) -> dict[str, str]:
    """The runner's environment: the application's settings, plus the view's own schema."""
    env = db.eventsourcing_env()
    env[f"{PROJECTION_NAME.upper()}_POSTGRES_SCHEMA"] = schema
    return env


def tracked_position(db: Database, schema: str = DEFAULT_SCHEMA) -> int:
    """The notification id the view has tracked for the Cases application (0: none yet)."""
    query = sql.SQL("SELECT notification_id FROM {}.{} WHERE application_name = %s").format(
        sql.Identifier(schema), sql.Identifier(TRACKING_TABLE)
    )
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        try:
            row = conn.execute(query, (CasesApplication.name,)).fetchone()
        except errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def run_library_projection(
    db: Database,
    schema: str = DEFAULT_SCHEMA,
    timeout: float = 600.0,
    upto: int | None = None,
    poll_interval: float = 0.01,
) -> int:
    """Run the library's ``ProjectionRunner`` until its view has tracked the application's
    last notification (or ``upto``, if smaller), then stop it; returns how many notifications
    it moved the tracking position by. Raises ``TimeoutError`` after ``timeout`` seconds, and
    re-raises an error of the runner's processing thread.
    """
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        # Before reading the position: a schema left by another version of the view DDL is
        # dropped here, so the count below starts from what the runner will resume from.
        create_views(conn, schema)
    started = tracked_position(db, schema)  # before the runner's thread starts applying
    runner: ProjectionRunner[CasesApplication, LibraryCaseView] = ProjectionRunner(
        application_class=CasesApplication,
        projection_class=LibraryCaseProjection,
        view_class=LibraryCaseView,
        env=library_env(db, schema),
    )
    view = runner.view
    try:
        with runner:
            app_name = runner.app.name
            last = runner.app.recorder.max_notification_id() or 0
            target = last if upto is None else min(upto, last)
            reached = view.max_tracking_id(app_name) or 0
            deadline = time.monotonic() + timeout
            while reached < target:
                if runner.is_interrupted.is_set():
                    runner.run_forever(timeout=0)  # re-raises the processing thread's error
                    raise RuntimeError("the library projection runner stopped early")
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"library projection reached {reached} of {target} in {timeout} s"
                    )
                time.sleep(poll_interval)
                reached = view.max_tracking_id(app_name) or 0
        # Leaving the runner stops it; a few events past ``upto`` may have been applied.
        return reached - started
    finally:
        view.datastore.close()  # the runner closes its application, not the view's pool
