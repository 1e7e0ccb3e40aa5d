"""``feedback outbound`` and ``feedback notify`` as the processes ``feedback up`` starts:
case notices from the event store reach a real SMTP server; SIGTERM stops both cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_core.store import Database, open_cases_application
from tests.integration.helpers import group_lag, wait_until
from tests.integration.test_notifier_channels import smtp_server
from tests.integration.test_outbound import case_events_topic, tell_the_story

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://phananh.example.vn"


def feedback(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "feedback_cli.main", command], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_the_outbound_and_notify_commands(database: Database, bootstrap: str) -> None:
    topic = case_events_topic(bootstrap)
    app = open_cases_application(database)
    try:
        story = tell_the_story(app)
    finally:
        app.close()
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FEEDBACK_CASE_EVENTS_TOPIC": topic,
        "FEEDBACK_NOTIFIER_GROUP": f"notifier-{topic}",
        "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FEEDBACK_SECRET_KEY": "integration-test-secret",
        "FEEDBACK_BASE_URL": BASE,
        "FEEDBACK_NOTIFY_BACKOFF_S": "0.1",
    }
    refused = subprocess.run(
        [sys.executable, "-m", "feedback_cli.main", "notify"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "FEEDBACK_SMTP_HOST" in refused.stderr

    with smtp_server() as (mail, port):
        env.update(FEEDBACK_SMTP_HOST="127.0.0.1", FEEDBACK_SMTP_PORT=str(port),
                   FEEDBACK_SMTP_STARTTLS="0", FEEDBACK_SMTP_FROM="Phản ánh <no-reply@test.vn>")
        processes = [feedback("outbound", env), feedback("notify", env)]
        try:
            expected = story.expected_mail()
            wait_until(lambda: mail.count() == len(expected), 120, "the e-mails")
            wait_until(lambda: group_lag(bootstrap, f"notifier-{topic}", topic) == 0, 60,
                       "the notifier's offsets")
        finally:
            for process in processes:
                process.terminate()
            outputs = [p.communicate(timeout=30)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sorted(m.envelope_to[0] for m in mail.received) == sorted(
        to for to, _, _ in expected
    )
    assert all(m.message["From"] == "Phản ánh <no-reply@test.vn>" for m in mail.received)
    assert all(f"{BASE}/t/" in m.body for m in mail.received)
