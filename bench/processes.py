"""The platform as separate processes on the running infra, for load benchmarks.

A fresh database and fresh topics (dropped afterwards), then ``feedback web``,
``feedback consume`` and ``feedback project`` as child processes with their logs in a
temporary folder: the same processes ``make up`` starts, so their memory is measurable.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.spine import Resources
from feedback_core.store import Database
from infra import kafka, postgres

ROOT = Path(__file__).resolve().parents[1]
QR_LINK = re.compile(r'href="/q/([^"?#]+)"')
SERVICES = ("web", "consume", "project")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PlatformProcesses:
    """Web, consumer and projection runner as processes on a fresh database and topics."""

    resources: Resources
    database: Database
    topic: str
    dlq_topic: str
    group: str
    logs: Path
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FEEDBACK_DATABASE_URL": self.database.url,
            "KAFKA_BOOTSTRAP_SERVERS": self.resources.bootstrap,
            "FEEDBACK_INTAKE_TOPIC": self.topic,
            "FEEDBACK_DLQ_TOPIC": self.dlq_topic,
            "FEEDBACK_CONSUMER_GROUP": self.group,
            "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "FEEDBACK_HOST": "127.0.0.1",
            "PORT": str(self.port),
            "FEEDBACK_SECRET_KEY": "bench-secret-key",
            # one load generator stands for many citizens: the per-IP limit would refuse it
            "FEEDBACK_QR_POSTS_PER_CLIENT_PER_MINUTE": "0",
            "FEEDBACK_QR_POSTS_PER_TOKEN_PER_MINUTE": "0",
        }

    def spawn(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "feedback_cli.main", name],
                env=self.env(), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    tail = (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"feedback {name} exited ({proc.returncode}):\n{tail}")
            try:
                if httpx.get(f"{self.base_url}/", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the web app did not answer / within {timeout_s} s")

    def counter_tokens(self) -> list[str]:
        page = httpx.get(f"{self.base_url}/", timeout=30)
        page.raise_for_status()
        tokens = sorted(set(QR_LINK.findall(page.text)))
        if not tokens:
            raise RuntimeError("the home page lists no QR code")
        return tokens

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.procs.clear()


@contextlib.contextmanager
def platform_processes(
    services: tuple[str, ...] = SERVICES, partitions: int = 6
) -> Iterator[PlatformProcesses]:
    """Start ``services`` on fresh resources; stop them and drop everything afterwards."""
    with contextlib.redirect_stdout(io.StringIO()):
        bootstrap = kafka.ensure_running()
        postgres.ensure_running()
    resources = Resources(bootstrap)
    # SIGTERM (timeout, a supervisor) unwinds like Ctrl-C: the children stop, the
    # database and topics are dropped.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        stack: PlatformProcesses | None = None
        try:
            topic = resources.topic("intake", partitions)
            dlq = resources.topic("dlq", 1)
            stack = PlatformProcesses(resources, resources.database("stack"), topic, dlq,
                                      resources.group("core"), Path(tmp))
            for name in services:
                stack.spawn(name)
            if "web" in services:
                stack.wait_ready()
            yield stack
        finally:
            if stack is not None:
                stack.stop()
            resources.close()
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
