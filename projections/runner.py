"""A batched projection runner: follows the notification log page by page and writes each
page's view rows and the new tracking position in one transaction, so a restart resumes
exactly where the last commit left off.

The library's ``ProjectionRunner`` commits once per event (about 1,700 events/s measured);
this one commits once per page. ``library_baseline`` keeps the per-event runner as the
correctness and speed baseline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application
from psycopg import Cursor, sql

from feedback_core.backoff import Backoff
from feedback_core.database_errors import DATABASE_OUTAGES
from feedback_core.store import CONNECT_TIMEOUT_S
from projections.views import create_views

log = logging.getLogger(__name__)


class ViewProjection(Protocol):
    name: str

    def apply(self, cur: Cursor[Any], schema: str, events: Sequence[Any]) -> None: ...


class BatchedProjectionRunner:
    def __init__(
        self,
        app: Application[Any],
        conninfo: str,
        projection: ViewProjection,
        schema: str = "views",
        page_size: int = 2000,
    ) -> None:
        self.app = app
        self.projection = projection
        self.schema = schema
        self.page_size = page_size
        self.conninfo = conninfo
        self.conn = self._connect()
        create_views(self.conn, schema)
        self._stop = threading.Event()

    def position(self) -> int:
        row = self.conn.execute(
            sql.SQL(
                "SELECT notification_id FROM {}.projection_position WHERE projection = %s"
            ).format(sql.Identifier(self.schema)),
            (self.projection.name,),
        ).fetchone()
        return int(row[0]) if row else 0

    def process_page(self) -> int:
        """Apply the next page of the log; returns how many notifications it held."""
        start = self.position()
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.page_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        with self.conn.transaction(), self.conn.cursor() as cur:
            self.projection.apply(cur, self.schema, events)
            self._advance(cur, start, notifications[-1].id)
        return len(notifications)

    def _advance(self, cur: Cursor[Any], expected: int, position: int) -> None:
        """Move the position, refusing if another runner moved it since we read it."""
        table = sql.SQL("{}.projection_position").format(sql.Identifier(self.schema))
        cur.execute(
            sql.SQL(
                "INSERT INTO {t} AS p VALUES (%(name)s, %(pos)s) ON CONFLICT (projection) "
                "DO UPDATE SET notification_id = %(pos)s WHERE p.notification_id = %(expected)s"
            ).format(t=table),
            {"name": self.projection.name, "pos": position, "expected": expected},
        )
        if cur.rowcount != 1:
            raise RuntimeError(
                f"projection {self.projection.name!r} in schema {self.schema!r} was advanced "
                "by another runner; run one runner per projection and schema"
            )

    def catch_up(self) -> int:
        """Process pages until the log has nothing newer; returns the events applied."""
        total = 0
        while count := self.process_page():
            total += count
        return total

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def run_forever(self, poll_interval: float = 0.1, backoff: Backoff | None = None) -> None:
        """Follow the log until ``stop()``. A PostgreSQL outage does not end it: the broken
        connection is dropped, connecting is retried with bounded exponential backoff, and
        the runner resumes from its stored position (moved in the same transaction as the
        rows, so nothing is applied twice). One log line when the outage starts, one when
        it ends; no event content in either."""
        backoff = backoff or Backoff()
        outage_began: float | None = None
        while not self._stop.is_set():
            try:
                if self.conn.closed:
                    self.conn = self._connect()
                applied = self.catch_up()
            except DATABASE_OUTAGES as exc:
                if outage_began is None:
                    outage_began = time.monotonic()
                    log.warning(
                        "projection %s: PostgreSQL unavailable (%s); reconnecting with backoff",
                        self.projection.name,
                        type(exc).__name__,
                    )
                self.conn.close()
                self._stop.wait(backoff.next_delay())
                continue
            if outage_began is not None:
                log.warning(
                    "projection %s: PostgreSQL back after %.1f s, %d attempt(s); resumed",
                    self.projection.name,
                    time.monotonic() - outage_began,
                    backoff.attempts,
                )
                outage_began = None
                backoff.reset()
            if not applied:
                self._stop.wait(poll_interval)

    def wait_for(self, notification_id: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: wait until the views include ``notification_id``."""
        deadline = time.monotonic() + timeout
        while self.position() < notification_id:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self.conn.close()
