"""Keeps ``feedback up``'s processes running: a child that exits without being asked is
started again after a bounded exponential backoff, and each restart is printed with its
count, as systemd's ``Restart=on-failure`` would do."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from feedback_core.backoff import Backoff

Spawn = Callable[[str], "subprocess.Popen[bytes]"]


@dataclass
class Child:
    command: str
    process: subprocess.Popen[bytes]
    started_at: float
    restarts: int = 0
    restart_at: float | None = None  # set while it waits to be started again
    backoff: Backoff = field(default_factory=lambda: Backoff(initial_s=1.0, maximum_s=30.0))


class Supervisor:
    def __init__(
        self,
        commands: Sequence[str],
        spawn: Spawn,
        out: TextIO = sys.stderr,
        stable_after_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.commands = list(commands)
        self.spawn = spawn
        self.out = out
        self.stable_after_s = stable_after_s  # a child up this long starts the backoff afresh
        self.clock = clock
        self.children: list[Child] = []

    def start(self) -> None:
        self.children = [Child(c, self.spawn(c), self.clock()) for c in self.commands]

    @property
    def restarts(self) -> dict[str, int]:
        return {child.command: child.restarts for child in self.children}

    def check(self) -> None:
        """Notice the children that exited and start those whose wait is over."""
        now = self.clock()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.restart_at is None:
                if now - child.started_at >= self.stable_after_s:
                    child.backoff.reset()
                delay = child.backoff.next_delay()
                child.restart_at = now + delay
                print(
                    f"feedback up: {child.command} exited with code {code}; restart "
                    f"#{child.restarts + 1} in {delay:.1f} s",
                    file=self.out,
                    flush=True,
                )
            elif now >= child.restart_at:
                child.process = self.spawn(child.command)
                child.started_at, child.restart_at = now, None
                child.restarts += 1

    def run(self, interval_s: float = 0.5, until: Callable[[], bool] = lambda: False) -> None:
        """Supervise until ``until()`` is true (Ctrl-C raises KeyboardInterrupt out of it)."""
        while not until():
            self.check()
            time.sleep(interval_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM to every running child, SIGKILL to those still running after the wait."""
        running = [c.process for c in self.children if c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
