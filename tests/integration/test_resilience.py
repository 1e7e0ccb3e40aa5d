"""The processes survive restarts of PostgreSQL and Kafka by themselves.

Each test runs on servers of its own (``bench.faults.FaultStack``: PostgreSQL and Kafka from
``infra/`` on free ports, data in a temporary folder), because restarting the shared servers
would break the other tests. Nothing here restarts a process: each must stay alive.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from bench.faults import FaultPlan, FaultStack, counter_tokens
from feedback_core.application import CasesApplication
from feedback_core.intake import IntakeSubmission
from feedback_core.privacy.postgres import master_key_from, open_vault
from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import publish_to_topic
from tests.unit.test_intake import submission
from web.qr_cache import MAX_AGE_SECONDS as QR_CACHE_SECONDS

pytestmark = pytest.mark.integration

TOPIC = "feedback.intake.v1"


class WebWithoutKafka(FaultStack):
    """The web handing submissions to the store in-process: only PostgreSQL matters."""

    def service_env(self) -> dict[str, str]:
        env = super().service_env()
        env.pop("KAFKA_BOOTSTRAP_SERVERS")
        return env


@contextlib.contextmanager
def own_stack(kind: type[FaultStack] = FaultStack) -> Iterator[FaultStack]:
    """A folder of its own outside pytest's tmp_path: pytest removes old base folders, and
    other test sessions on the machine would delete a live server's data from under it."""
    folder = Path(tempfile.mkdtemp(prefix="feedback-resilience-"))
    stack = kind(folder, FaultPlan())
    try:
        yield stack
    finally:
        stack.close()  # every process and both servers, also after a failure
        shutil.rmtree(folder, ignore_errors=True)


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, stack: FaultStack) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    logs = {p.name: p.read_text(errors="replace")[-3000:] for p in stack.logs.glob("*.log")}
    raise AssertionError(f"{what}: not within {timeout_s} s; logs: {logs}")


def restart_postgres(stack: FaultStack, down_s: float = 1.0) -> None:
    stack.infra("postgres", "stop")
    time.sleep(down_s)
    stack.infra("postgres", "start")


def cases_app(stack: FaultStack) -> CasesApplication:
    """The cases application in this process, sealing with the processes' key."""
    db = Database.from_url(stack.database_url)
    vault = open_vault(db.conninfo, master_key_from("", stack.workdir))
    return open_cases_application(db, personal_data=vault)


def scalar(stack: FaultStack, query: str) -> int:
    with psycopg.connect(stack.database_url, connect_timeout=3) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def complaints(count: int) -> list[IntakeSubmission]:
    return [submission() for _ in range(count)]


def alive(stack: FaultStack, name: str) -> bool:
    return stack.procs[name].poll() is None


def test_projection_runner_keeps_running_across_a_postgres_restart() -> None:
    with own_stack() as stack:
        stack.infra("postgres", "start")
        app = cases_app(stack)  # creates the tables before the runner starts
        try:
            app.record_submissions(complaints(20))
        finally:
            app.close()
        stack.spawn("project")
        queued = "SELECT count(*) FROM views.case_queue"
        wait_for(lambda: scalar(stack, queued) == 20, 30, "the first 20 cases in the queue", stack)

        restart_postgres(stack)
        app = cases_app(stack)
        try:
            app.record_submissions(complaints(30))
        finally:
            app.close()
        wait_for(lambda: scalar(stack, queued) == 50, 30, "the cases stored after it", stack)

        assert alive(stack, "project"), "the projection runner exited on the restart"
        assert scalar(stack, "SELECT count(*) FROM views.submission_status") == 50
        received = "SELECT sum(received) FROM views.figures_daily"
        wait_for(lambda: scalar(stack, received) == 50, 15, "the figures of all 50", stack)
        log = (stack.logs / "project.log").read_text()
        assert "PostgreSQL unavailable" in log and "PostgreSQL back after" in log
        assert "Cán bộ yêu cầu" not in log  # no citizen's words in the outage lines


def test_consumer_waits_for_kafka_and_survives_kafka_and_postgres_restarts() -> None:
    with own_stack() as stack:
        stack.infra("postgres", "start")
        stack.spawn("consume")  # Kafka is not up yet
        time.sleep(2)
        assert alive(stack, "consume"), "the consumer exited while Kafka was down"
        stack.infra("kafka", "start")
        ratings = "SELECT count(*) FROM cases_events WHERE originator_version = 1"

        first = complaints(10)  # a rating and a case each
        publish_to_topic(stack.bootstrap, TOPIC, first)
        wait_for(lambda: scalar(stack, ratings) == 20, 30, "the batch sent once Kafka is up", stack)

        stack.infra("kafka", "stop")
        stack.infra("kafka", "start")
        second = complaints(10)
        publish_to_topic(stack.bootstrap, TOPIC, second)
        wait_for(lambda: scalar(stack, ratings) == 40, 30, "the batch after the restart", stack)

        stack.infra("postgres", "stop")
        third = complaints(10)  # delivered while PostgreSQL is down: stored once it is back
        publish_to_topic(stack.bootstrap, TOPIC, third)
        time.sleep(2)
        stack.infra("postgres", "start")
        wait_for(lambda: scalar(stack, ratings) == 60, 30, "the batch during the outage", stack)

        assert alive(stack, "consume"), "the consumer exited"
        ids = [str(s.submission_id) for s in first + second + third]
        assert len(set(ids)) == 30
        assert scalar(stack, "SELECT count(*) FROM cases_events") == 60  # nothing twice
        log = (stack.logs / "consume.log").read_text()
        assert "Kafka at" in log and "unavailable" in log  # it waited, and said so once


def test_web_answers_503_during_a_postgres_outage_and_200_after() -> None:
    with own_stack(WebWithoutKafka) as stack:
        stack.infra("postgres", "start")
        stack.spawn("web")
        stack.web_ready()
        token = counter_tokens(stack.base_url)[0]
        with httpx.Client(base_url=stack.base_url, timeout=20) as client:
            assert client.get(f"/q/{token}").status_code == 200  # the pools are warm

            stack.infra("postgres", "stop")
            # The QR check's cache may answer from memory for up to its bound (web.qr_cache).
            time.sleep(QR_CACHE_SECONDS)
            began = time.monotonic()
            page = client.get(f"/q/{token}")
            waited = time.monotonic() - began  # the library's 10 tries of 1 s: about 12 s
            assert waited < 18, f"the 503 took {waited:.1f} s"
            assert page.status_code == 503, page.text[:500]
            assert "Hệ thống tạm thời gián đoạn" in page.text
            assert page.headers["retry-after"]
            typed = "Chờ hai tiếng mà chưa được tiếp nhận hồ sơ"
            form = {"submission_id": "x", "rating": "2", "description": typed}
            posted = client.post(f"/q/{token}", data=form)
            assert posted.status_code == 503, posted.text[:500]
            assert typed in posted.text  # what was typed is shown back

            stack.infra("postgres", "start")
            wait_for(
                lambda: client.get(f"/q/{token}").status_code == 200,
                20,
                "the QR page after the restart",
                stack,
            )
            assert client.get("/").status_code == 200
        assert alive(stack, "web"), "the web exited"
