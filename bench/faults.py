"""The fault harness: submissions through the HTTP intake while the parts fail, then proof
that nothing was lost and nothing stored twice.

``python -m bench.faults --submissions N`` (``make faults``: 100,000) starts a platform of
its own: PostgreSQL and Apache Kafka from ``infra/`` on free ports with their data in a
fresh folder (the shared servers on 54329/9092 are never touched), then ``feedback web``,
``feedback consume`` and ``feedback project`` as subprocesses. A small asyncio httpx client
plays the citizens: GET the QR page (form and submission id), POST it, with bounded
concurrency, recording every tracking code the web answers with. Meanwhile, at evenly spaced
points of the run, the harness in turn SIGKILLs the consumer while it has records pending
(and restarts it), restarts the Kafka broker, restarts PostgreSQL and restarts the web
server. The consumer and the projection runner reconnect by themselves after a Kafka or
PostgreSQL restart, so only the harness stops processes; should one exit by itself anyway
(a regression), the harness's supervisor counts it and starts it again so that the run
finishes and reports it (the CI test demands 0).

A submission refused with 503 ("try again", Kafka did not acknowledge in time) or left
unanswered (the web restarting) is sent again later with the same submission id, as a
citizen pressing "Gửi lại" does. At the end: the consumer drained, the projection caught up,
``consumers.reconcile`` compares topic ↔ event store ↔ read models, and every tracking
code the web answered with is looked up in the store and in the views. ``--doc`` writes the
summary to docs/faults.md. Exit 0 only when nothing is lost and nothing duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg

from consumers.lag import consumer_lag
from consumers.reconcile import (
    ReconcileOptions,
    Reconciliation,
    reconcile,
    stored_aggregates,
)
from feedback_core.identity import case_id_for, rating_id_for, tracking_code_for

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("web", "consume", "project")
GROUP = "core"
TOPIC = "feedback.intake.v1"
VIEWS = "views"
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')
QR_LINK = re.compile(r'href="/q/([^"?#]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class FaultPlan:
    submissions: int = 100_000
    consumer_kills: int = 20
    kafka_restarts: int = 1
    postgres_restarts: int = 1
    web_restarts: int = 1
    concurrency: int = 12
    batch_size: int = 500
    publish_timeout_s: float = 3.0
    deadline_s: float = 6 * 3600  # the whole run stops by itself after this
    keep_dir: bool = False


# --- the platform of the harness ---------------------------------------------------------------


class FaultStack:
    """PostgreSQL, Kafka and the three processes, on ports and in a folder of their own."""

    def __init__(self, workdir: Path, plan: FaultPlan) -> None:
        self.workdir = workdir
        self.plan = plan
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg_port, self.kafka_port, self.controller_port, self.web_port = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        )
        self.bootstrap = f"127.0.0.1:{self.kafka_port}"
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.pg_port}/feedback"
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.paused: set[str] = set()  # parts the harness itself has taken down
        self.unexpected_exits: dict[str, int] = {name: 0 for name in SERVICES}
        self.lock = threading.RLock()
        self._link_kafka_jars()

    def _link_kafka_jars(self) -> None:
        """The broker's jars from the project's own folder (no second download)."""
        shared = Path(os.environ.get("FEEDBACK_LOCAL_DIR") or ROOT / ".local") / "kafka" / "lib"
        target = self.workdir / "kafka" / "lib"
        if shared.is_dir() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(shared.resolve(), target_is_directory=True)

    def infra_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FEEDBACK_LOCAL_DIR": str(self.workdir),
            "FEEDBACK_PG_PORT": str(self.pg_port),
            "FEEDBACK_PG_FAST": "1",
            "FEEDBACK_KAFKA_PORT": str(self.kafka_port),
            "FEEDBACK_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "FEEDBACK_KAFKA_HEAP_OPTS": "-Xmx384m -Xms128m",
        }

    def service_env(self) -> dict[str, str]:
        return {
            **self.infra_env(),
            "FEEDBACK_DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PORT": str(self.web_port),
            "FEEDBACK_HOST": "127.0.0.1",
            "FEEDBACK_SECRET_KEY": "fault-harness-secret",
            "FEEDBACK_QR_POSTS_PER_CLIENT_PER_MINUTE": "0",
            "FEEDBACK_QR_POSTS_PER_TOKEN_PER_MINUTE": "0",
            "FEEDBACK_CONSUMER_BATCH_SIZE": str(self.plan.batch_size),
            "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "FEEDBACK_INTAKE_PUBLISH_TIMEOUT_S": str(self.plan.publish_timeout_s),
            "FEEDBACK_CRASH_AFTER_STORE": "0",
        }

    def infra(self, *args: str) -> None:
        """``python -m infra ...`` against this stack's ports and folder."""
        with (self.logs / "infra.log").open("ab") as out:
            subprocess.run(
                [sys.executable, "-m", "infra", *args],
                env=self.infra_env(),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=300,
            )

    # -- processes

    def spawn(self, name: str) -> None:
        with self.lock, (self.logs / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "feedback_cli.main", name],
                env=self.service_env(),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.paused.discard(name)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL, timeout_s: float = 30) -> None:
        with self.lock:
            self.paused.add(name)
            proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def supervise(self) -> None:
        """Restart a part that exited without the harness asking, and count it: the count
        must stay 0 (the parts reconnect by themselves)."""
        with self.lock:
            for name, proc in list(self.procs.items()):
                if name not in self.paused and proc.poll() is not None:
                    self.unexpected_exits[name] += 1
                    self.spawn(name)

    def web_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=3).status_code < 600:
                    return
            time.sleep(0.3)
        raise TimeoutError(
            f"the web did not answer on {self.base_url} in {timeout_s} s; "
            f"see {self.logs / 'web.log'}"
        )

    # -- lifecycle

    def start(self) -> None:
        self.infra("postgres", "start")
        self.infra("kafka", "start")
        self.spawn("web")  # first: it creates the tables and loads the organisation
        self.web_ready()
        self.spawn("consume")
        self.spawn("project")

    def close(self) -> None:
        """Stop every process and both servers this stack started (also after a failure)."""
        with self.lock:
            self.paused.update(self.procs)
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.kill()
            for proc in self.procs.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
        for server in ("kafka", "postgres"):
            try:
                self.infra(server, "stop")
            except (subprocess.SubprocessError, OSError) as exc:
                print(f"faults: stopping {server} failed: {exc}", file=sys.stderr)


@contextlib.contextmanager
def fault_stack(plan: FaultPlan, workdir: Path | None = None) -> Iterator[FaultStack]:
    folder = workdir or Path(tempfile.mkdtemp(prefix="feedback-faults-"))
    stack = FaultStack(folder, plan)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
        if not plan.keep_dir:
            shutil.rmtree(folder, ignore_errors=True)


# --- the citizens ------------------------------------------------------------------------------


@dataclass
class Submission:
    index: int
    token: str
    submission_id: str = ""
    code: str = ""  # the tracking code the web answered with
    refused: int = 0  # 503 "try again"
    unanswered: int = 0  # connection errors, 5xx while a part restarts

    @property
    def complaint(self) -> bool:
        return self.index % 2 == 0

    def form(self) -> dict[str, str]:
        data = {"submission_id": self.submission_id, "rating": str(1 + self.index % 5)}
        if self.complaint:
            data |= {"category": "delay", "description": f"Kiểm thử lỗi số {self.index}: chờ lâu"}
        return data


@dataclass
class LoadFigures:
    accepted: int = 0
    refused: int = 0  # answers 503, the typed text shown back
    refused_without_text: int = 0  # a 503 page that lost what was typed (must stay 0)
    unanswered: int = 0
    other_errors: dict[str, int] = field(default_factory=dict)
    code_mismatches: int = 0  # a tracking code that is not the one of the submission id


class Citizens:
    def __init__(self, base_url: str, tokens: list[str], concurrency: int) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.concurrency = concurrency
        self.figures = LoadFigures()
        self.attempts = 0

    def other(self, what: str) -> None:
        self.figures.other_errors[what] = self.figures.other_errors.get(what, 0) + 1

    async def send(self, client: httpx.AsyncClient, sub: Submission) -> None:
        """One attempt: GET the form (first time only), POST it; the outcome on ``sub``."""
        self.attempts += 1
        try:
            if not sub.submission_id:
                page = await client.get(f"/q/{sub.token}")
                found = SUBMISSION_ID.search(page.text) if page.status_code == 200 else None
                if found is None:
                    sub.unanswered += 1
                    self.figures.unanswered += 1
                    return
                sub.submission_id = found.group(1)
            answer = await client.post(f"/q/{sub.token}", data=sub.form())
        except httpx.HTTPError:
            sub.unanswered += 1
            self.figures.unanswered += 1
            return
        if answer.status_code == 303:
            code = answer.headers["location"].split("/t/", 1)[1].split("?", 1)[0]
            if code != tracking_code_for(UUID(sub.submission_id)):
                self.figures.code_mismatches += 1
            sub.code = code
            self.figures.accepted += 1
        elif answer.status_code == 503:
            sub.refused += 1
            self.figures.refused += 1
            if sub.complaint and f"Kiểm thử lỗi số {sub.index}" not in answer.text:
                self.figures.refused_without_text += 1
        elif answer.status_code >= 500:
            sub.unanswered += 1
            self.figures.unanswered += 1
        else:
            self.other(str(answer.status_code))

    async def send_all(self, subs: list[Submission]) -> None:
        queue: asyncio.Queue[Submission] = asyncio.Queue()
        for sub in subs:
            queue.put_nowait(sub)
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, limits=limits) as client:

            async def worker() -> None:
                while not queue.empty():
                    await self.send(client, queue.get_nowait())

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))


def counter_tokens(base_url: str) -> list[str]:
    page = httpx.get(f"{base_url}/", timeout=30)
    page.raise_for_status()
    tokens = sorted(set(QR_LINK.findall(page.text)))
    if not tokens:
        raise RuntimeError("the home page lists no QR code")
    return tokens


# --- the faults --------------------------------------------------------------------------------


@dataclass
class FaultLog:
    consumer_kills: int = 0
    kills_with_records_pending: int = 0
    kafka_restarts: int = 0
    postgres_restarts: int = 0
    web_restarts: int = 0
    downtime_s: dict[str, list[float]] = field(default_factory=dict)

    def took(self, what: str, seconds: float) -> None:
        self.downtime_s.setdefault(what, []).append(round(seconds, 1))


def fault_schedule(plan: FaultPlan) -> list[str]:
    """The faults in the order they happen: kills spread around the three restarts."""
    restarts = (
        ["kafka"] * plan.kafka_restarts
        + ["postgres"] * plan.postgres_restarts
        + ["web"] * plan.web_restarts
    )
    kills = ["consumer"] * plan.consumer_kills
    slots = len(restarts) + 1
    order: list[str] = []
    for slot in range(slots):
        share = kills[len(kills) * slot // slots : len(kills) * (slot + 1) // slots]
        order += share
        if slot < len(restarts):
            order.append(restarts[slot])
    return order


class FaultDriver:
    def __init__(self, stack: FaultStack, log: FaultLog) -> None:
        self.stack = stack
        self.log = log

    def lag(self) -> int | None:
        try:
            return consumer_lag(self.stack.bootstrap, GROUP, TOPIC)["lag"]
        except Exception:  # noqa: BLE001 - Kafka restarting: unknown for now
            return None

    def committed(self) -> int | None:
        try:
            return consumer_lag(self.stack.bootstrap, GROUP, TOPIC)["committed"]
        except Exception:  # noqa: BLE001
            return None

    def kill_consumer(self) -> None:
        """SIGKILL while records are pending (waits up to 20 s for some), restart, and wait
        until the new one committed something, so that the next kill meets a working one."""
        deadline = time.monotonic() + 20
        while (self.lag() or 0) <= 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        pending = self.lag() or 0
        before = self.committed() or 0
        began = time.monotonic()
        self.stack.kill("consume", signal.SIGKILL)
        self.stack.spawn("consume")
        self.log.consumer_kills += 1
        self.log.kills_with_records_pending += pending > 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            committed = self.committed()
            if committed is not None and (committed > before or self.lag() == 0):
                break
            time.sleep(0.5)
        self.log.took("consumer kill → commits again", time.monotonic() - began)

    def restart_server(self, server: str) -> None:
        began = time.monotonic()
        self.stack.infra(server, "stop")
        time.sleep(1.0)  # down for a moment, with the load going on
        self.stack.infra(server, "start")
        self.log.took(f"{server} down", time.monotonic() - began)
        if server == "kafka":
            self.log.kafka_restarts += 1
        else:
            self.log.postgres_restarts += 1

    def restart_web(self) -> None:
        began = time.monotonic()
        self.stack.kill("web", signal.SIGTERM)
        self.stack.spawn("web")
        self.stack.web_ready()
        self.log.web_restarts += 1
        self.log.took("web down", time.monotonic() - began)

    def run(self, fault: str) -> None:
        if fault == "consumer":
            self.kill_consumer()
        elif fault == "web":
            self.restart_web()
        else:
            self.restart_server(fault)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class FaultReport:
    plan: FaultPlan
    load: LoadFigures
    faults: FaultLog
    unexpected_exits: dict[str, int]
    seconds: float
    retry_rounds: int
    never_accepted: int
    answered_codes: int
    answered_not_stored: int
    answered_not_in_views: int
    ratings_stored: int
    cases_stored: int
    ratings_expected: int
    cases_expected: int
    reconciliation: dict[str, Any]

    @property
    def lost(self) -> int:
        rec = self.reconciliation
        views = rec.get("views") or {}
        return (
            len(rec["missing"])
            + self.answered_not_stored
            + self.answered_not_in_views
            + self.never_accepted
            + views.get("cases_missing", 0)
            + views.get("submissions_missing", 0)
        )

    @property
    def duplicated(self) -> int:
        extra = (self.ratings_stored - self.ratings_expected) + (
            self.cases_stored - self.cases_expected
        )
        views = self.reconciliation.get("views") or {}
        return (
            max(0, extra)
            + self.reconciliation["stored_without_message"]
            + (views.get("cases_in_views", 0) - views.get("cases_stored", 0))
        )

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.reconciliation["clean"]
            and self.load.code_mismatches == 0
            and self.load.refused_without_text == 0
        )

    def lines(self) -> list[str]:
        rec, load, f = self.reconciliation, self.load, self.faults
        views = rec.get("views") or {}
        redelivered = sum(rec["redelivered"].values()) - len(rec["redelivered"])
        return [
            f"submissions: {self.plan.submissions:,} through the HTTP intake in "
            f"{self.seconds:,.0f} s ({self.plan.submissions / self.seconds:,.0f}/s overall), "
            f"{self.plan.concurrency} concurrent clients",
            f"faults: consumer SIGKILLed {f.consumer_kills}× "
            f"({f.kills_with_records_pending} with records pending), Kafka restarted "
            f"{f.kafka_restarts}×, PostgreSQL restarted {f.postgres_restarts}×, web restarted "
            f"{f.web_restarts}×",
            "time per fault (s): "
            + "; ".join(f"{what} {min(t)}–{max(t)}" for what, t in f.downtime_s.items()),
            "parts that exited by themselves (must be none; the harness restarted them): "
            + (", ".join(f"{n} {c}×" for n, c in self.unexpected_exits.items() if c) or "none"),
            f"answers: {load.accepted:,} accepted (303 + tracking code), {load.refused:,} refused "
            f"with 503 'try again' (typed text kept: {load.refused - load.refused_without_text:,}"
            f"), {load.unanswered:,} unanswered (part restarting), other: "
            f"{load.other_errors or 'none'}; retried later in {self.retry_rounds} round(s); "
            f"never accepted: {self.never_accepted}",
            f"topic: {rec['messages']:,} messages, {rec['submissions']:,} distinct submissions, "
            f"{redelivered:,} extra copies (a refused publish that reached Kafka after all, "
            "then its retry)",
            f"store: {self.ratings_stored:,} ratings (expected {self.ratings_expected:,}), "
            f"{self.cases_stored:,} cases (expected {self.cases_expected:,}); reconcile: "
            f"{rec['stored']:,} stored once, {len(rec['missing'])} missing, "
            f"{rec['stored_without_message']} without a message, clean={rec['clean']}",
            f"read models: {views.get('cases_in_views', 0):,} of {views.get('cases_stored', 0):,}"
            f" cases in case_queue, {views.get('submissions_missing', 0)} of "
            f"{views.get('submissions_checked', 0):,} submissions missing from submission_status",
            f"tracking codes answered: {self.answered_codes:,}; not in the store: "
            f"{self.answered_not_stored}; not in the views: {self.answered_not_in_views}",
            f"LOST: {self.lost}   DUPLICATED: {self.duplicated}   "
            + ("OK" if self.ok else "FAILED"),
        ]


def wait_drained(stack: FaultStack, timeout_s: float) -> None:
    """Until the consumer committed everything and the projection applied the whole log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stack.supervise()
        with contextlib.suppress(Exception):
            if consumer_lag(stack.bootstrap, GROUP, TOPIC)["lag"] == 0:
                with psycopg.connect(stack.database_url) as conn:
                    row = conn.execute(
                        "SELECT (SELECT coalesce(max(notification_id), 0) FROM cases_events) - "
                        "(SELECT coalesce(max(notification_id), 0) "
                        "FROM views.projection_position)"
                    ).fetchone()
                if row is not None and row[0] <= 0:
                    return
        time.sleep(1.0)
    raise TimeoutError(f"the consumer or the projection did not catch up in {timeout_s} s")


def check_answered(stack: FaultStack, subs: list[Submission]) -> tuple[int, int]:
    """(answered codes not in the store, answered codes not in the views)."""
    answered = [s for s in subs if s.code]
    ids = [rating_id_for(UUID(s.submission_id)) for s in answered]
    ids += [case_id_for(UUID(s.submission_id)) for s in answered if s.complaint]
    stored = stored_aggregates(stack.database_url, ids)
    not_stored = sum(
        1
        for s in answered
        if rating_id_for(UUID(s.submission_id)) not in stored
        or (s.complaint and case_id_for(UUID(s.submission_id)) not in stored)
    )
    with psycopg.connect(stack.database_url) as conn:
        seen = {
            row[0]
            for row in conn.execute(
                "SELECT tracking_code FROM views.submission_status WHERE tracking_code = ANY(%s)",
                ([s.code for s in answered],),
            )
        }
    return not_stored, sum(1 for s in answered if s.code not in seen)


def stored_counts(database_url: str) -> tuple[int, int]:
    from eventsourcing.utils import get_topic

    from feedback_core.cases import Case
    from feedback_core.ratings import Rating

    with psycopg.connect(database_url) as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                "SELECT topic, count(*) FROM cases_events WHERE originator_version = 1 "
                "AND topic = ANY(%s) GROUP BY topic",
                ([get_topic(Rating.Given), get_topic(Case.Received)],),
            ).fetchall()
        )
    return counts.get(get_topic(Rating.Given), 0), counts.get(get_topic(Case.Received), 0)


async def _supervise(stack: FaultStack, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(stack.supervise)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def _drive(driver: FaultDriver, schedule: list[str], citizens: Citizens, total: int) -> None:
    """Each fault when the load has gone its share of the way."""
    for number, fault in enumerate(schedule, start=1):
        threshold = total * number // (len(schedule) + 1)
        while citizens.attempts < threshold:
            await asyncio.sleep(0.1)
        await asyncio.to_thread(driver.run, fault)


async def _load_and_faults(
    stack: FaultStack, plan: FaultPlan, subs: list[Submission], citizens: Citizens, log: FaultLog
) -> int:
    stop = asyncio.Event()
    supervisor = asyncio.create_task(_supervise(stack, stop))
    try:
        faults = asyncio.create_task(
            _drive(FaultDriver(stack, log), fault_schedule(plan), citizens, len(subs))
        )
        await citizens.send_all(subs)
        await faults
        rounds = 0
        while (pending := [s for s in subs if not s.code]) and rounds < 30:
            rounds += 1
            await asyncio.sleep(2.0)
            await asyncio.to_thread(stack.web_ready)
            await citizens.send_all(pending)
        return rounds
    finally:
        stop.set()
        await supervisor


def run_faults(plan: FaultPlan, workdir: Path | None = None) -> FaultReport:
    """The whole run: start, load with faults, drain, reconcile, stop (always)."""
    with fault_stack(plan, workdir) as stack:
        tokens = counter_tokens(stack.base_url)
        subs = [Submission(i, tokens[i % len(tokens)]) for i in range(plan.submissions)]
        citizens = Citizens(stack.base_url, tokens, plan.concurrency)
        log = FaultLog()
        began = time.monotonic()
        rounds = asyncio.run(_load_and_faults(stack, plan, subs, citizens, log))
        seconds = time.monotonic() - began
        wait_drained(stack, timeout_s=min(plan.deadline_s, 600 + plan.submissions / 50))
        result: Reconciliation = reconcile(
            ReconcileOptions(stack.bootstrap, stack.database_url, views_schema=VIEWS)
        )
        not_stored, not_in_views = check_answered(stack, subs)
        ratings, cases = stored_counts(stack.database_url)
        accepted = [s for s in subs if s.code]
        return FaultReport(
            plan=plan,
            load=citizens.figures,
            faults=log,
            unexpected_exits=dict(stack.unexpected_exits),
            seconds=seconds,
            retry_rounds=rounds,
            never_accepted=len(subs) - len(accepted),
            answered_codes=len(accepted),
            answered_not_stored=not_stored,
            answered_not_in_views=not_in_views,
            ratings_stored=ratings,
            cases_stored=cases,
            ratings_expected=len(accepted),
            cases_expected=sum(1 for s in accepted if s.complaint),
            reconciliation=result.to_json() | {"missing": result.to_json()["missing"][:20]},
        )


# --- the report --------------------------------------------------------------------------------


def markdown(report: FaultReport, command: str) -> str:
    machine = (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}"
    )
    body = "\n".join(f"- {line}" for line in report.lines())
    return f"""# Faults: nothing lost

Measured with `{command}` on {machine}, {time.strftime("%Y-%m-%d")}
(PostgreSQL with fsync off, as in the tests; restarts are clean `pg_ctl stop -m fast`).

{body}

## What the run does

`bench/faults.py` starts a platform of its own (PostgreSQL and Apache Kafka from `infra/` on
free ports, data in a fresh folder; `feedback web`, `feedback consume`, `feedback project` as
processes), sends the submissions through the citizens' QR form over HTTP (GET the form, POST
it) and meanwhile, at evenly spaced points, SIGKILLs the consumer while it has records pending,
restarts the Kafka broker, PostgreSQL and the web server. The consumer and the projection
runner ride out the Kafka and PostgreSQL restarts by themselves (they reconnect with
backoff, see below); a part that exited by itself anyway would be counted above and started
again by the harness. A submission refused with 503 (Kafka did not acknowledge within
`FEEDBACK_INTAKE_PUBLISH_TIMEOUT_S`) or unanswered (the web restarting) is sent again later
with the same submission id. Afterwards `consumers.reconcile` compares the topic, the
event store and the read models, and every tracking code the web answered with is looked up
in the store and in the views.

*Lost* counts submissions missing from the store or the views, answered codes not found, and
submissions never accepted; *duplicated* counts ratings or cases stored beyond one per
submission, stored ones without a message and view rows without a stored case.

## Restarts of PostgreSQL and Kafka

No process needs restarting after a server restarts (`tests/integration/test_resilience.py`,
each on servers of its own):

- **Projection runner** (`feedback project`, also the figures runner): a broken connection
  ends the page's transaction (rolled back); it reconnects with bounded exponential backoff
  (0.2 s doubling to 5 s), logs one line when the outage starts and one when it ends (no
  event content), and resumes from its stored position, which moves in the same transaction
  as the rows: nothing is applied twice.
- **Intake consumer** (`feedback consume`): started while Kafka is down it waits for the
  broker (backoff, one line); aiokafka reconnects after a broker restart, and an offset
  commit that fails meanwhile is logged, not raised (the batch is stored; a re-delivery is
  counted as duplicates). A PostgreSQL restart mid-batch: the store is retried with backoff
  for up to 120 s before the batch is rewound; nothing is acknowledged before it is stored.
- **Web**: the library's pools check a connection before lending it
  (`POSTGRES_PRE_PING=y`) and wait at most 1 s for one (`POSTGRES_CONNECT_TIMEOUT=1`; the
  library tries each operation 10 times), the read side's pool checks too
  (`check=ConnectionPool.check_connection`, 5 s): after the restart the next request
  succeeds. During an outage a request gets a 503 page ("Hệ thống tạm thời gián đoạn",
  `Retry-After`, what was typed in a form shown back; JSON on the APIs) after at most about
  12 s, not a 500; a restart shorter than that is waited out.
- **`feedback up`** supervises its processes: a child that exits is started again after
  1 s, doubling to 30 s, and each restart is printed with its number.

## Kafka down at intake

The web waits at most `FEEDBACK_INTAKE_PUBLISH_TIMEOUT_S` (3 s) for Kafka's acknowledgement
(acks=all, idempotent producer). Without it the citizen gets a 503 page saying the system
has not received the rating yet, with everything typed shown again and the same submission id
in the form (`Retry-After`); the hotline API answers 503 JSON, Open311 503 with its error
array. A tracking code is shown only after the acknowledgement, so nothing accepted is
dropped; a refused message that reaches Kafka later anyway is stored once with its retry
(the extra copies counted above).

## Poison messages

Malformed JSON, an unknown schema version and a valid envelope with invalid content go to
`feedback.intake.dlq.v1` with the reason (`error` header) and their origin (`source`
header); the good messages around them on the same partition are stored and the offsets move
on: `tests/integration/test_dead_letters.py`.

## In CI

`tests/integration/test_faults.py` runs the same harness at a smaller scale in `make test`
(2,000 submissions, 3 consumer kills, a Kafka, a PostgreSQL and a web restart).
"""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20, help="consumer SIGKILLs")
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the data and logs folder")
    parser.add_argument(
        "--doc",
        type=Path,
        default=None,
        help="write the summary as Markdown to this file (docs/faults.md)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    plan = FaultPlan(
        submissions=args.submissions,
        consumer_kills=args.kills,
        concurrency=args.concurrency,
        keep_dir=args.keep,
    )
    # SIGTERM unwinds like Ctrl-C, so every process and server started is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    report = run_faults(plan)
    for line in report.lines():
        print(line)
    if args.doc:
        command = f"python -m bench.faults --submissions {args.submissions} --kills {args.kills}"
        args.doc.write_text(markdown(report, command), encoding="utf-8")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "lines": report.lines(),
                    "lost": report.lost,
                    "duplicated": report.duplicated,
                    "reconciliation": report.reconciliation,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
