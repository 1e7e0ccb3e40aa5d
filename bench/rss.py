"""Resident memory (and CPU time) of the platform's processes, read from /proc (Linux).

``VmHWM`` is the peak resident set the kernel kept for a process since it started: read
once at the end of a load it is the figure the "≤ 250 MB each" goal is about. ``VmRSS``
sampled over time gives the soak's series, whose slope says whether memory stays flat.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

GOAL_PEAK_RSS_MB = 250.0


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(f"{key} not in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    """The resident set now, in MiB."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """The highest resident set since the process started, in MiB."""
    return _status_kb(pid, "VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used: divided by the requests served,
    the cost per request, which holds when other work on the machine slows the wall clock."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope_mb_per_hour(series: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per hour (0 for < 2 samples)."""
    if len(series) < 2:
        return 0.0
    xs = [t for t, _ in series]
    ys = [m for _, m in series]
    if max(xs) == min(xs):
        return 0.0
    return statistics.linear_regression(xs, ys).slope * 3600


@dataclass
class RssSampler:
    """Samples the RSS of named processes every ``interval_s`` in a background thread."""

    pids: Callable[[], Mapping[str, int]]
    interval_s: float = 10.0
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _began: float = 0.0

    def sample(self) -> None:
        now = time.monotonic() - self._began
        for name, pid in self.pids().items():
            try:
                self.series.setdefault(name, []).append((now, rss_mb(pid)))
            except (OSError, LookupError):  # restarting or gone: the next sample tells
                continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> RssSampler:
        self._began = time.monotonic()
        self.sample()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)
            self._thread = None
        self.sample()

    def tail_slope(self, name: str, share: float = 2 / 3) -> float:
        """MiB per hour over the last ``share`` of the run (the warm-up left out)."""
        points = self.series.get(name, [])
        return slope_mb_per_hour(points[int(len(points) * (1 - share)):])
