"""The proof of the figures "as of" a past day: the same projection code (case views and
figures) replayed over the prefix of the cases' notification log recorded by the end of that
day (Asia/Ho_Chi_Minh), into a schema of its own (``asof_YYYYMMDD``), compared figure by
figure with what the live tables' recorded days give for that day
(``projections.figures_queries.FigureQueriesAsOf``, which the pages read: any day at once).

Why the *recorded* time (the event's ``timestamp``, set when the store got it) and not the
business time carried in the event (``at``, ``received_at``): "as of D" answers what a head
could see on D, and what the store had not recorded by then was not visible, whatever date
it carries (a paper form typed in a week later, a hotline call entered the next morning).
Recorded times follow the log's order, so the cut is a *prefix* — every step comes after
its case — which business times, set by clients and operators, do not guarantee.

A past day's prefix never changes, so a built schema is kept (at most ``keep``, the least
recently used dropped) and listed in ``asof_catalog.built`` with the code version it was
built with. A build starts from the latest kept schema of an earlier day when there is one
(its tables copied, then only the rest of the log replayed): a kept yesterday makes today's
build cost one day of events. Builds take a PostgreSQL advisory lock per day.

``DailyVerification`` (a thread of the projection process) replays yesterday from the day
before's copy shortly after each local midnight and compares every figure
(``compare_as_of``), logging an error with the differences on a mismatch;
``feedback as-of verify --day D`` does it for any day. Figures: docs/accountability.md.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import psycopg
from eventsourcing.application import Application
from psycopg import sql
from psycopg_pool import ConnectionPool

from projections import figures as figures_module
from projections.as_of_compare import Difference, compare_as_of
from projections.case_views import CaseViews
from projections.figures_queries import FigureQueries, FigureQueriesAsOf
from projections.figures_runner import figures_projection
from projections.runner import BatchedProjectionRunner, ViewProjection
from projections.views import VIEWS_VERSION, create_views

log = logging.getLogger(__name__)

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CATALOG = "asof_catalog"
SCHEMA_PREFIX = "asof_"
KEEP = 3  # schemas kept: yesterday's is the base of tonight's verification
AFTER_MIDNIGHT = timedelta(minutes=5)  # daily preparation: let the day's last commits land
DISORDER_WINDOW = 2000  # notifications scanned past the bisection (commit order vs. clock)

Projections = Callable[[Application[Any]], Sequence[ViewProjection]]
LIVE_PROJECTIONS = ("case_views", figures_module.PROJECTION_NAME)  # positions in ``views``

# Indexes of the live views (projections/views.py) an as-of schema does without, and the
# table of each. Its pages read the figures tables and, in the queue, only the open cases of
# a list of units (figures_queries' OVERDUE_WHERE and HELD_OPEN_WHERE, served by
# case_queue_open_by_unit_due); its replay finds rows by primary key. Text search (the
# trigram index: the largest build), the handlers' queue orders, transfers and Open311's
# newest first are never asked of a past day. Primary keys and unique constraints stay.
SKIPPED_INDEXES = {
    "case_queue_text_trgm": "case_queue",
    "case_queue_by_unit_due": "case_queue",
    "case_queue_by_assignee": "case_queue",
    "case_queue_by_transfer": "case_queue",
    "case_queue_open_by_due": "case_queue",
    "case_queue_by_received": "case_queue",
    "case_queue_daily_open": "case_queue_daily",  # the live tables answer as of a day
}


def default_projections(app: Application[Any]) -> list[ViewProjection]:
    """What the live runners apply (``feedback_cli.services``): the case views, the figures."""
    return [CaseViews(), figures_projection(app)]


def code_version() -> str:
    """Schemas built by other projection code are not reused."""
    return f"views{VIEWS_VERSION}-figures{getattr(figures_module, 'FIGURES_VERSION', 0)}"


def schema_for(day: date) -> str:
    return f"{SCHEMA_PREFIX}{day:%Y%m%d}"


def end_of(day: date) -> datetime:
    """The first instant after ``day`` in Hà Nội: the cut is "recorded before this"."""
    return datetime.combine(day + timedelta(days=1), time(0), LOCAL_ZONE)


class AsOfBusy(Exception):
    """Another request or process is building this day now."""


@dataclass(frozen=True)
class Built:
    day: date
    schema: str
    position: int  # the last notification id of the prefix
    events: int  # events replayed by this build (from the base or from zero)
    seconds: float
    base: date | None  # the earlier day whose tables were copied, if any
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the build


class PrefixRunner(BatchedProjectionRunner):
    """The batched runner, stopped at a notification id."""

    def __init__(self, *args: Any, stop: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_at = stop

    def process_page(self) -> int:
        start = self.position()
        if start >= self.stop_at:
            return 0
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.page_size, stop=self.stop_at, inclusive_of_start=False
        )
        if not notifications:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        with self.conn.transaction(), self.conn.cursor() as cur:
            self.projection.apply(cur, self.schema, events)
            self._advance(cur, start, notifications[-1].id)
        return len(notifications)


def cutoff_position(app: Application[Any], before: datetime) -> int:
    """The id of the last notification recorded before ``before`` (0 when none).

    Bisection on the ids (recorded times grow with them), then a scan of the next
    ``DISORDER_WINDOW`` notifications: concurrent writers may commit a little out of clock
    order, and the prefix ends at the last one recorded before the cut.
    """
    recorder = app.recorder
    top = recorder.max_notification_id() or 0

    def recorded(notification: Any) -> datetime:
        return cast(datetime, app.mapper.to_domain_event(notification).timestamp)  # type: ignore[attr-defined]

    def first_from(position: int) -> tuple[int, datetime] | None:
        found = recorder.select_notifications(start=position, limit=1)
        if not found:
            return None
        return found[0].id, recorded(found[0])

    low, high = 0, top  # the answer lies in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        probe = first_from(middle)
        if probe is not None and probe[1] < before:
            low = max(middle, min(probe[0], high))
        else:
            high = middle - 1
    for notification in recorder.select_notifications(
        start=low, limit=DISORDER_WINDOW, inclusive_of_start=False
    ):
        if recorded(notification) < before:
            low = notification.id
    return low


class AsOfViews:
    """Builds, keeps and finds the as-of schemas of one database."""

    def __init__(
        self,
        app: Application[Any],
        conninfo: str,
        projections: Projections = default_projections,
        keep: int = KEEP,
        cut: Callable[[date], datetime] = end_of,
        skipped_indexes: Mapping[str, str] = SKIPPED_INDEXES,
    ) -> None:
        """``cut`` turns a day into the instant its prefix stops before (tests pick one);
        ``skipped_indexes`` (index name: table) are not built (the benchmark's "before")."""
        self.app = app
        self.skipped_indexes = skipped_indexes
        self.cut = cut
        self.conninfo = conninfo
        self.projections = projections
        self.keep = keep

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.conninfo, autocommit=True)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(CATALOG)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.built (day date PRIMARY KEY, schema text NOT NULL,"
                " position bigint NOT NULL, version text NOT NULL, events int NOT NULL,"
                " seconds double precision NOT NULL, built_at timestamptz NOT NULL DEFAULT now(),"
                " used_at timestamptz NOT NULL DEFAULT now())"
            ).format(sql.Identifier(CATALOG))
        )
        return conn

    def ready(self, day: date) -> str | None:
        """The schema of ``day`` when built by this code, else None (and marks it used).

        A schema whose tables a crash emptied (copies are unlogged) is dropped and
        forgotten here, so the next build makes it again rather than serving zeros."""
        with self._connect() as conn:
            row = conn.execute(
                sql.SQL(
                    "UPDATE {}.built SET used_at = now() WHERE day = %s AND version = %s "
                    "RETURNING schema, position"
                ).format(sql.Identifier(CATALOG)),
                (day, code_version()),
            ).fetchone()
            if row is None:
                return None
            if not _intact(conn, str(row[0]), int(row[1])):
                log.warning("as-of schema %s lost its rows (crash?): dropped", row[0])
                self._forget(conn, day, str(row[0]))
                return None
        return str(row[0])

    def prepare(self, day: date, days: int = 1) -> list[Built]:
        """Make ``day`` and the ``days - 1`` days before it ready, oldest first, so each is
        built from the copy of the one before (one day of events each); days already kept
        are skipped. ``AsOfBusy`` when another process is building one of them."""
        built = []
        for offset in range(days - 1, -1, -1):
            wanted = day - timedelta(days=offset)
            if self.ready(wanted) is None:
                built.append(self.build(wanted))
        return built

    def build(self, day: date) -> Built:
        """Build ``day`` (or find it built). ``AsOfBusy`` when someone else is building it."""
        with self._connect() as conn:
            key = f"asof:{day.isoformat()}"
            locked = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
            if not locked or not locked[0]:
                raise AsOfBusy(day)
            try:
                return self._build_locked(conn, day)
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def _build_locked(self, conn: psycopg.Connection[Any], day: date) -> Built:
        catalog = sql.Identifier(CATALOG)
        started = monotonic.perf_counter()
        schema = schema_for(day)
        existing = conn.execute(
            sql.SQL(
                "SELECT position, events, seconds FROM {}.built WHERE day = %s AND version = %s"
            ).format(catalog),
            (day, code_version()),
        ).fetchone()
        if existing:
            return Built(day, schema, existing[0], existing[1], existing[2], None)
        phases: dict[str, float] = {}
        position = cutoff_position(self.app, self.cut(day))
        phases["cutoff"] = monotonic.perf_counter() - started
        base = conn.execute(
            sql.SQL(
                "SELECT day, schema, position FROM {}.built WHERE day < %s AND version = %s "
                "AND position <= %s ORDER BY day DESC LIMIT 1"
            ).format(catalog),
            (day, code_version(), position),
        ).fetchone()
        building = f"{schema}_building"
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(building)))
        if base is not None:
            phases.update(copy_schema(conn, base[1], building, skip=self.skipped_indexes))
        else:
            create_views(conn, building)  # empty tables: the runners find them made
        stand_in_indexes(conn, building, self.skipped_indexes)
        replay_started = monotonic.perf_counter()
        applied = []
        for projection in self.projections(self.app):
            runner = PrefixRunner(
                self.app, self.conninfo, projection, schema=building, page_size=5000,
                stop=position,
            )
            try:
                applied.append(runner.catch_up())
            finally:
                runner.close()
        events = max(applied, default=0)
        phases["replay"] = monotonic.perf_counter() - replay_started
        catalog_started = seconds = monotonic.perf_counter()
        seconds -= started
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(schema)
                )
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.built (day, schema, position, version, events, seconds) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (day) DO UPDATE SET "
                    "schema = EXCLUDED.schema, position = EXCLUDED.position, "
                    "version = EXCLUDED.version, events = EXCLUDED.events, "
                    "seconds = EXCLUDED.seconds, built_at = now(), used_at = now()"
                ).format(catalog),
                (day, schema, position, code_version(), events, seconds),
            )
        self._evict(conn)
        phases["catalog"] = monotonic.perf_counter() - catalog_started
        return Built(day, schema, position, events, seconds, base[0] if base else None, phases)

    def _evict(self, conn: psycopg.Connection[Any]) -> None:
        """Keep the ``keep`` most recently used schemas."""
        stale = conn.execute(
            sql.SQL(
                "SELECT day, schema FROM {}.built ORDER BY used_at DESC, day DESC OFFSET %s"
            ).format(sql.Identifier(CATALOG)),
            (self.keep,),
        ).fetchall()
        for day, schema in stale:
            self._forget(conn, day, schema)

    def _forget(self, conn: psycopg.Connection[Any], day: date, schema: str) -> None:
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))
            conn.execute(sql.SQL("DELETE FROM {}.built WHERE day = %s").format(
                sql.Identifier(CATALOG)), (day,))

    def drop_all(self) -> None:
        """Forget every built schema (after a change of projection code, or in tests)."""
        with self._connect() as conn:
            for (schema,) in conn.execute(
                sql.SQL("SELECT schema FROM {}.built").format(sql.Identifier(CATALOG))
            ).fetchall():
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
            conn.execute(sql.SQL("DELETE FROM {}.built").format(sql.Identifier(CATALOG)))


def _intact(conn: psycopg.Connection[Any], schema: str, position: int) -> bool:
    """The schema still holds the positions it was built to (unlogged tables are emptied
    by crash recovery; an empty log has no position to hold)."""
    if position == 0:
        return True
    found = conn.execute(
        sql.SQL("SELECT count(*) FROM {}.projection_position WHERE notification_id = %s")
        .format(sql.Identifier(schema)),
        (position,),
    ).fetchone()
    return bool(found and found[0])


@dataclass(frozen=True)
class Verified:
    """A day's figures from the live tables compared with the replay of its prefix."""

    day: date
    built: Built
    compared: int  # figures compared
    differences: list[Difference]
    behind: bool = False  # the live views had not projected the day's prefix yet: not compared


def verify_day(views: AsOfViews, day: date, live_schema: str = "views") -> Verified:
    """Replay ``day``'s prefix (or find it kept) and compare every figure with what the live
    tables give as of ``day`` (``FigureQueriesAsOf``). ``AsOfBusy`` when another process
    builds that day now."""
    built = views.build(day)
    pool: ConnectionPool[Any] = ConnectionPool(views.conninfo, min_size=1, max_size=1, open=True)
    try:
        with pool.connection() as conn:
            found = conn.execute(
                sql.SQL("SELECT coalesce(min(notification_id), 0) FROM {}.projection_position "
                        "WHERE projection = ANY(%s)").format(sql.Identifier(live_schema)),
                (list(LIVE_PROJECTIONS),),
            ).fetchone()
        if found is None or int(found[0]) < built.position:
            return Verified(day, built, 0, [], behind=True)
        compared, differences = compare_as_of(
            FigureQueriesAsOf(pool, day, live_schema), FigureQueries(pool, built.schema), day
        )
    finally:
        pool.close()
    return Verified(day, built, compared, differences)


class DailyVerification:
    """Proves yesterday's figures every night: replays its prefix from the day before's kept
    copy (one day of events) and compares every figure with the live tables' (``verify_day``)
    shortly after each local midnight, checking hourly in case the clock jumped, a build
    failed or the live views were behind. A mismatch is logged as an error with the
    differences (Sentry gets it when configured). Run in a thread by ``daily_verification``."""

    def __init__(
        self,
        views: AsOfViews,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        after_midnight: timedelta = AFTER_MIDNIGHT,
    ) -> None:
        self.views = views
        self.now = now
        self.after_midnight = after_midnight
        self.stopping = threading.Event()
        self.last: Verified | None = None

    def yesterday(self) -> date:
        return self.now().astimezone(LOCAL_ZONE).date() - timedelta(days=1)

    def seconds_to_next_round(self) -> float:
        """Until the next local midnight plus ``after_midnight``, at most an hour."""
        now = self.now().astimezone(LOCAL_ZONE)
        next_round = end_of(now.date()) + self.after_midnight
        if now < next_round - timedelta(days=1):  # still before today's round
            next_round -= timedelta(days=1)
        return max(1.0, min(3600.0, (next_round - now).total_seconds()))

    def round(self) -> Verified | None:
        """Verify yesterday once (None when another process builds it or it is done)."""
        day = self.yesterday()
        if self.last is not None and self.last.day == day and not self.last.behind:
            return None
        try:
            verified = verify_day(self.views, day)
        except AsOfBusy:
            return None
        self.last = verified
        if verified.behind:
            log.info("as-of %s: live views behind the day's end; verifying later", day)
        elif verified.differences:
            log.error("as-of %s: %d of %d figures differ from the replay: %s", day,
                      len(verified.differences), verified.compared,
                      "; ".join(d.line() for d in verified.differences[:20]))
        else:
            log.info("as-of %s verified: %d figures equal the replay's (%d events replayed)",
                     day, verified.compared, verified.built.events)
        return verified

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                self.round()
            except Exception:
                log.exception("as-of verification failed; retrying within the hour")
            self.stopping.wait(self.seconds_to_next_round())

    def stop(self) -> None:
        self.stopping.set()


@contextmanager
def daily_verification(app: Application[Any], conninfo: str) -> Iterator[DailyVerification]:
    """``DailyVerification`` in a background thread for as long as the ``with`` block lasts
    (the projection process and ``feedback run``)."""
    verification = DailyVerification(AsOfViews(app, conninfo))
    thread = threading.Thread(
        target=verification.run_forever, name="as-of-verification", daemon=True
    )
    thread.start()
    try:
        yield verification
    finally:
        verification.stop()
        thread.join(timeout=5)



def stand_in_indexes(
    conn: psycopg.Connection[Any], schema: str, skipped: Mapping[str, str]
) -> None:
    """Put an empty index (``WHERE false``: nothing to build or maintain, never chosen by the
    planner) in place of each of ``skipped`` (index name: table): the runners'
    ``create_views`` runs ``CREATE INDEX IF NOT EXISTS``, which finds the name taken."""
    for index, table in skipped.items():
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}.{}").format(
            sql.Identifier(schema), sql.Identifier(index)))
        conn.execute(sql.SQL("CREATE INDEX {} ON {}.{} (case_id) WHERE false").format(
            sql.Identifier(index), sql.Identifier(schema), sql.Identifier(table)))


def copy_schema(
    conn: psycopg.Connection[Any], source: str, target: str, skip: Collection[str] = ()
) -> dict[str, float]:
    """Every table of ``source`` into a new schema ``target`` (structure, rows, indexes but
    those named in ``skip``).

    Rows first, indexes after (one sorted build per index instead of an insertion per row,
    the way ``pg_restore`` does it), in unlogged tables: an as-of schema is a cache of the
    log, so it skips the write-ahead log (``AsOfViews.ready`` notices one emptied by a crash).
    Returns the seconds spent copying rows and building indexes.
    """
    started = monotonic.perf_counter()
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target)))
    conn.execute("SET maintenance_work_mem = '256MB'")
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (source,)
    ).fetchall()
    for (table,) in tables:
        old = sql.SQL("{}.{}").format(sql.Identifier(source), sql.Identifier(table))
        new = sql.SQL("{}.{}").format(sql.Identifier(target), sql.Identifier(table))
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)").format(
                new, old
            )
        )
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(new, old))
    copied = monotonic.perf_counter()
    for statement in index_statements(conn, source, target, skip):
        conn.execute(statement)
    return {"copy_rows": copied - started, "indexes": monotonic.perf_counter() - copied}


def index_statements(
    conn: psycopg.Connection[Any], source: str, target: str, skip: Collection[str] = ()
) -> list[Any]:
    """The statements giving ``target``'s tables the indexes (and the primary keys and unique
    constraints they back) of ``source``'s tables of the same name; indexes named in ``skip``
    are left out (never a constraint's)."""
    rows = conn.execute(
        "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid), quote_ident(%(source)s), quote_ident(%(target)s) "
        "FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u') "
        "WHERE n.nspname = %(source)s ORDER BY t.relname, x.indexrelid",
        {"source": source, "target": target},
    ).fetchall()
    statements: list[Any] = []
    for table, index, indexdef, constraint, constraintdef, quoted_source, quoted_target in rows:
        if constraint is None and index in skip:
            continue
        if constraint is not None:
            statements.append(
                sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(target), sql.Identifier(table), sql.Identifier(constraint),
                    sql.SQL(constraintdef),
                )
            )
            continue
        on_source = f" ON {quoted_source}."
        if on_source not in indexdef:
            raise RuntimeError(f"cannot retarget index definition: {indexdef}")
        statements.append(sql.SQL(indexdef.replace(on_source, f" ON {quoted_target}.", 1)))
    return statements
