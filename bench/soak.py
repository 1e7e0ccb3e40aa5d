"""The soak: a steady rate through the HTTP intake for a long time, memory sampled.

The platform runs as processes (web, consumer, projection runner; ``bench.processes``);
a lean asyncio client (``bench.http_client``) POSTs QR forms at ``--rate`` per second
(open loop, at most ``--in-flight`` requests outstanding: when the platform cannot keep
up, the sends it could not start are counted as skipped, never queued without bound).
Every 10 s the
RSS of each process is sampled. Memory is called flat when the least-squares slope over
the last two thirds of the run (the warm-up left out) stays under ``--flat-mb-per-hour``.
At the end every accepted submission must be in the store.

    python -m bench.soak --minutes 30        # make soak; not run in CI
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass

from bench.http_client import HttpClient
from bench.intake_http import HttpCitizens, stored_ratings, wait_drained
from bench.processes import platform_processes
from bench.results import Figure, record
from bench.rss import RssSampler, peak_rss_mb

NAMES = {"web": "web", "consume": "consumer", "project": "projection runner"}


@dataclass
class SoakCounts:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # not started: the in-flight cap was reached (the platform fell behind)


async def steady_load(base_url: str, tokens: list[str], rate: float, seconds: float,
                      in_flight: int, counts: SoakCounts) -> HttpCitizens:
    async with HttpClient(base_url, in_flight, timeout_s=30) as client:
        citizens = HttpCitizens(client, tokens)
        slots = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()

        async def one(i: int) -> None:
            try:
                if not await citizens.send(i):
                    counts.failed += 1
            finally:
                slots.release()

        began = time.perf_counter()
        i = 0
        while (due := began + i / rate) < began + seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if slots.locked():
                counts.skipped += 1
            else:
                await slots.acquire()
                counts.sent += 1
                task = asyncio.create_task(one(i))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
        return citizens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="submissions per second")
    parser.add_argument("--in-flight", type=int, default=128)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--flat-mb-per-hour", type=float, default=20.0,
                        help="largest RSS slope (last 2/3 of the run) still called flat")
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    counts = SoakCounts()
    seconds = args.minutes * 60
    with platform_processes() as stack:
        sampler = RssSampler(stack.pids, args.sample_seconds).start()
        began = time.monotonic()
        try:
            citizens = asyncio.run(steady_load(stack.base_url, stack.counter_tokens(), args.rate,
                                               seconds, args.in_flight, counts))
        finally:
            sampler.stop()
        took = time.monotonic() - began
        accepted = len(citizens.accepted)
        drain = wait_drained(stack, accepted, timeout_s=600)
        stored = stored_ratings(stack)
        peaks = {name: peak_rss_mb(pid) for name, pid in stack.pids().items()}

    print(f"soak: {took / 60:.1f} min at {args.rate:.0f}/s asked; {counts.sent:,} sent "
          f"({counts.sent / took:,.0f}/s achieved), {counts.skipped:,} skipped (platform "
          f"behind), {counts.failed:,} failed; {accepted:,} accepted, {stored:,} in the store "
          f"(drained {drain:.0f} s after the load)")
    print(f"RSS every {args.sample_seconds:.0f} s (MB): first / min / max / last; "
          f"slope over the last 2/3 (MB per hour; flat ≤ {args.flat_mb_per_hour:g})")
    figures: list[Figure] = []
    all_flat = True
    for name, series in sampler.series.items():
        values = [mb for _, mb in series]
        slope = sampler.tail_slope(name)
        flat = slope <= args.flat_mb_per_hour
        all_flat &= flat
        print(f"  {NAMES.get(name, name):<18} {values[0]:6.1f} / {min(values):6.1f} / "
              f"{max(values):6.1f} / {values[-1]:6.1f}   slope {slope:+7.1f} MB/h "
              f"({len(values)} samples) {'flat' if flat else 'GROWING'}; "
              f"peak {peaks.get(name, max(values)):.0f} MB")
        figures.append(Figure(f"soak RSS slope, {NAMES.get(name, name)}", slope, "MB/h",
                              goal_op="<=", goal_value=args.flat_mb_per_hour,
                              note=f"{args.minutes:g} min at {args.rate:g}/s"))
    figures.append(Figure("soak: accepted but not stored", max(0, accepted - stored),
                          "submissions", goal_op="<=", goal_value=0))
    figures.append(Figure("soak: achieved rate", counts.sent / took, "submissions/s",
                          goal_op=">=", goal_value=args.rate))
    record("soak", figures)
    return 0 if all_flat and stored >= accepted else 1


if __name__ == "__main__":
    sys.exit(main())
