"""The fault harness at CI scale: 2,000 submissions through the HTTP intake while the
consumer is SIGKILLed three times and Kafka, PostgreSQL and the web server are restarted,
on a platform of its own (own ports and data folder, every process stopped at the end)."""

from __future__ import annotations

import pytest

from bench.faults import FaultPlan, run_faults

pytestmark = pytest.mark.integration


def test_nothing_lost_nothing_duplicated_under_faults() -> None:
    plan = FaultPlan(submissions=2_000, consumer_kills=3, concurrency=8, deadline_s=600)
    report = run_faults(plan)
    summary = "\n".join(report.lines())
    assert report.faults.consumer_kills == 3, summary
    assert report.faults.kafka_restarts == 1, summary
    assert report.faults.postgres_restarts == 1, summary
    assert report.faults.web_restarts == 1, summary
    # Only the harness stops processes: none exits by itself on a Kafka or PostgreSQL
    # restart (each reconnects), so the supervisor never had to start one again.
    assert report.unexpected_exits == {"web": 0, "consume": 0, "project": 0}, summary
    assert report.answered_codes == 2_000, summary
    assert report.lost == 0, summary
    assert report.duplicated == 0, summary
    assert report.reconciliation["clean"], summary
    assert report.ratings_stored == 2_000 and report.cases_stored == 1_000, summary
    assert report.load.refused_without_text == 0, summary
    assert report.load.code_mismatches == 0, summary
