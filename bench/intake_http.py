"""Intake over HTTP → Kafka acknowledgement, next to a bare aiokafka producer, same run.

The real platform runs as processes (``feedback web`` under uvicorn with the Kafka
publisher, ``feedback consume``, ``feedback project``) on a fresh database and topics. A
lean asyncio HTTP/1.1 client (``bench.http_client``: one keep-alive connection per request
in flight) POSTs QR forms (submission ids prepared the way the form page makes them) and
measures:

* saturation: submissions/s with ``--concurrency`` requests in flight (closed loop);
* latency at a fixed ``--rate`` (open loop: each request is due at its own time and its
  latency counts from then, so a slow answer cannot hide the queue behind it).

A static file fetched through the same server and client gives the HTTP floor (what
uvicorn, the middleware and the client cost without any intake work). The raw engine
does the same work in the same run: a bare ``AIOKafkaProducer``
(acks=all, idempotent, the publisher's settings) sends the same kind of payload, with
the same concurrency and the same open-loop rate. Afterwards the consumer drains the
topic, every accepted submission is checked in the store, and the peak RSS (VmHWM) of the
three processes is read.

The load generator runs on the same cores as the platform, so its own CPU per request
(this process's CPU time during each phase) is printed and recorded: subtract it when
reading the web's share of the machine. (httpx, the client before, spent ≈ 5 ms of CPU per
request with 64 connections, more than the web: the benchmark measured its client.)

``--web-workers N`` runs ``feedback web --workers N`` (N processes on one port); the web's
CPU is then the sum over the supervisor and its workers.

    python -m bench.intake_http [--quick] [--web-workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from aiokafka import AIOKafkaProducer

from bench.http_client import HttpClient, HttpError
from bench.processes import PlatformProcesses, platform_processes
from bench.results import Figure, record
from bench.rss import GOAL_PEAK_RSS_MB, cpu_seconds, peak_rss_mb
from bench.spine import make_workload, publisher_headers

GOAL_RATE = 2_000.0  # submissions/s at saturation
GOAL_P99_MS = 50.0  # at the fixed rate
FIXED_RATE = 500.0  # the goal's rate; --rate measures another (figures named by the rate)

Send = Callable[[int], Awaitable[bool]]


@dataclass
class Latencies:
    ms: list[float] = field(default_factory=list)
    failed: int = 0

    def pct(self, q: int) -> float:
        if not self.ms:
            return float("nan")
        return statistics.quantiles(self.ms, n=100, method="inclusive")[q - 1]


async def saturate(send: Send, total: int, concurrency: int) -> tuple[float, int]:
    """``total`` sends by ``concurrency`` workers; returns (per second, failures)."""
    counter = iter(range(total))
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for i in counter:
            if not await send(i):
                failed += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (total - failed) / (time.perf_counter() - began), failed


async def open_loop(send: Send, rate: float, seconds: float, offset: int) -> Latencies:
    """One send every 1/rate s whatever the answers do; latency from the due time."""
    result = Latencies()
    tasks: list[asyncio.Task[None]] = []
    began = time.perf_counter()

    async def one(i: int, due: float) -> None:
        ok = await send(offset + i)
        if ok:
            result.ms.append((time.perf_counter() - due) * 1000)
        else:
            result.failed += 1

    for i in range(int(rate * seconds)):
        due = began + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return result


# --- the two senders ---------------------------------------------------------------------


class HttpCitizens:
    """POSTs QR forms; a 303 to the tracking page is an accepted submission."""

    def __init__(self, client: HttpClient, tokens: list[str]) -> None:
        self.client = client
        self.tokens = tokens
        self.accepted: list[str] = []

    async def send(self, i: int) -> bool:
        data = {"submission_id": str(uuid.uuid4()), "rating": str(1 + i % 5)}
        if i % 2 == 0:
            data |= {"category": "delay", "description": f"Chờ quá lâu ở quầy (đo tải #{i})."}
        try:
            answer = await self.client.post_form(f"/q/{self.tokens[i % len(self.tokens)]}",
                                                 data)
        except HttpError:
            return False
        if answer.status != 303:
            return False
        self.accepted.append(data["submission_id"])
        return True


class RawProducer:
    """The raw engine: a bare aiokafka producer with the publisher's settings."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, total: int) -> None:
        self.producer = producer
        self.topic = topic
        self.messages = make_workload(total).messages

    async def send(self, i: int) -> bool:
        key, value = self.messages[i % len(self.messages)]
        await self.producer.send_and_wait(self.topic, value=value, key=key,
                                          headers=publisher_headers())
        return True


# --- the run -------------------------------------------------------------------------------


@dataclass
class IntakeFigures:
    http_rate: float = 0.0
    static_rate: float = 0.0  # the HTTP floor: a static file through the same server and client
    http_cpu_ms: float = 0.0  # web process CPU per accepted POST (saturation phase)
    static_cpu_ms: float = 0.0  # web process CPU per static file
    client_cpu_ms: float = 0.0  # the load generator's own CPU per POST (saturation phase)
    client_static_cpu_ms: float = 0.0  # ... per static file
    machine_busy_cores: float = 0.0  # the whole machine's CPU in use during saturation
    # CPU per POST of the other processes during the saturation phase (consumer, projections)
    others_cpu_ms: dict[str, float] = field(default_factory=dict)
    raw_rate: float = 0.0
    http_failed: int = 0
    http: Latencies = field(default_factory=Latencies)
    raw: Latencies = field(default_factory=Latencies)
    accepted: int = 0
    stored: int = 0
    drain_s: float = 0.0
    peak_rss: dict[str, float] = field(default_factory=dict)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the web's workers under ``--workers``)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += process_tree(int(child))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and its live descendants (workers do not exit during a run)."""
    return sum(cpu_seconds(p) for p in process_tree(pid))


@dataclass(frozen=True)
class MachineBusy:
    """/proc/stat's busy and total CPU time, all cores, at one moment."""

    busy: float
    total: float

    def cores_since(self, before: MachineBusy) -> float:
        """Cores' worth of CPU in use between ``before`` and this moment (anyone's work)."""
        share = (self.busy - before.busy) / max(1e-9, self.total - before.total)
        return share * (os.cpu_count() or 1)


def machine_busy() -> MachineBusy:
    line = Path("/proc/stat").read_text().split("\n", 1)[0]
    ticks = [float(x) for x in line.split()[1:9]]  # user … steal (guest is counted in user)
    idle = ticks[3] + ticks[4]  # idle, iowait
    return MachineBusy(sum(ticks) - idle, sum(ticks))


def stored_ratings(stack: PlatformProcesses) -> int:
    with psycopg.connect(stack.database.conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM cases_events WHERE topic LIKE %s", ("%Rating.Given%",)
        ).fetchone()
    return int(row[0]) if row else 0


def wait_drained(stack: PlatformProcesses, expected: int, timeout_s: float) -> float:
    began = time.monotonic()
    while stored_ratings(stack) < expected:
        if time.monotonic() - began > timeout_s:
            break
        time.sleep(0.5)
    return time.monotonic() - began


async def measure(stack: PlatformProcesses, total: int, concurrency: int,
                  seconds: float, rate: float = FIXED_RATE) -> IntakeFigures:
    figures = IntakeFigures()
    tokens = stack.counter_tokens()
    async with HttpClient(stack.base_url, concurrency, timeout_s=30) as client:
        citizens = HttpCitizens(client, tokens)

        async def static_file(i: int) -> bool:
            try:
                return (await client.get("/static/site.css")).status == 200
            except HttpError:
                return False

        web = stack.procs["web"].pid
        await saturate(static_file, 100, concurrency)
        cpu, own = tree_cpu_seconds(web), time.process_time()
        figures.static_rate, _ = await saturate(static_file, total // 2, concurrency)
        figures.static_cpu_ms = (tree_cpu_seconds(web) - cpu) * 1000 / (total // 2)
        figures.client_static_cpu_ms = (time.process_time() - own) * 1000 / (total // 2)
        await saturate(citizens.send, 200, concurrency)  # warm-up: connections, templates
        others = {name: pid for name, pid in stack.pids().items() if name != "web"}
        before = {name: cpu_seconds(pid) for name, pid in others.items()}
        cpu, own, busy = tree_cpu_seconds(web), time.process_time(), machine_busy()
        figures.http_rate, figures.http_failed = await saturate(citizens.send, total,
                                                                concurrency)
        figures.machine_busy_cores = machine_busy().cores_since(busy)
        served = max(1, total - figures.http_failed)
        figures.http_cpu_ms = (tree_cpu_seconds(web) - cpu) * 1000 / served
        figures.client_cpu_ms = (time.process_time() - own) * 1000 / served
        figures.others_cpu_ms = {name: (cpu_seconds(pid) - before[name]) * 1000 / served
                                 for name, pid in others.items()}
        figures.http = await open_loop(citizens.send, rate, seconds, total)
        figures.accepted = len(citizens.accepted)

    raw_topic = stack.resources.topic("raw", 6)
    producer = AIOKafkaProducer(bootstrap_servers=stack.resources.bootstrap, acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        raw = RawProducer(producer, raw_topic, total)
        await saturate(raw.send, 200, concurrency)
        figures.raw_rate, _ = await saturate(raw.send, total, concurrency)
        figures.raw = await open_loop(raw.send, rate, seconds, 0)
    finally:
        await producer.stop()
    return figures


def run(total: int, concurrency: int, seconds: float, rate: float = FIXED_RATE) -> IntakeFigures:
    with platform_processes() as stack:
        figures = asyncio.run(measure(stack, total, concurrency, seconds, rate))
        figures.drain_s = wait_drained(stack, figures.accepted, timeout_s=300)
        figures.stored = stored_ratings(stack)
        figures.peak_rss = {name: peak_rss_mb(pid) for name, pid in stack.pids().items()}
        workers = process_tree(stack.procs["web"].pid)[1:]
        if workers:  # the supervisor is small; a worker is what a web process weighs
            figures.peak_rss["web"] = max(peak_rss_mb(pid) for pid in workers)
    return figures


def report(f: IntakeFigures, total: int, concurrency: int, seconds: float,
           web_workers: int = 1, rate: float = FIXED_RATE) -> list[Figure]:
    workers = f", {web_workers} web workers" if web_workers > 1 else ""
    print(f"intake HTTP → Kafka ack ({total:,} POSTs, {concurrency} in flight; then "
          f"{rate:.0f}/s for {seconds:.0f} s{workers})")
    print(f"  saturation   HTTP {f.http_rate:8,.0f} submissions/s ({f.http_failed} failed)   "
          f"bare aiokafka {f.raw_rate:8,.0f} msgs/s   ratio {f.http_rate / f.raw_rate:.2f}")
    print(f"  HTTP floor   GET /static/site.css {f.static_rate:8,.0f}/s (same server and client); "
          f"the intake POST is {f.http_rate / f.static_rate:.2f} × that")
    print(f"  web CPU per request: intake POST {f.http_cpu_ms:.2f} ms, static file "
          f"{f.static_cpu_ms:.2f} ms → one core carries ≈ {1000 / f.http_cpu_ms:,.0f} POSTs/s")
    print(f"  load generator's own CPU per request (same cores): POST {f.client_cpu_ms:.2f} ms, "
          f"static file {f.client_static_cpu_ms:.2f} ms")
    print(f"  the machine meanwhile: {f.machine_busy_cores:.2f} of {os.cpu_count()} cores busy "
          f"(the web {f.http_cpu_ms * f.http_rate / 1000:.2f} of them; other work included)")
    print("  meanwhile, CPU per POST of the others (same cores): "
          + ", ".join(f"{name} {ms:.2f} ms" for name, ms in f.others_cpu_ms.items())
          + " (and Kafka, PostgreSQL)")
    print(f"  at {rate:.0f}/s    HTTP p50 {f.http.pct(50):6.1f} ms p99 {f.http.pct(99):6.1f}"
          f" ms ({f.http.failed} failed)   bare aiokafka p50 {f.raw.pct(50):6.1f} ms "
          f"p99 {f.raw.pct(99):6.1f} ms")
    print(f"  accepted {f.accepted:,}; in the store {f.stored:,} (drained in {f.drain_s:.1f} s)"
          f" — {'nothing lost' if f.stored >= f.accepted else 'MISSING SUBMISSIONS'}")
    print("  peak RSS (VmHWM): " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in f.peak_rss.items()))
    raw = "bare aiokafka producer (acks=all, idempotent)"
    goal: tuple[str, float | None] = ("<=", GOAL_P99_MS) if rate == FIXED_RATE else ("", None)
    figures = [
        Figure(f"intake HTTP → Kafka ack, saturation{workers}", f.http_rate, "submissions/s", raw,
               f.raw_rate, ">=", GOAL_RATE, note=f"{concurrency} in flight"),
        Figure(f"HTTP floor: static file, same server and client{workers}", f.static_rate,
               "requests/s"),
        Figure(f"web CPU per intake POST{workers}", f.http_cpu_ms, "ms", "web CPU per static file",
               f.static_cpu_ms, note="load-independent: capacity ≈ 1000/x POSTs/s per core"),
        Figure(f"load generator CPU per intake POST{workers}", f.client_cpu_ms, "ms",
               "load generator CPU per static file", f.client_static_cpu_ms,
               note="bench.http_client, on the same cores as the platform"),
        Figure(f"intake HTTP p99 at {rate:.0f}/s{workers}", f.http.pct(99), "ms",
               f"{raw} p99", f.raw.pct(99), *goal),  # the goal is at 500/s
        Figure(f"intake HTTP p50 at {rate:.0f}/s{workers}", f.http.pct(50), "ms",
               f"{raw} p50", f.raw.pct(50)),
        Figure("intake accepted but not stored", max(0, f.accepted - f.stored), "submissions",
               goal_op="<=", goal_value=0),
    ]
    names = {"web": "web", "consume": "consumer", "project": "projection runner"}
    figures += [Figure(f"peak RSS, {names.get(n, n)} (under intake load)", mb, "MB",
                       goal_op="<=", goal_value=GOAL_PEAK_RSS_MB)
                for n, mb in f.peak_rss.items()]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_http", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=6_000, help="POSTs at saturation")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=10.0, help="open-loop duration")
    parser.add_argument("--rate", type=float, default=FIXED_RATE,
                        help="open-loop rate (the goal's: 500/s)")
    parser.add_argument("--quick", action="store_true", help="600 POSTs, 3 s open loop")
    parser.add_argument("--web-workers", type=int, default=1,
                        help="feedback web --workers N (processes sharing the port)")
    args = parser.parse_args(argv)
    os.environ["FEEDBACK_WEB_WORKERS"] = str(args.web_workers)  # read by `feedback web`
    if args.quick:
        args.submissions, args.seconds = 600, 3.0
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    figures = run(args.submissions, args.concurrency, args.seconds, args.rate)
    rows = report(figures, args.submissions, args.concurrency, args.seconds, args.web_workers,
                  args.rate)
    record("intake_http", rows)
    return 0 if figures.stored >= figures.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
