"""Rebuild a projection from position zero into a fresh schema, compare, and swap it in.

The tracking position lives in the same schema as the rows, so after the swap the live
runner reads the rebuilt position and carries on: whatever it wrote into the old schema
meanwhile is applied again from the new one.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from queue import Full, Queue
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from projections.bulk_decode import BulkDecoder
from projections.runner import BatchedProjectionRunner, ViewProjection
from projections.views import TABLES, create_view_indexes, create_views

SAMPLE_ROWS = 5  # differing rows shown per table and side
REBUILD_LOCK = 0x7265_6275  # advisory lock held by the one rebuild-and-compare at a time
BULK_PAGE_SIZE = 20_000  # notifications read and decoded per query in a bulk replay
PARALLEL_FROM = 50_000  # events from which a bulk replay runs over two processes
WORKERS_SETTING = "FEEDBACK_REBUILD_WORKERS"  # forces the processes of a bulk replay

_T = TypeVar("_T")


@dataclass(frozen=True)
class TableDifference:
    table: str
    only_in_first: int
    only_in_second: int
    first_rows: tuple[tuple[str, ...], ...] = ()  # the first rows only in the first schema
    second_rows: tuple[tuple[str, ...], ...] = ()


def rebuild_into(
    app: Application[Any],
    conninfo: str,
    projection: ViewProjection,
    schema: str,
    phases: dict[str, float] | None = None,
    workers: int | None = None,
) -> int:
    """Drop ``schema``, replay the whole log into it; returns the events applied."""
    return rebuild_all_into(app, conninfo, [projection], schema, phases, workers)


def rebuild_all_into(
    app: Application[Any],
    conninfo: str,
    projections: Sequence[ViewProjection],
    schema: str,
    phases: dict[str, float] | None = None,
    workers: int | None = None,
) -> int:
    """Drop ``schema`` and replay the whole log into it through every one of
    ``projections``, reading and decoding it once; returns the events applied.
    ``phases`` receives the seconds of each step of the bulk path (``bulk_replay``);
    ``workers`` forces its processes (``rebuild_workers``)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    if all(isinstance(p, BulkProjection) for p in projections):
        bulk = cast(Sequence[BulkProjection], projections)
        return bulk_replay(app, conninfo, bulk, schema, phases=phases, workers=workers)
    return max((replay_into(app, conninfo, p, schema) for p in projections), default=0)


def replay_into(
    app: Application[Any], conninfo: str, projection: ViewProjection, schema: str
) -> int:
    """Replay the whole log through ``projection`` into ``schema`` as it is (another
    projection's tables beside it are kept); returns the events applied. A projection that
    has not started in ``schema`` and can load in bulk does; otherwise the batched runner
    carries on from its position."""
    if isinstance(projection, BulkProjection) and _position(conninfo, schema, projection) == 0:
        return bulk_replay(app, conninfo, [projection], schema)
    runner = BatchedProjectionRunner(app, conninfo, projection, schema=schema, page_size=5000)
    try:
        return runner.catch_up()
    finally:
        runner.close()


class BulkLoader(Protocol):
    def add(self, events: Sequence[Any]) -> None: ...

    def write(self, conn: psycopg.Connection[Any], schema: str) -> None: ...


@runtime_checkable
class BulkProjection(Protocol):
    """A projection that can fold the whole log in memory and load its tables at once."""

    name: str

    def bulk_loader(self) -> BulkLoader: ...


def bulk_replay(
    app: Application[Any],
    conninfo: str,
    projections: Sequence[BulkProjection],
    schema: str,
    page_size: int = BULK_PAGE_SIZE,
    phases: dict[str, float] | None = None,
    workers: int | None = None,
) -> int:
    """Read the log once in large pages, fold it through every projection in memory, then
    in one transaction: the tables without their secondary indexes, COPY, the indexes, the
    positions. Nobody reads ``schema`` before the swap, and an interrupted rebuild leaves
    nothing committed (the next one starts by dropping the schema). Returns the events.

    Where the time goes (docs/benchmarks.md, "The rebuild's bulk path"): the next page is
    read by a thread while this one is decoded (``BulkDecoder``, not the library's mapper)
    and folded; the cyclic garbage collector is paused meanwhile (the fold holds millions
    of young objects, and every collection walked them all: a third of the time); the
    tables are loaded with binary COPY before their primary and unique keys are added, so
    each key is built by one sort. ``phases``, when given, receives the seconds of each
    step. From ``PARALLEL_FROM`` events the work is split over two processes
    (``projections.bulk_parallel``; ``workers`` or ``FEEDBACK_REBUILD_WORKERS`` forces it)."""
    processes = rebuild_workers(app, workers)
    if processes > 1:
        from projections.bulk_parallel import parallel_replay

        return parallel_replay(app, conninfo, projections, schema, processes, page_size, phases)
    timer = _Timer(phases)
    loaders = [p.bulk_loader() for p in projections]
    decode = BulkDecoder(app.mapper).decode
    position = count = 0
    with collector_paused():
        for last_id, rows in prefetched(read_rows(app, conninfo, page_size)):
            events = [decode(*row) for row in rows]
            for loader in loaders:
                loader.add(events)
            position = last_id
            count += len(rows)
        timer.lap("read, decode, fold")
        with psycopg.connect(conninfo) as conn:
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            create_views(conn, schema, indexes=False)
            keys = drop_keys(conn, schema)
            timer.lap("tables")
            for loader in loaders:
                loader.write(conn, schema)
                timer.lap(f"copy {type(loader).__name__}")
            add_keys(conn, keys)
            timer.lap("primary and unique keys")
            create_view_indexes(conn, schema)
            timer.lap("indexes")
            if count:
                write_positions(conn, schema, projections, position)
            _analyze(conn, schema)
            timer.lap("analyze")
        timer.lap("commit")
    return count


def write_positions(
    conn: psycopg.Connection[Any], schema: str, projections: Sequence[Any], position: int
) -> None:
    """Every projection's position in ``schema``: the last notification applied."""
    for projection in projections:
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.projection_position VALUES (%s, %s) "
                "ON CONFLICT (projection) DO UPDATE SET notification_id = %s"
            ).format(sql.Identifier(schema)),
            (projection.name, position, position),
        )


def rebuild_workers(app: Application[Any], requested: int | None = None) -> int:
    """How many processes a bulk replay uses: ``requested``, else the environment's
    ``FEEDBACK_REBUILD_WORKERS``, else two on a machine with two cores or more once the
    log holds ``PARALLEL_FROM`` events (below, starting the processes costs more than they
    save). One for a recorder other than PostgreSQL's (the shards are read by SQL)."""
    if not isinstance(app.recorder, PostgresApplicationRecorder):
        return 1
    if requested is None:
        setting = os.environ.get(WORKERS_SETTING, "").strip()
        requested = int(setting) if setting else None
    if requested is not None:
        return max(1, requested)
    if (os.cpu_count() or 1) < 2 or (app.recorder.max_notification_id() or 0) < PARALLEL_FROM:
        return 1
    return 2


class _Timer:
    """Seconds between laps, into ``phases`` (nothing when it is None)."""

    def __init__(self, phases: dict[str, float] | None) -> None:
        self.phases = phases
        self.began = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.phases is not None:
            now = time.perf_counter()
            self.phases[name] = self.phases.get(name, 0.0) + now - self.began
            self.began = now


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (reference counting still frees
    everything that is not in a cycle); back on after it if it was on. It is off for the
    whole process: in the web, whose inspector page runs a rebuild in a thread, cycles made
    meanwhile wait for the end of the rebuild (a minute at 1 M events) to be collected."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


Key = tuple[str, str, str]  # table (qualified), constraint name, definition


def drop_keys(conn: psycopg.Connection[Any], schema: str) -> list[Key]:
    """Drop the primary and unique keys of the tables of ``schema``, returning them for
    ``add_keys``: loading rows into a table whose keys are built afterwards costs one sort
    per key instead of a B-tree insertion per row (random UUIDs, the worst case)."""
    keys = [
        (str(table), str(name), str(definition))
        for table, name, definition in conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = %s::regnamespace AND contype IN ('p', 'u') "
            "ORDER BY conrelid, conname",
            (sql.Identifier(schema).as_string(conn),),
        )
    ]
    for table, name, _ in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)
            )
        )
    return keys


def add_keys(conn: psycopg.Connection[Any], keys: Sequence[Key]) -> None:
    """Add the keys ``drop_keys`` dropped, under their names and definitions."""
    for table, name, definition in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)
            )
        )


def _analyze(conn: psycopg.Connection[Any], schema: str) -> None:
    """Planner statistics for the loaded tables, so the first queries after the swap do
    not wait for autovacuum to find them."""
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)
    ).fetchall()
    for (table,) in tables:
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))


Row = tuple[Any, int, str, bytes]  # originator id, originator version, topic, state


def read_rows(
    app: Application[Any],
    conninfo: str,
    page_size: int = BULK_PAGE_SIZE,
    upto: int | None = None,
    shard: tuple[int, int] | None = None,
) -> Iterator[tuple[int, list[Row]]]:
    """The whole notification log in pages of (last notification id, rows). On PostgreSQL
    the events table is read directly, as tuples in binary format (the recorder's
    ``select_notifications`` builds a dict and an object per row); other recorders are
    read through ``select_notifications``. On PostgreSQL only: ``upto``, the last
    notification read; ``shard`` (k, n), only the ratings and the events of the aggregates
    whose id's last byte modulo n is k (``projections.bulk_parallel``)."""
    recorder = app.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        if upto is not None or shard is not None:
            raise ValueError("only the PostgreSQL recorder is read by shard")
        position = 0
        while page := recorder.select_notifications(
            start=position, limit=page_size, inclusive_of_start=False
        ):
            position = page[-1].id
            yield (
                position,
                [(n.originator_id, n.originator_version, n.topic, n.state) for n in page],
            )
        return
    table = sql.SQL("{}.{}").format(
        sql.Identifier(recorder.datastore.schema), sql.Identifier(recorder.events_table_name)
    )
    columns = "notification_id, originator_id, originator_version, topic, state"
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor(binary=True) as cur:
        if shard is None:
            query = sql.SQL(
                "SELECT {} FROM {} WHERE notification_id > %(position)s AND "
                "notification_id <= %(upto)s ORDER BY notification_id LIMIT %(limit)s"
            ).format(sql.SQL(columns), table)
            params: dict[str, Any] = {"position": 0, "upto": upto, "limit": page_size}
            if upto is None:
                params["upto"] = 2**63 - 1
            while rows := cur.execute(query, params).fetchall():
                params["position"] = rows[-1][0]
                yield params["position"], [(r[1], r[2], r[3], r[4]) for r in rows]
            return
        # A shard is read by ranges of ids: with LIMIT, a filter that keeps a part of the
        # rows made the planner scan and sort the whole table for every page.
        from projections.bulk_parallel import RATING_TOPIC

        query = sql.SQL(
            "SELECT {} FROM {} WHERE notification_id > %(position)s AND "
            "notification_id <= %(end)s AND (topic = %(rating)s "
            "OR mod(get_byte(uuid_send(originator_id), 15), %(n)s) = %(k)s) "
            "ORDER BY notification_id"
        ).format(sql.SQL(columns), table)
        if upto is None:
            raise ValueError("a shard is read up to a given notification id")
        last = upto
        params = {"position": 0, "rating": RATING_TOPIC, "k": shard[0], "n": shard[1]}
        while params["position"] < last:
            params["end"] = min(params["position"] + page_size, last)
            rows = cur.execute(query, params).fetchall()
            params["position"] = params["end"]
            if rows:
                yield rows[-1][0], [(r[1], r[2], r[3], r[4]) for r in rows]


def prefetched(items: Iterator[_T], depth: int = 2) -> Generator[_T, None, None]:
    """``items``, produced by a thread up to ``depth`` ahead: the next page is read (the
    server works, psycopg waits without the GIL) while this one is decoded and folded."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stopped = threading.Event()

    def offer(entry: tuple[bool, Any]) -> bool:
        """Put ``entry`` unless the consumer has stopped; whether it was put."""
        while not stopped.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            offer((False, error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # the reader's connection, now rather than at collection
        offer((False, None))

    thread = threading.Thread(target=produce, name="rebuild-reader", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = queue.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stopped.set()
        thread.join()


def _position(conninfo: str, schema: str, projection: BulkProjection) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute(
            "SELECT to_regclass(%s)", (f'"{schema}".projection_position',)
        ).fetchone()
        if found is None or found[0] is None:
            return 0
        row = conn.execute(
            sql.SQL(
                "SELECT notification_id FROM {}.projection_position WHERE projection = %s"
            ).format(sql.Identifier(schema)),
            (projection.name,),
        ).fetchone()
    return int(row[0]) if row else 0


def has_tables(conninfo: str, schema: str, tables: tuple[str, ...]) -> bool:
    with psycopg.connect(conninfo) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = ANY(%s)",
            (schema, list(tables)),
        ).fetchone()
    return found is not None and found[0] == len(tables)


def compare_schemas(
    conninfo: str, first: str, second: str, tables: tuple[str, ...] = TABLES
) -> list[TableDifference]:
    """Row-by-row comparison: the tables whose rows differ, with how many on each side."""
    differences = []
    with psycopg.connect(conninfo) as conn:
        for table in tables:
            a = sql.SQL("{}.{}").format(sql.Identifier(first), sql.Identifier(table))
            b = sql.SQL("{}.{}").format(sql.Identifier(second), sql.Identifier(table))
            count = sql.SQL("SELECT count(*) FROM (SELECT * FROM {} EXCEPT ALL SELECT * FROM {}) d")
            only_a = conn.execute(count.format(a, b)).fetchone()
            only_b = conn.execute(count.format(b, a)).fetchone()
            assert only_a is not None and only_b is not None
            if only_a[0] or only_b[0]:
                differences.append(TableDifference(
                    table, only_a[0], only_b[0], _sample(conn, a, b), _sample(conn, b, a)
                ))  # fmt: skip
    return differences


def _sample(
    conn: psycopg.Connection[Any], a: sql.Composable, b: sql.Composable
) -> tuple[tuple[str, ...], ...]:
    query = sql.SQL("SELECT * FROM {} EXCEPT ALL SELECT * FROM {} LIMIT {}").format(
        a, b, sql.Literal(SAMPLE_ROWS)
    )
    return tuple(tuple("" if v is None else str(v) for v in row) for row in conn.execute(query))


@dataclass(frozen=True)
class RebuildReport:
    events: int  # events replayed from position zero
    rebuilt_schema: str
    differences: list[TableDifference]


class RebuildBusy(RuntimeError):
    """Another rebuild-and-compare holds the lock."""


def rebuild_and_compare(
    app: Application[Any],
    conninfo: str,
    live_schema: str,
    stage: Callable[[str], None] = lambda _: None,
) -> RebuildReport:
    """Replay the case views from position zero into ``<live>_rebuild`` and compare them
    with the live ones row by row; one run at a time in the whole database (RebuildBusy).
    When the live schema holds the figures tables, the figures projection (with the
    application's calendar, as ``figures_beside`` runs it) is replayed beside them and its
    tables compared too. ``stage`` hears "replaying", then "comparing". Used by
    ``feedback rebuild`` and the inspector's page."""
    from projections.case_views import CaseViews
    from projections.figures import FIGURE_TABLES
    from projections.figures_runner import figures_projection

    rebuilt = f"{live_schema}_rebuild"
    with psycopg.connect(conninfo, autocommit=True) as lock:
        got = lock.execute("SELECT pg_try_advisory_lock(%s)", (REBUILD_LOCK,)).fetchone()
        if not (got and got[0]):
            raise RebuildBusy("a rebuild of the views is already running")
        try:
            stage("replaying")
            projections: list[ViewProjection] = [CaseViews()]
            tables: tuple[str, ...] = TABLES
            if has_tables(conninfo, live_schema, FIGURE_TABLES):
                projections.append(figures_projection(app))
                tables = TABLES + FIGURE_TABLES
            count = rebuild_all_into(app, conninfo, projections, rebuilt)
            stage("comparing")
            differences = compare_schemas(conninfo, live_schema, rebuilt, tables)
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (REBUILD_LOCK,))
    return RebuildReport(count, rebuilt, differences)


def swap_in(conninfo: str, rebuilt: str, live: str) -> None:
    """Replace the live schema by the rebuilt one in one transaction."""
    retired = f"{live}_retired"
    with psycopg.connect(conninfo) as conn, conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(retired)))
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(live), sql.Identifier(retired)
            )
        )
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(rebuilt), sql.Identifier(live)
            )
        )
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(retired)))
