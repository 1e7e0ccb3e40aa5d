"""The first step of scale-out: two consumer processes in one group share the intake
topic's partitions; one is killed (SIGKILL) while submissions keep arriving, the group
rebalances, and every submission is stored exactly once.

Checked three ways: the reconciliation (Kafka topic ↔ event store: nothing missing),
the store (exactly one Rating per submission and one Case per complaint, and no event
beyond them), and the consumers' own logs (both stored batches before the kill, so the
partitions really were shared).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from consumers.reconcile import ReconcileOptions, reconcile
from feedback_core.identity import case_id_for
from feedback_core.intake import IntakeSubmission
from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import group_lag, publish_to_topic, wait_until
from tests.support.services import fresh_topics
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4
SUBMISSIONS = 1_200
CHUNK = 100
BATCH = 40
UNITS = [f"unit-{n:02d}" for n in range(16)]  # keys spread over the 4 partitions
STORED = re.compile(r"intake batch: (\d+) stored, (\d+) duplicates")


class ConsumerProcess:
    """``feedback consume`` as a child process, its log in a file we can read."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedback_cli.main", "consume"],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def batches(self) -> list[tuple[int, int]]:
        """(stored, duplicates) of every batch this process reported."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [(int(a), int(b)) for a, b in STORED.findall(text)]

    def stored(self) -> int:
        return sum(stored for stored, _ in self.batches())

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def intake_topics(bootstrap: str) -> tuple[str, str]:
    return fresh_topics(bootstrap, partitions=PARTITIONS)


@pytest.fixture
def consumers(
    database: Database, bootstrap: str, intake_topics: tuple[str, str], tmp_path: Path
) -> Iterator[dict[str, ConsumerProcess]]:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FEEDBACK_INTAKE_TOPIC": intake_topics[0],
        "FEEDBACK_DLQ_TOPIC": intake_topics[1],
        "FEEDBACK_CONSUMER_GROUP": f"core-{intake_topics[0]}",
        "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FEEDBACK_CONSUMER_BATCH_SIZE": str(BATCH),
        "FEEDBACK_CRASH_AFTER_STORE": "0",
    }
    started: dict[str, ConsumerProcess] = {}
    try:
        for name in ("a", "b"):
            started[name] = ConsumerProcess(name, env, tmp_path)
        yield started
    finally:
        for process in started.values():  # also after a failure: no orphan consumers
            process.stop(signal.SIGKILL)


def stored_events(database: Database) -> int:
    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM cases_events").fetchone()
    return int(row[0]) if row else 0


def workload() -> list[IntakeSubmission]:
    """Every second submission carries a complaint (a Rating plus a Case)."""
    return [
        submission(unit_id=UNITS[n % len(UNITS)], rating=2) if n % 2 == 0
        else submission(unit_id=UNITS[n % len(UNITS)], rating=5, description="", category=None)
        for n in range(SUBMISSIONS)
    ]


def publish_steadily(bootstrap: str, topic: str, subs: list[IntakeSubmission],
                     errors: list[BaseException]) -> None:
    """Publish in chunks with small pauses, so the kill falls in the middle of the flow."""
    try:
        for start in range(0, len(subs), CHUNK):
            publish_to_topic(bootstrap, topic, subs[start:start + CHUNK])
            time.sleep(0.3)
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


def test_two_consumers_share_partitions_and_survive_a_kill(
    database: Database, bootstrap: str, intake_topics: tuple[str, str],
    consumers: dict[str, ConsumerProcess],
) -> None:
    topic, dlq = intake_topics
    group = f"core-{topic}"
    subs = workload()
    a, b = consumers["a"], consumers["b"]
    sent = 0  # a trickle until both consumers have stored a batch: the partitions are shared
    deadline = time.monotonic() + 60
    while not (a.stored() > 0 and b.stored() > 0):
        assert time.monotonic() < deadline and sent < SUBMISSIONS // 2, \
            "both consumers should have stored a batch (the group shares the partitions)"
        publish_to_topic(bootstrap, topic, subs[sent:sent + 20])
        sent += 20
        time.sleep(0.5)
    rest = subs[sent:]

    errors: list[BaseException] = []
    publisher = threading.Thread(
        target=publish_steadily, args=(bootstrap, topic, rest, errors), daemon=True
    )
    publisher.start()
    time.sleep(0.5)
    assert publisher.is_alive(), "the kill must fall while submissions still arrive"
    a.proc.send_signal(signal.SIGKILL)  # mid-way: the group must rebalance onto b
    a.proc.wait(timeout=10)

    publisher.join(timeout=60)
    assert not publisher.is_alive() and not errors, errors
    wait_until(lambda: group_lag(bootstrap, group, topic) == 0, 45,
               "the surviving consumer to take over every partition")

    result = reconcile(ReconcileOptions(bootstrap, database.conninfo, topic, dlq, group))
    assert result.messages == SUBMISSIONS
    assert len([r for r in result.ranges if r.end > r.first]) == PARTITIONS
    assert result.submissions == SUBMISSIONS
    assert result.stored == SUBMISSIONS and not result.missing, "0 lost"
    assert result.stored_without_message == 0 and result.clean

    complaints = sum(1 for s in subs if s.description)
    app = open_cases_application(database)
    try:
        # 0 duplicated: one Rating per submission and one Case per complaint, nothing more
        # (counted, not max(id): a rolled-back duplicate batch leaves gaps in the sequence)
        assert stored_events(database) == SUBMISSIONS + complaints
        for sub in subs[:: 50]:
            if sub.description:
                assert app.repository.get(case_id_for(sub.submission_id)).version == 1
    finally:
        app.close()
    # The processes' own counts: each stored a share. They may miss one batch: a stored it
    # and was killed before logging it; b then got it again and reported duplicates.
    assert a.stored() > 0 and b.stored() > 0
    assert SUBMISSIONS - BATCH <= a.stored() + b.stored() <= SUBMISSIONS

