"""The rebuild's bulk path over several worker processes, one shard of the log each.

A shard is a set of aggregates none of whose table rows another shard writes: a case with
its steps (by the case id), and the rating of a submission with the case it opened (a
rating's ``case_id``: they share the submission's status row, and the queue row copies the
rating). A rating without a case goes by its own id. What the shards share, the additive
figures, each worker hands back to the parent, which sums them and loads them once.

Each worker (a ``fork`` of the parent: nothing is pickled on the way in, and it opens its
own connections; it never uses one it inherited) reads its shard from PostgreSQL, decodes,
folds and COPYs its rows into the tables the parent created and committed without keys
(nobody reads the schema before the swap). Cases are sharded in the query (a byte of the
originator id, by ranges of ids); ratings all reach every worker, which reads the case id
in the stored JSON without decoding it and decodes only its own (a rating whose JSON does
not show the case id plainly is decoded by every worker, and kept by the one it belongs
to). Each loads ``case_queue`` first and announces it: the parent builds that table's keys,
indexes (the trigram index, the longest) and statistics while the other tables load. Then
the parent loads the summed figures, adds the other keys and indexes, runs ANALYZE and
writes the positions last. A worker that fails fails the rebuild: the others are stopped
and the schema dropped, so nothing half-built remains to be swapped in
(docs/benchmarks.md, "The rebuild over two processes").
"""

from __future__ import annotations

import multiprocessing
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from typing import Any, Protocol, TypeVar, runtime_checkable
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.utils import get_topic
from psycopg import sql

from feedback_core.ratings import Rating
from projections.bulk_decode import BulkDecoder
from projections.rebuild import (
    BulkLoader,
    BulkProjection,
    Key,
    _Timer,
    add_keys,
    collector_paused,
    drop_keys,
    prefetched,
    read_rows,
    write_positions,
)
from projections.views import create_views, view_index_statements

RATING_TOPIC = get_topic(Rating.Given)
# The table every worker loads first, whose keys and indexes are built while the others load.
EARLY_TABLE = "case_queue"
_EARLY_INDEX = re.compile(r"\sON\s+\S+\.case_queue\s")
# How the transcoder writes a rating's case id; anything else is decoded to be sure.
_CASE_ID = re.compile(
    rb'"case_id":(?:null|\{"_type_":"uuid_hex","_data_":"[0-9a-f]{30}([0-9a-f]{2})"\})'
)
_CASE_KEY = b'"case_id":'


class RebuildWorkerFailed(RuntimeError):
    """A worker process of a parallel rebuild failed; the message holds its traceback."""


@runtime_checkable
class ShardedLoader(BulkLoader, Protocol):
    """A bulk loader that can fold one shard of the log in a worker process."""

    def settle(self) -> None:
        """Resolve in the parent what the fold would read later (no worker reads through
        a connection it inherited)."""

    def prepare(self, conn: psycopg.Connection[Any], schema: str) -> None:
        """Create the tables it writes that ``create_views`` does not."""

    def write_shard(
        self, conn: psycopg.Connection[Any], schema: str, loaded: Callable[[str], None]
    ) -> Any:
        """COPY the rows only this shard has; return what the shards sum (picklable).
        ``loaded(table)`` may announce a table whose rows are all in and committed."""

    def write_merged(self, conn: psycopg.Connection[Any], schema: str, parts: list[Any]) -> None:
        """Load what every shard's ``write_shard`` returned, summed."""


@dataclass(frozen=True)
class ShardResult:
    """What a worker sends back: its events, each loader's ``write_shard`` result, and
    the seconds of its steps."""

    events: int
    parts: list[Any]
    seconds: dict[str, float]


def shard_of(aggregate_id: UUID, shards: int) -> int:
    """The shard of an aggregate: its last byte modulo ``shards`` (as the query's)."""
    return (aggregate_id.int & 0xFF) % shards


def rating_shard(state: bytes, shards: int) -> int | None:
    """The shard of a stored ``Rating.Given`` read from its JSON: its case's, or None when
    it has no case (its own id decides) -- or -1 when the JSON does not show it plainly."""
    found = _CASE_ID.search(state)
    if found is None or state.count(_CASE_KEY) != 1:
        return -1
    last = found.group(1)
    return None if last is None else int(last, 16) % shards


def parallel_replay(
    app: Application[Any],
    conninfo: str,
    projections: Sequence[BulkProjection],
    schema: str,
    workers: int,
    page_size: int,
    phases: dict[str, float] | None = None,
) -> int:
    """``bulk_replay`` over ``workers`` processes; returns the events applied."""
    timer = _Timer(phases)
    upto = _last_id(app, conninfo)
    loaders = [p.bulk_loader() for p in projections]
    sharded = [loader for loader in loaders if isinstance(loader, ShardedLoader)]
    if len(sharded) != len(loaders):
        raise TypeError("every bulk loader must be a ShardedLoader for a parallel rebuild")
    for loader in sharded:
        loader.settle()
    with psycopg.connect(conninfo) as conn:
        create_views(conn, schema, indexes=False)
        for loader in sharded:
            loader.prepare(conn, schema)
        keys = drop_keys(conn, schema)
    timer.lap("tables")
    early_keys = [key for key in keys if _table_name(key[0]) == EARLY_TABLE]
    other_keys = [key for key in keys if _table_name(key[0]) != EARLY_TABLE]
    early_statements, other_statements = _index_jobs(conninfo, schema)
    context = multiprocessing.get_context("fork")
    loaded = [context.Event() for _ in range(workers)]
    abandon = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-early")
    try:
        early: list[Future[None]] = []  # started once the workers are: no thread crosses a fork

        def start_early() -> None:
            args = (conninfo, early_keys, early_statements, loaded, abandon)
            early.append(pool.submit(_early_table, *args))

        results = _run_workers(app, conninfo, sharded, schema, upto, page_size, loaded, start_early)
        timer.lap("workers: read, decode, fold, copy")
        if phases is not None:
            for shard, result in enumerate(results):
                for step, seconds in result.seconds.items():
                    phases[f"  worker {shard}: {step}"] = seconds
        count = sum(result.events for result in results)
        with psycopg.connect(conninfo) as conn:
            for index, loader in enumerate(sharded):
                loader.write_merged(conn, schema, [result.parts[index] for result in results])
        timer.lap("copy merged")
        _concurrently(
            conninfo, [other_keys[0::2], other_keys[1::2]], lambda job, c: add_keys(c, job)
        )
        timer.lap("primary and unique keys (but the queue's)")
        with psycopg.connect(conninfo) as conn:
            _run_statements(other_statements, conn)
        timer.lap("indexes and analyze (but the queue's)")
        early[0].result()
        timer.lap("the queue's keys, indexes and analyze: waited for")
        with psycopg.connect(conninfo) as conn:
            if count:
                write_positions(conn, schema, projections, upto)
        timer.lap("positions")
    except BaseException:
        abandon.set()
        pool.shutdown()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        raise
    finally:
        pool.shutdown()
    return count


def _table_name(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1].strip('"')


def _early_table(
    conninfo: str,
    keys: list[Key],
    statements: list[sql.Composed],
    loaded: list[Any],
    abandon: threading.Event,
) -> None:
    """Once every worker has announced the queue (``loaded``): its keys, its indexes and
    ANALYZE, while the workers load the other tables; nothing if ``abandon`` is set."""
    for event in loaded:
        while not event.wait(0.1):
            if abandon.is_set():
                return
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        add_keys(conn, keys)
        _run_statements(statements, conn)


_Job = TypeVar("_Job")


def _concurrently(
    conninfo: str,
    jobs: Sequence[_Job],
    run: Callable[[_Job, psycopg.Connection[Any]], None],
) -> None:
    """``run(job, conn)`` for each of ``jobs`` at once, a connection and a transaction
    each (a thread each: the work is the server's). The schema is not live yet, so the
    statements need not share a transaction; the positions come last."""

    def one(job: _Job) -> None:
        with psycopg.connect(conninfo) as conn:
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            run(job, conn)

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="rebuild-ddl") as pool:
        for future in [pool.submit(one, job) for job in jobs]:
            future.result()


def _index_jobs(conninfo: str, schema: str) -> tuple[list[sql.Composed], list[sql.Composed]]:
    """The secondary indexes and ANALYZE in two: those of the queue (the trigram index
    on the descriptions is most of the time), and everything else."""
    statements = view_index_statements(schema)
    with psycopg.connect(conninfo) as conn:
        texts = [s.as_string(conn) for s in statements]
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                (schema,),
            )
        ]
    queue = [s for s, text in zip(statements, texts, strict=True) if _EARLY_INDEX.search(text)]
    other = [s for s, text in zip(statements, texts, strict=True) if not _EARLY_INDEX.search(text)]
    name = sql.Identifier(schema)

    def analyze(table: str) -> sql.Composed:
        return sql.SQL("ANALYZE {}.{}").format(name, sql.Identifier(table))

    return (
        [*queue, analyze(EARLY_TABLE)],
        [*other, *(analyze(t) for t in tables if t != EARLY_TABLE)],
    )


def _run_statements(statements: list[sql.Composed], conn: psycopg.Connection[Any]) -> None:
    for statement in statements:
        conn.execute(statement)


def _last_id(app: Application[Any], conninfo: str) -> int:
    """The log's last notification id now: every worker reads up to it."""
    return int(app.recorder.max_notification_id() or 0)


def _run_workers(
    app: Application[Any],
    conninfo: str,
    loaders: list[ShardedLoader],
    schema: str,
    upto: int,
    page_size: int,
    loaded: list[Any],
    started: Callable[[], None],
) -> list[ShardResult]:
    """Start one process per shard (one per event of ``loaded``) and collect what each
    sends; the first failure stops the others and raises ``RebuildWorkerFailed``."""
    context = multiprocessing.get_context("fork")
    workers = len(loaded)
    pipes: list[Pipe] = []
    processes = []
    try:
        for shard in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_work,
                args=(app, conninfo, loaders, schema, (shard, workers), upto, page_size),
                kwargs={"pipe": sender, "loaded": loaded[shard]},
                name=f"rebuild-shard-{shard}",
                daemon=True,
            )
            process.start()
            sender.close()  # the child's end: EOF here once the child has gone
            pipes.append(receiver)
            processes.append(process)
        started()
        results: dict[int, ShardResult] = {}
        waiting: dict[Any, int] = {pipe: shard for shard, pipe in enumerate(pipes)}
        while waiting:
            for ready in wait(list(waiting)):
                shard = waiting.pop(ready)
                results[shard] = _result(shard, pipes[shard], processes[shard])
        return [results[shard] for shard in range(workers)]
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
            process.close()
        for pipe in pipes:
            pipe.close()


def _result(shard: int, pipe: Pipe, process: Any) -> ShardResult:
    """What a worker that has answered or gone sent."""
    try:
        ok, found = pipe.recv()
    except EOFError:
        process.join()
        raise RebuildWorkerFailed(
            f"rebuild worker {shard} ended without a result (exit code {process.exitcode})"
        ) from None
    if not ok:
        raise RebuildWorkerFailed(f"rebuild worker {shard} failed:\n{found}")
    assert isinstance(found, ShardResult)
    return found


def _work(
    app: Application[Any],
    conninfo: str,
    loaders: list[ShardedLoader],
    schema: str,
    shard_of_n: tuple[int, int],
    upto: int,
    page_size: int,
    pipe: Pipe,
    loaded: Any,
) -> None:
    """A worker process: fold and load one shard, send (True, ShardResult) or (False,
    traceback)."""
    # A handler the parent installed (a web server's) would catch ``terminate()``.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    shard, shards = shard_of_n

    def announce(table: str) -> None:
        if table == EARLY_TABLE:
            loaded.set()

    try:
        began, cpu = time.perf_counter(), time.process_time()
        count = 0
        decode = BulkDecoder(app.mapper).decode
        with collector_paused():
            rows = read_rows(app, conninfo, page_size, upto=upto, shard=(shard, shards))
            for _, page in prefetched(rows):
                events = []
                for row in page:
                    if row[2] == RATING_TOPIC:
                        owner = rating_shard(row[3], shards)
                        if owner == -1:  # decoded to know
                            event = decode(*row)
                            owner = shard_of(event.case_id or event.originator_id, shards)
                            if owner == shard:
                                events.append(event)
                            continue
                        if owner is None:
                            owner = shard_of(row[0], shards)
                        if owner != shard:
                            continue
                    events.append(decode(*row))
                for loader in loaders:
                    loader.add(events)
                count += len(events)
            folded = time.perf_counter()
            with psycopg.connect(conninfo) as conn:
                parts = [loader.write_shard(conn, schema, announce) for loader in loaders]
            loaded.set()  # every table of this shard is in, the queue too
        seconds = {
            "read, decode, fold": folded - began,
            "copy": time.perf_counter() - folded,
            "CPU": time.process_time() - cpu,
        }
        pipe.send((True, ShardResult(count, parts, seconds)))
    except BaseException:
        pipe.send((False, traceback.format_exc()))
    finally:
        pipe.close()
