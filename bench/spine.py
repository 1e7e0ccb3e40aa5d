"""The spine benchmark: intake log → event store → views, held against the raw engines.

``python -m bench.spine`` (``make bench``) measures, in one run and on the same machine:

a. raw Kafka consume: a bare ``AIOKafkaConsumer`` reading the pre-produced intake messages;
b. plain batched save: ``CasesApplication.save(*aggregates)``, 500 submissions per call,
   through the library's own ``PostgresApplicationRecorder`` (the raw engine);
b'. the same save through the platform's recorder (``CopyApplicationRecorder``, binary COPY);
c. the consumer path: the real intake consumer (``build_intake_broker``) from a pre-filled
   topic into a fresh event store (the platform's recorder, as ``feedback consume`` runs),
   timed from ``broker.start()`` until the store holds every event; batch sizes 500 and 2000;
d. projection rebuild: ``rebuild_into`` (the batched runner) over the log written by (b);
e. the library's per-event ``ProjectionRunner`` (``projections.library_baseline``) over the
   first events of the same log.

Each figure is the median of ``--repeat`` repetitions, and each ratio the median of the
ratios within a repetition, because absolute times on a shared 2-core machine drift from
minute to minute. Every measurement gets a fresh database and fresh topics; all of them are
dropped at the end (also on Ctrl-C). See docs/benchmarks.md for how to read the output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import logging
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any
from uuid import UUID

import anyio
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient
from psycopg import sql

from consumers.intake_consumer import ConsumerOptions, build_intake_broker
from consumers.publisher import SCHEMA_HEADER
from feedback_core.application import CasesApplication, RecordResult
from feedback_core.calendar_app import CalendarApplication, open_calendar_application
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission, to_json
from feedback_core.intake_service import aggregates_for
from feedback_core.store import Database
from infra import kafka, postgres
from projections.case_views import CaseViews
from projections.library_baseline import run_library_projection
from projections.rebuild import rebuild_into

GOAL_CONSUMER_EVENTS_PER_S = 10_000
GOAL_REBUILD_EVENTS = 1_000_000
GOAL_REBUILD_SECONDS = 30.0
SAVE_CHUNK = 500  # submissions per save() in (b): the consumer's default batch
PARTITIONS = 6  # as feedback.intake.v1
UNITS = 60
TIMEOUT_S = 900.0

DESCRIPTIONS = (
    "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định, hẹn tuần sau quay lại.",
    "Chờ hơn hai tiếng mới đến lượt, không có ghế ngồi, máy lấy số bị hỏng.",
    "Hồ sơ đăng ký khai sinh bị trả lại ba lần vì lỗi chính tả do cán bộ nhập sai.",
    "Cán bộ tiếp nhận thái độ thiếu tôn trọng, nói chuyện điện thoại riêng khi đang làm việc.",
    "Đã quá hạn trả kết quả chứng thực năm ngày làm việc nhưng chưa nhận được thông báo nào.",
)


# --- the workload -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    submissions: list[IntakeSubmission]
    messages: list[tuple[bytes, bytes]]  # (key, value) as the publisher sends them
    complaints: int
    events: int  # one Rating.Given per submission, one Case.Received per complaint


def make_workload(submissions: int, seed: int = 20261102) -> Workload:
    """Deterministic submissions over 60 units; every second one carries a complaint."""
    rng = random.Random(seed)
    channels = list(Channel)
    categories = list(ComplaintCategory)
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    subs = []
    for i in range(submissions):
        unit = f"unit-{i % UNITS:02d}"
        complaint = i % 2 == 0
        subs.append(
            IntakeSubmission(
                submission_id=UUID(int=rng.getrandbits(128), version=4),
                channel=channels[i % len(channels)],
                unit_id=unit,
                office_id=f"{unit}-mc",
                counter_id=f"{unit}-q{i % 4 + 1}",
                submitted_at=start + timedelta(seconds=37 * i),
                rating=1 + rng.randrange(3 if complaint else 5),
                description=f"{DESCRIPTIONS[i % len(DESCRIPTIONS)]} (#{i})" if complaint else "",
                category=categories[i % len(categories)] if complaint else None,
            )
        )
    complaints = sum(sub.has_complaint for sub in subs)
    return Workload(
        submissions=subs,
        messages=[(sub.unit_id.encode(), to_json(sub)) for sub in subs],
        complaints=complaints,
        events=len(subs) + complaints,
    )


# --- databases and topics that must not outlive the run -----------------------------------


class Resources:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.run_id = uuid.uuid4().hex[:8]
        self.databases: list[str] = []
        self.topics: list[str] = []
        self.groups: list[str] = []
        self._counter = 0

    def _name(self, tag: str) -> str:
        self._counter += 1
        return f"bench_{self.run_id}_{tag}_{self._counter}"

    def database(self, tag: str) -> Database:
        name = self._name(tag)
        with contextlib.redirect_stdout(io.StringIO()):
            postgres.create_database(name)
        self.databases.append(name)
        params = postgres.connection_info(name)
        return Database(
            host=params["host"], port=params["port"], user=params["user"],
            password=params["password"], dbname=name,
        )

    def drop_database(self, name: str) -> None:
        with psycopg.connect(**postgres.connection_info("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.databases:
            self.databases.remove(name)

    def topic(self, tag: str, partitions: int = PARTITIONS) -> str:
        name = self._name(tag).replace("_", ".")
        with contextlib.redirect_stdout(io.StringIO()):
            kafka.create_topics(self.bootstrap, {name: partitions})
        self.topics.append(name)
        return name

    def group(self, tag: str) -> str:
        name = self._name(tag)
        self.groups.append(name)
        return name

    def drop_topics(self) -> None:
        if not (self.topics or self.groups):
            return
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="bench-cleanup")
        try:
            if self.groups:
                # A group that never committed an offset does not exist: not an error here.
                results = admin.delete_groups(self.groups)
                failed = {
                    group: str(result) for group, result in results.items()
                    if str(result) != "OK" and "NotFound" not in str(result)
                }
                if failed:
                    say(f"  (could not delete consumer groups: {failed})")
            if self.topics:
                admin.delete_topics(self.topics, timeout_ms=30_000)
        finally:
            admin.close()
        self.topics.clear()
        self.groups.clear()

    def close(self) -> None:
        for name in list(self.databases):
            self.drop_database(name)
        self.drop_topics()


def checkpoint(db: Database) -> None:
    """Flush dirty pages first, so one measurement does not pay for the previous one's."""
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def server_settings(db: Database) -> dict[str, str]:
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes",
             "shared_buffers", "wal_level")
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]


# --- a. raw Kafka ----------------------------------------------------------------------------


def publisher_headers() -> list[tuple[str, bytes]]:
    """The headers ``KafkaIntakePublisher`` (FastStream) puts on an intake message."""
    return [
        ("content-type", b""),  # FastStream's marker for raw bytes
        (SCHEMA_HEADER, b"1"),
        ("correlation_id", str(uuid.uuid4()).encode()),
    ]


async def produce(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> float:
    """Pre-fill a topic as the web publisher would (key = unit, acks=all, idempotent)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        began = time.perf_counter()
        futures = [
            await producer.send(topic, value=value, key=key, headers=publisher_headers())
            for key, value in messages
        ]
        await producer.flush()
        await asyncio.gather(*futures)
        return time.perf_counter() - began
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    """Seconds for a bare consumer (no group, no decoding) to read ``count`` messages."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        began = time.perf_counter()
        seen = 0
        while seen < count:
            if time.perf_counter() - began > TIMEOUT_S:
                raise TimeoutError(f"raw consume read {seen} of {count}")
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - began
    finally:
        await consumer.stop()


# --- b. plain batched save ---------------------------------------------------------------


@dataclass
class OpenCases:
    app: CasesApplication
    calendar: CalendarApplication

    def close(self) -> None:
        self.app.close()
        self.calendar.close()


def open_cases(
    db: Database,
    app_class: type[CasesApplication] = CasesApplication,
    copy_recorder: bool = True,
) -> OpenCases:
    """Wired as ``feedback_cli.services.open_core`` wires it: the calendar in force comes from
    the CalendarApplication on the same database (cached until its log moves).
    ``copy_recorder=False``: the library's own recorder instead of the platform's."""
    calendar = open_calendar_application(db)
    try:
        env = db.eventsourcing_env(copy_recorder=copy_recorder)
        app = app_class(env=env, calendar=calendar.calendar)
    except BaseException:
        calendar.close()
        raise
    return OpenCases(app, calendar)


@dataclass
class SaveRun:
    seconds: float
    build_seconds: float
    cases: OpenCases
    cpu_seconds: float  # this process's CPU time during the saves (all threads)


def plain_save(
    db: Database, workload: Workload, chunk: int = SAVE_CHUNK, copy_recorder: bool = False
) -> SaveRun:
    """save(*aggregates) per ``chunk`` submissions; the aggregates are built beforehand.
    The library's own recorder unless ``copy_recorder`` (figure b')."""
    cases = open_cases(db, copy_recorder=copy_recorder)
    app = cases.app
    began = time.perf_counter()
    subs = workload.submissions
    batches: list[list[Any]] = []
    for i in range(0, len(subs), chunk):
        calendar = app.calendar()  # as record_submissions does, once per batch
        chunk_subs = subs[i : i + chunk]
        batches.append([agg for sub in chunk_subs for agg in aggregates_for(sub, calendar)])
    build_seconds = time.perf_counter() - began
    checkpoint(db)
    began, cpu_began = time.perf_counter(), time.process_time()
    for aggregates in batches:
        app.save(*aggregates)
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    stored = app.recorder.max_notification_id()
    if stored != workload.events:
        raise RuntimeError(f"plain save stored {stored} events, expected {workload.events}")
    return SaveRun(seconds, build_seconds, cases, cpu_seconds)


# --- c. the consumer path ----------------------------------------------------------------


@dataclass
class StoreCall:
    began: float
    ended: float
    submissions: int


class TimedCasesApplication(CasesApplication):
    """The Cases application with a stopwatch on what the consumer asks of it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[StoreCall] = []
        self.save_seconds = 0.0
        self.store_cpu_seconds = 0.0  # CPU time of the worker threads in record_submissions
        self.profiler: cProfile.Profile | None = None

    def record_submissions(self, submissions: Sequence[IntakeSubmission]) -> RecordResult:
        began, cpu_began = time.perf_counter(), time.thread_time()
        if self.profiler is not None:
            self.profiler.enable()
        try:
            return super().record_submissions(submissions)
        finally:
            if self.profiler is not None:
                self.profiler.disable()
            self.store_cpu_seconds += time.thread_time() - cpu_began
            self.calls.append(StoreCall(began, time.perf_counter(), len(submissions)))

    def save_events(self, events: Sequence[Any]) -> Any:
        began = time.perf_counter()
        try:
            return super().save_events(events)
        finally:
            self.save_seconds += time.perf_counter() - began


@dataclass
class ConsumerRun:
    seconds: float  # broker.start() → the store holds every event
    cpu_seconds: float  # this process's CPU time in that span (all threads)
    startup: float  # broker.start() → the first batch reaches the store
    store_seconds: float  # inside record_submissions (worker thread)
    store_cpu_seconds: float  # of which CPU time of that thread
    save_seconds: float  # of which inside CasesApplication.save_events
    calls: int
    mean_batch: float
    max_batch: int

    @property
    def steady(self) -> float:
        return self.seconds - self.startup


async def consumer_path(
    bootstrap: str,
    topic: str,
    group: str,
    db: Database,
    workload: Workload,
    batch_size: int,
    profilers: tuple[cProfile.Profile, cProfile.Profile] | None = None,
) -> ConsumerRun:
    cases = open_cases(db, TimedCasesApplication)
    app = cases.app
    assert isinstance(app, TimedCasesApplication)
    try:
        options = ConsumerOptions(
            bootstrap_servers=bootstrap, topic=topic, dlq_topic=f"{topic}.dlq", group_id=group,
            batch_size=batch_size, session_timeout_ms=6000,
        )
        broker = build_intake_broker(app, options)
        checkpoint(db)
        if profilers is not None:
            app.profiler = profilers[1]
            profilers[0].enable()
        began, cpu_began = time.perf_counter(), time.process_time()
        await broker.start()
        try:
            stored = 0
            while stored < workload.events:
                if time.perf_counter() - began > TIMEOUT_S:
                    raise TimeoutError(f"consumer path stored {stored} of {workload.events}")
                await asyncio.sleep(0.01)
                last: int | None = await anyio.to_thread.run_sync(
                    app.recorder.max_notification_id
                )
                stored = last or 0
            ended, cpu_ended = time.perf_counter(), time.process_time()
        finally:
            if profilers is not None:
                profilers[0].disable()
            await broker.stop()
    finally:
        cases.close()
    calls = app.calls
    if stored != workload.events:
        raise RuntimeError(f"consumer stored {stored} events, expected {workload.events}")
    return ConsumerRun(
        seconds=ended - began,
        cpu_seconds=cpu_ended - cpu_began,
        startup=calls[0].began - began,
        store_seconds=sum(c.ended - c.began for c in calls),
        store_cpu_seconds=app.store_cpu_seconds,
        save_seconds=app.save_seconds,
        calls=len(calls),
        mean_batch=sum(c.submissions for c in calls) / len(calls),
        max_batch=max(c.submissions for c in calls),
    )


# --- d. and e. projections ---------------------------------------------------------------


def rebuild(app: CasesApplication, db: Database, expected: int) -> float:
    checkpoint(db)
    began = time.perf_counter()
    applied = rebuild_into(app, db.conninfo, CaseViews(), "bench_rebuild")
    seconds = time.perf_counter() - began
    if applied != expected:
        raise RuntimeError(f"rebuild applied {applied} events, expected {expected}")
    return seconds


def library_runner(db: Database, cap: int) -> tuple[int, float]:
    checkpoint(db)
    began = time.perf_counter()
    applied = run_library_projection(db, "bench_library", timeout=TIMEOUT_S, upto=cap)
    return applied, time.perf_counter() - began


# --- the run -----------------------------------------------------------------------------


@dataclass
class Figures:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        self.values.setdefault(key, []).append(value)

    def median(self, key: str) -> float:
        return statistics.median(self.values[key])

    def spread(self, key: str) -> str:
        values = self.values[key]
        return f"{min(values):,.0f}–{max(values):,.0f}" if len(values) > 1 else ""

    def ratio(self, numerator: str, denominator: str) -> float:
        """Median of the per-repetition ratios (pairs measured minutes apart at most)."""
        pairs = zip(self.values[numerator], self.values[denominator], strict=True)
        return statistics.median(a / b for a, b in pairs)


def say(text: str = "") -> None:
    print(text, flush=True)


def timed_step(label: str) -> Callable[[float], None]:
    def done(seconds: float) -> None:
        say(f"    {label:<34} {seconds:8.2f} s")

    return done


def one_repetition(
    rep: int,
    res: Resources,
    workload: Workload,
    batch_sizes: Sequence[int],
    library_cap: int,
    figures: Figures,
) -> None:
    bootstrap = res.bootstrap
    n_msgs = len(workload.messages)
    say(f"  repetition {rep}")

    topic_a = res.topic("raw")
    asyncio.run(produce(bootstrap, topic_a, workload.messages))
    seconds = asyncio.run(raw_consume(bootstrap, topic_a, n_msgs))
    timed_step(f"a. raw consume {n_msgs:,} msgs")(seconds)
    figures.add("a", n_msgs / seconds)

    db_b = res.database("save")
    cases_b: OpenCases | None = None
    try:
        run = plain_save(db_b, workload)
        cases_b = run.cases
        timed_step(f"b. plain save {workload.events:,} events")(run.seconds)
        figures.add("b", workload.events / run.seconds)
        figures.add("b_cpu", workload.events / run.cpu_seconds)
        figures.add("b_build", workload.events / run.build_seconds)
        figures.add("b_plus", workload.events / (run.seconds + run.build_seconds))

        db_copy = res.database("savecopy")
        try:
            copy_run = plain_save(db_copy, workload, copy_recorder=True)
            copy_run.cases.close()
        finally:
            res.drop_database(db_copy.dbname)
        timed_step("b'. same, platform recorder (COPY)")(copy_run.seconds)
        figures.add("b_copy", workload.events / copy_run.seconds)
        figures.add("b_copy_cpu", workload.events / copy_run.cpu_seconds)

        for size in batch_sizes:
            topic_c = res.topic(f"c{size}")
            asyncio.run(produce(bootstrap, topic_c, workload.messages))
            db_c = res.database(f"c{size}")
            try:
                crun = asyncio.run(
                    consumer_path(bootstrap, topic_c, res.group(f"g{size}"), db_c, workload, size)
                )
            finally:
                res.drop_database(db_c.dbname)
            timed_step(f"c. consumer path, batch {size}")(crun.seconds)
            say(
                f"       start-up {crun.startup:.2f} s, {crun.calls} batches of "
                f"{crun.mean_batch:.0f} on average (max {crun.max_batch}); in the store "
                f"{crun.store_seconds:.2f} s (save {crun.save_seconds:.2f} s)"
            )
            figures.add(f"c{size}", workload.events / crun.seconds)
            figures.add(f"c{size}_msgs", n_msgs / crun.seconds)
            figures.add(f"c{size}_steady", workload.events / crun.steady)
            figures.add(f"c{size}_startup", crun.startup)
            figures.add(f"c{size}_store_share", crun.store_seconds / crun.steady)
            figures.add(f"c{size}_batch", crun.mean_batch)
            figures.add(f"c{size}_cpu", workload.events / crun.cpu_seconds)
            figures.add(f"c{size}_store_cpu_us", crun.store_cpu_seconds / workload.events * 1e6)
            figures.add(f"c{size}_cpu_us", crun.cpu_seconds / workload.events * 1e6)

        seconds = rebuild(cases_b.app, db_b, workload.events)
        timed_step(f"d. rebuild {workload.events:,} events")(seconds)
        figures.add("d", workload.events / seconds)
        cases_b.close()
        cases_b = None

        applied, seconds = library_runner(db_b, library_cap)
        timed_step(f"e. library runner {applied:,} events")(seconds)
        figures.add("e", applied / seconds)
    finally:
        if cases_b is not None:
            cases_b.close()
        res.drop_database(db_b.dbname)
        res.drop_topics()


def source_state() -> str:
    """The commit measured, and whether uncommitted changes to the measured code are in."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                                  timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "feedback_core", "consumers", "projections")
    count = len(changed.splitlines())
    dirty = f", plus {count} uncommitted file(s) in the measured code" if count else ""
    return f"commit {commit}{dirty}"


def versions() -> str:
    names = ("eventsourcing", "faststream", "aiokafka", "psycopg")
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def print_report(
    figures: Figures, workload: Workload, batch_sizes: Sequence[int], library_cap: int
) -> None:
    rows: list[tuple[str, str, str, str, str]] = []

    def row(label: str, key: str, unit: str, against: str) -> None:
        rows.append((label, f"{figures.median(key):,.0f}", unit, figures.spread(key), against))

    row("a. raw Kafka consume (aiokafka, 6 partitions)", "a", "msgs/s", "raw engine")
    row(f"b. plain batched save ({SAVE_CHUNK} submissions/save)", "b", "events/s", "raw engine")
    row("   b + building the aggregates beforehand", "b_plus", "events/s",
        f"{figures.ratio('b_plus', 'b'):.2f} × b")
    row("b'. the same save, platform recorder (binary COPY)", "b_copy", "events/s",
        f"{figures.ratio('b_copy', 'b'):.2f} × b")
    for size in batch_sizes:
        key = f"c{size}"
        against = (
            f"{figures.ratio(key, 'b'):.2f} × b, {figures.ratio(key, 'b_copy'):.2f} × b', "
            f"{figures.ratio(key, 'b_plus'):.2f} × b+build; "
            f"msgs/s {figures.ratio(f'{key}_msgs', 'a'):.3f} × a"
        )
        row(f"c. consumer path, batch {size}, start to end", key, "events/s", against)
        row(
            "   same, after the first batch reached the store",
            f"{key}_steady",
            "events/s",
            f"{figures.ratio(f'{key}_steady', 'b'):.2f} × b",
        )
    row("d. projection rebuild, batched (pages of 5,000)", "d", "events/s",
        f"{figures.ratio('d', 'e'):.1f} × e")
    cap = min(library_cap, workload.events)
    row(f"e. library ProjectionRunner, first {cap:,} events", "e", "events/s", "baseline")

    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    head = ("measurement", "median", "unit", "min–max", "ratio (median of per-run)")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    say()
    say("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    say("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].ljust(widths[2]),
                 r[3].rjust(widths[3]), r[4]]
        say("  ".join(cells).rstrip())

    say()
    say(f"Building the aggregates (aggregates_for, CPU only, not in b): "
        f"{figures.median('b_build'):,.0f} events/s.")
    consumers = ", ".join(
        f"c (batch {size}) {figures.median(f'c{size}_cpu'):,.0f}" for size in batch_sizes
    )
    say(f"Events per CPU-second of this process (all its threads; PostgreSQL's and Kafka's "
        f"own CPU not counted; moved far less by other load than the rates): "
        f"b {figures.median('b_cpu'):,.0f}, b' {figures.median('b_copy_cpu'):,.0f}, "
        f"{consumers}.")
    for size in batch_sizes:
        say(
            f"Consumer batch {size}: start-up {figures.median(f'c{size}_startup'):.2f} s, "
            f"batches of {figures.median(f'c{size}_batch'):.0f} submissions on average, "
            f"{figures.median(f'c{size}_store_share'):.0%} of the steady time inside "
            f"record_submissions; CPU per event {figures.median(f'c{size}_cpu_us'):.1f} µs, "
            f"of which {figures.median(f'c{size}_store_cpu_us'):.1f} µs in record_submissions "
            "(the rest: the event loop's fetching, decoding and committing)."
        )
    best = max(batch_sizes, key=lambda s: figures.median(f"c{s}"))
    consumer = figures.median(f"c{best}")
    rebuild_rate = figures.median("d")
    million = GOAL_REBUILD_EVENTS / rebuild_rate
    say()
    say(
        f"Summary: the consumer path stores {consumer:,.0f} events/s (batch {best}), "
        f"{figures.ratio(f'c{best}', 'b'):.0%} of a plain batched save; the batched rebuild "
        f"applies {rebuild_rate:,.0f} events/s, {figures.ratio('d', 'e'):.1f}× the library's "
        f"per-event runner ({figures.median('e'):,.0f} events/s)."
    )
    say()
    say("Goals for later issues:")
    met = "met" if consumer >= GOAL_CONSUMER_EVENTS_PER_S else "NOT met"
    say(f"  consumer ≥ {GOAL_CONSUMER_EVENTS_PER_S:,} events/s: {consumer:,.0f} — {met}")
    met = "met" if million <= GOAL_REBUILD_SECONDS else "NOT met"
    say(
        f"  rebuild of {GOAL_REBUILD_EVENTS:,} events ≤ {GOAL_REBUILD_SECONDS:.0f} s: "
        f"{million:,.0f} s extrapolated at {rebuild_rate:,.0f} events/s — {met}"
    )
    library_million = GOAL_REBUILD_EVENTS / figures.median("e")
    say(f"  (the library runner would take {library_million / 60:,.1f} min for 1 M events)")
    record_figures(figures, best)


def record_figures(figures: Figures, best: int) -> None:
    """The run's medians into bench/results.json, each beside its raw engine."""
    from bench.results import Figure, record

    record("spine", [
        Figure("raw Kafka consume (aiokafka)", figures.median("a"), "msgs/s"),
        Figure("plain batched Application.save", figures.median("b"), "events/s"),
        Figure("plain batched save, platform recorder (binary COPY)", figures.median("b_copy"),
               "events/s", "plain batched Application.save", figures.median("b")),
        Figure(f"consumer → event store (batch {best})", figures.median(f"c{best}"),
               "events/s", "plain batched Application.save", figures.median("b"),
               ">=", GOAL_CONSUMER_EVENTS_PER_S),
        Figure("projection rebuild (batched)", figures.median("d"), "events/s",
               "library ProjectionRunner", figures.median("e"),
               ">=", GOAL_REBUILD_EVENTS / GOAL_REBUILD_SECONDS,
               note=f"1 M events in ≤ {GOAL_REBUILD_SECONDS:.0f} s"),
    ])


def print_profile(title: str, profiler: cProfile.Profile, limit: int) -> None:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(limit)
    say(f"--- {title} (by own time) ---")
    lines = stream.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        if line.strip():
            say(line)


def profile_consumer(res: Resources, workload: Workload, batch_size: int) -> None:
    """One more consumer run under cProfile: the event loop thread and the store calls."""
    loop_profiler, store_profiler = cProfile.Profile(), cProfile.Profile()
    topic = res.topic("prof")
    asyncio.run(produce(res.bootstrap, topic, workload.messages))
    db = res.database("prof")
    try:
        run = asyncio.run(
            consumer_path(
                res.bootstrap, topic, res.group("gprof"), db, workload, batch_size,
                profilers=(loop_profiler, store_profiler),
            )
        )
    finally:
        res.drop_database(db.dbname)
        res.drop_topics()
    say()
    say(f"Profiled consumer run (batch {batch_size}, slower than unprofiled): "
        f"{run.seconds:.2f} s, {run.store_seconds:.2f} s in record_submissions")
    print_profile("event-loop thread", loop_profiler, 20)
    print_profile("record_submissions (worker threads)", store_profiler, 20)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.spine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30_000,
                        help="events in the log, 1.5 per submission (default 30,000: "
                        "20,000 submissions, complaints on half)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--batch-sizes", default="500,2000",
                        help="consumer batch sizes, comma-separated (default 500,2000)")
    parser.add_argument("--library-events", type=int, default=5_000,
                        help="cap for the library's per-event runner (default 5,000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 600 events, 1 repetition, library cap 300")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one consumer run (cProfile) and print the top")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeat, args.library_events = 600, 1, 300
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A partition leader still being elected right after topic creation makes the producer
    # log a retried NotLeaderForPartitionError; the retry is the expected behaviour.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    # FastStream's access log writes two lines per batch to stdout (and resets its level
    # when the broker starts): a filter on the logger keeps the table readable.
    logging.getLogger("faststream.access.kafka").addFilter(
        lambda record: record.levelno >= logging.WARNING
    )
    batch_sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
    workload = make_workload(max(2, round(args.events / 1.5)))

    with contextlib.redirect_stdout(io.StringIO()):
        bootstrap = kafka.ensure_running()
        postgres.ensure_running()
    res = Resources(bootstrap)

    say("Phản ánh — spine benchmark (python -m bench.spine)")
    say(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.node()}; {os.cpu_count()} cores; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    say(f"  Python {platform.python_version()}; {versions()}; {source_state()}")
    probe = res.database("probe")
    try:
        settings = server_settings(probe)
    finally:
        res.drop_database(probe.dbname)
    say(f"  PostgreSQL {settings['server_version']} (fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}, "
        f"full_page_writes={settings['full_page_writes']}, "
        f"shared_buffers={settings['shared_buffers']}); "
        f"Apache Kafka {kafka.KAFKA_VERSION} KRaft at {bootstrap}")
    if settings["fsync"] != "on" or settings["synchronous_commit"] != "on":
        say("  WARNING: this server runs with FEEDBACK_PG_FAST=1 (fsync/synchronous_commit "
            "off): figures are not durable ones. Restart it with `FEEDBACK_PG_FAST=0 python "
            "-m infra postgres stop/start` for the real bench.")
    if os.getloadavg()[0] > 1.0:
        say("  NOTE: other processes keep the cores busy (1-minute load above 1): absolute "
            "rates will be low and spread out; the per-repetition ratios hold up better.")
    say(f"  workload: {len(workload.submissions):,} submissions over {UNITS} units, "
        f"{workload.complaints:,} with a complaint = {workload.events:,} events; "
        f"messages of {statistics.mean(len(v) for _, v in workload.messages):.0f} bytes; "
        f"{args.repeat} repetition(s); consumer batch sizes {batch_sizes}")
    say()

    figures = Figures()
    began = time.perf_counter()
    try:
        for rep in range(1, args.repeat + 1):
            one_repetition(rep, res, workload, batch_sizes, args.library_events, figures)
        print_report(figures, workload, batch_sizes, args.library_events)
        if args.profile:
            profile_consumer(res, workload, batch_sizes[0])
    finally:
        res.close()
    say()
    say(f"({time.perf_counter() - began:.0f} s in all; load average now "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; databases and topics dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
