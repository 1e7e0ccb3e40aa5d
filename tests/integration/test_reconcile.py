"""Reconcile on real Kafka and PostgreSQL: a consumer killed mid-way leaves submissions
published but not stored; reconcile lists exactly those, --redrive re-publishes them, the
consumer stores each once, and reconcile is then clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec

from feedback_cli.audit_commands import audit_main
from feedback_core.identity import case_id_for, rating_id_for
from feedback_core.intake import to_json
from feedback_core.settings import Settings
from feedback_core.store import Database
from tests.integration.helpers import group_lag, publish_to_topic, wait_until
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def consumer_process(
    database: Database, bootstrap: str, topics: tuple[str, str], crash: bool, batch: int = 500
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FEEDBACK_INTAKE_TOPIC": topics[0],
        "FEEDBACK_DLQ_TOPIC": topics[1],
        "FEEDBACK_CONSUMER_GROUP": f"core-{topics[0]}",
        "FEEDBACK_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FEEDBACK_CONSUMER_BATCH_SIZE": str(batch),
        "FEEDBACK_CRASH_AFTER_STORE": "1" if crash else "0",
    }
    command = [sys.executable, "-m", "feedback_cli.main", "consume"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def consume_all(database: Database, bootstrap: str, topics: tuple[str, str]) -> None:
    consumer = consumer_process(database, bootstrap, topics, crash=False)
    try:
        wait_until(lambda: group_lag(bootstrap, f"core-{topics[0]}", topics[0]) == 0, 120,
                   "the consumer to catch up")
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)


def settings_for(database: Database, bootstrap: str, topics: tuple[str, str],
                 tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url, kafka_bootstrap_servers=bootstrap, intake_topic=topics[0],
        dlq_topic=topics[1], consumer_group=f"core-{topics[0]}", local_dir=tmp_path,
    )


def reconcile_json(settings: Settings, capsys: pytest.CaptureFixture[str],
                   *extra: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = audit_main(["reconcile", "--json", *extra], settings)
    return code, json.loads(capsys.readouterr().out)


def stored_ids(database: Database) -> list[Any]:
    with psycopg.connect(database.conninfo) as conn:
        return [r[0] for r in conn.execute(
            "SELECT originator_id FROM cases_events WHERE originator_version = 1")]


def skip_the_group_to_the_end(bootstrap: str, group: str, topic: str) -> None:
    """What a restore from an older backup, or offsets reset by hand, leaves: the group has
    committed past submissions that the store does not hold. Retried until the killed
    consumer's session has expired (the group must be empty)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]

        def reset() -> bool:
            try:
                result = admin.reset_group_offsets(group, {tp: OffsetSpec.LATEST for tp in parts})
            except Exception:
                return False
            return all(r["error"].__name__ == "NoError" for r in result.values())

        wait_until(reset, 60, "the group to be empty and its offsets reset")
    finally:
        admin.close()


def test_reconcile_lists_the_missing_and_redrive_repairs(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    subs = [submission(description="" if i % 4 == 3 else f"Phản ánh {i}") for i in range(24)]
    publish_to_topic(bootstrap, topics[0], subs)
    publish_to_topic(bootstrap, topics[0], subs[:2])  # two citizens pressed "send" twice
    group = f"core-{topics[0]}"

    crashing = consumer_process(database, bootstrap, topics, crash=True, batch=4)
    assert crashing.wait(timeout=120) == 17, "the consumer should die right after storing"
    stored = {s.submission_id for s in subs if rating_id_for(s.submission_id)
              in set(stored_ids(database))}
    assert 0 < len(stored) <= 4, "one batch of at most 4 messages was stored"
    skip_the_group_to_the_end(bootstrap, group, topics[0])

    settings = settings_for(database, bootstrap, topics, tmp_path)
    code, result = reconcile_json(settings, capsys)
    assert code == 1 and not result["clean"]
    missing = {m["submission_id"] for m in result["missing"]}
    assert missing == {str(s.submission_id) for s in subs} - {str(i) for i in stored}
    assert all(m["lost"] and not m["partial"] for m in result["missing"])
    assert result["messages"] == 26 and result["submissions"] == 24
    assert set(result["redelivered"]) == {str(s.submission_id) for s in subs[:2]}
    assert result["stored"] == len(stored)

    capsys.readouterr()
    assert audit_main(["reconcile", "--redrive"], settings) == 1
    out = capsys.readouterr().out
    assert f"{len(missing)} missing (" in out and "lost: the group committed past it" in out
    assert f"re-published {len(missing)} missing submission(s)" in out
    assert "NOT CLEAN" in out

    consume_all(database, bootstrap, topics)

    code, result = reconcile_json(settings, capsys)
    assert code == 0 and result["clean"], result
    assert result["stored"] == 24 and result["missing"] == []
    redriven = {k for k, n in result["redelivered"].items() if n == 2}
    assert missing <= redriven  # published twice now, stored once
    ids = stored_ids(database)
    assert len(ids) == len(set(ids)) == 24 + sum(s.has_complaint for s in subs)
    for sub in subs:
        assert rating_id_for(sub.submission_id) in ids
        assert (case_id_for(sub.submission_id) in ids) == sub.has_complaint
    capsys.readouterr()
    assert audit_main(["reconcile"], settings) == 0
    assert capsys.readouterr().out.rstrip().endswith("clean")


def test_reconcile_cross_checks_the_dead_letters(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = [submission() for _ in range(3)]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for value in (to_json(good[0]), b"{not json", to_json(good[1]), to_json(good[2])):
            producer.send(topics[0], key=b"nhat-tan", value=value)
        producer.flush()
        consume_all(database, bootstrap, topics)
        settings = settings_for(database, bootstrap, topics, tmp_path)
        code, result = reconcile_json(settings, capsys)
        assert code == 0, result
        assert len(result["dead_letters"]) == 1 and result["dead_letters_not_in_dlq"] == []
        assert result["stored"] == 3

        # A poison message no consumer has read yet is not on the dead-letter topic.
        producer.send(topics[0], key=b"nhat-tan", value=b'{"schema_version": 99}')
        producer.flush()
    finally:
        producer.close()
    code, result = reconcile_json(settings, capsys)
    assert code == 1
    (late,) = result["dead_letters_not_in_dlq"]
    assert "malformed intake event" in late["error"]


def test_reconcile_usage_errors(
    database: Database, tmp_path: Path, bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    no_kafka = Settings(database_url=database.url, local_dir=tmp_path)
    assert audit_main(["reconcile"], no_kafka) == 2
    unknown = Settings(database_url=database.url, local_dir=tmp_path,
                       kafka_bootstrap_servers=bootstrap, intake_topic="no.such.topic.here")
    assert audit_main(["reconcile"], unknown) == 2
    assert "does not exist" in capsys.readouterr().err
