"""Local infrastructure for tests and for running the platform.

Single-node Apache Kafka (KRaft) in :mod:`infra.kafka` and PostgreSQL in :mod:`infra.postgres`,
both kept under the project's ``.local/`` directory (override with ``FEEDBACK_LOCAL_DIR``).
Command line: ``python -m infra --help``.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "InfraError",
    "file_lock",
    "local_dir",
    "pid_alive",
    "port_open",
    "project_root",
    "tail",
    "wait_pid_exit",
]


class InfraError(RuntimeError):
    """A service could not be fetched, started or stopped."""


def project_root() -> Path:
    """The project root: the parent of the ``infra`` package."""
    return Path(__file__).resolve().parent.parent


def local_dir() -> Path:
    """Root of local state: ``$FEEDBACK_LOCAL_DIR`` or ``<project>/.local`` (created)."""
    configured = os.environ.get("FEEDBACK_LOCAL_DIR")
    path = Path(configured).expanduser().resolve() if configured else project_root() / ".local"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (flock) held for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_pid_exit(pid: int, timeout_s: float) -> bool:
    """Wait until ``pid`` is gone; True if it exited within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.2)
    return not pid_alive(pid)


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
