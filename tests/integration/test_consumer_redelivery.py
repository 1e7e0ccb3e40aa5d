"""A consumer killed after the event store committed but before Kafka got the offset
commit re-reads the batch on restart; the core must not open a second case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_core.identity import case_id_for
from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import group_lag, publish_to_topic, wait_until
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def consumer_process(
    database: Database, bootstrap: str, topics: tuple[str, str], crash: bool
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FEEDBACK_INTAKE_TOPIC": topics[0],
        "FEEDBACK_DLQ_TOPIC": topics[1],
        "FEEDBACK_CONSUMER_GROUP": f"core-{topics[0]}",
        "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FEEDBACK_CRASH_AFTER_STORE": "1" if crash else "0",
    }
    command = [sys.executable, "-m", "feedback_cli.main", "consume"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def test_killed_consumer_does_not_duplicate_cases(
    database: Database, bootstrap: str, topics: tuple[str, str]
) -> None:
    subs = [submission() for _ in range(5)]
    publish_to_topic(bootstrap, topics[0], subs)
    group = f"core-{topics[0]}"

    crashing = consumer_process(database, bootstrap, topics, crash=True)
    assert crashing.wait(timeout=120) == 17, "the consumer should die right after storing"

    app = open_cases_application(database)
    try:
        stored = app.recorder.max_notification_id()
        assert stored is not None and stored >= 2  # at least one rating and its case
        assert group_lag(bootstrap, group, topics[0]) == 5, "no offset may have been committed"

        restarted = consumer_process(database, bootstrap, topics, crash=False)
        try:
            wait_until(lambda: group_lag(bootstrap, group, topics[0]) == 0, 120, "the re-delivery")
        finally:
            restarted.terminate()
            restarted.wait(timeout=30)

        assert app.recorder.max_notification_id() == 10  # 5 ratings + 5 cases, nothing twice
        for sub in subs:
            assert app.repository.get(case_id_for(sub.submission_id)).version == 1
    finally:
        app.close()
