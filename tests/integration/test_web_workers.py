"""``feedback web --workers 2``: two web processes on one port, built from the environment.

Both workers start (each logs its own server process), a citizen's QR submission POSTed
twice (a retry carries the same submission id) is stored exactly once by the consumer,
and with one worker killed the other still answers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from feedback_core.store import Database
from tests.integration.helpers import wait_until
from tests.support.platform import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKER_STARTED = re.compile(r"Started server process \[(\d+)\]")
QR_LINK = re.compile(r'href="/q/([^"?#]+)"')
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')


class Stack:
    def __init__(self, env: dict[str, str], logs: Path, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for name, argv in (("web", ["web", "--workers", "2"]), ("consume", ["consume"])):
            with (logs / f"{name}.log").open("wb") as out:
                self.procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "feedback_cli.main", *argv],
                    env=env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

    def web_log(self) -> str:
        return (self.logs / "web.log").read_text(encoding="utf-8", errors="replace")

    def workers(self) -> list[int]:
        return sorted({int(pid) for pid in WORKER_STARTED.findall(self.web_log())})

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def stack(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path
) -> Iterator[Stack]:
    port = free_port()
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FEEDBACK_INTAKE_TOPIC": topics[0],
        "FEEDBACK_DLQ_TOPIC": topics[1],
        "FEEDBACK_CONSUMER_GROUP": f"core-{topics[0]}",
        "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FEEDBACK_HOST": "127.0.0.1",
        "PORT": str(port),
        "FEEDBACK_SECRET_KEY": "workers-test-secret",
        "FEEDBACK_LOCAL_DIR": str(tmp_path / "local"),
    }
    running = Stack(env, tmp_path, port)
    try:
        yield running
    finally:
        running.stop()


def stored_ratings(database: Database) -> int:
    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM cases_events WHERE topic LIKE %s", ("%Rating.Given%",)
        ).fetchone()
    return int(row[0]) if row else 0


def test_two_workers_serve_and_a_submission_is_stored_once(
    stack: Stack, database: Database
) -> None:
    wait_until(
        lambda: len(stack.workers()) == 2 and stack.answers(), 180, "two web workers started"
    )
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        token = QR_LINK.findall(client.get("/").text)[0]
        form = client.get(f"/q/{token}")
        assert form.status_code == 200
        sid = SUBMISSION_ID.search(form.text)
        assert sid is not None
        data = {
            "submission_id": sid.group(1),
            "rating": "2",
            "category": "delay",
            "description": "Chờ hai tiếng ở quầy mà chưa được tiếp.",
        }
        first = client.post(f"/q/{token}", data=data)
        again = client.post(f"/q/{token}", data=data)  # the citizen's retry, same id
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]

    wait_until(lambda: stored_ratings(database) >= 1, 120, "the submission stored")
    time.sleep(2)  # a second copy, if any, would be stored by now
    assert stored_ratings(database) == 1

    # One worker gone: the other still answers on the same port.
    os.kill(stack.workers()[0], signal.SIGKILL)
    assert stack.answers()
