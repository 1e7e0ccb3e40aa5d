"""The rebuild's decoder (``projections.bulk_decode``) against the library's mapper over
every event the platform stores: the demo district (ratings, cases, every workflow step,
the organisation's events) and the benchmark's workload, read from PostgreSQL as the
rebuild reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from bench.spine import make_workload
from feedback_cli.demo.district import generate_district
from feedback_core.application import CasesApplication
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.loading import load_organisation_file
from feedback_core.settings import DEMO_ORGANISATION
from feedback_core.store import Database, open_application, open_cases_application
from projections.bulk_decode import BulkDecoder
from projections.rebuild import read_rows

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.fixture
def apps(database: Database) -> Iterator[tuple[CasesApplication, OrganisationApplication]]:
    cases = open_cases_application(database)
    org = open_application(database, lambda env: OrganisationApplication(env=env))
    load_organisation_file(org, DEMO_ORGANISATION)
    yield cases, org
    cases.close()
    org.close()


def compare_all(app: Application[Any], conninfo: str) -> set[str]:
    """Decode the whole log both ways; the topics seen."""
    decoder = BulkDecoder(app.mapper)
    assert decoder.plain  # the platform stores plain JSON: the fast path is the one tested
    topics: set[str] = set()
    for _, rows in read_rows(app, conninfo, page_size=1000):
        for originator_id, version, topic, state in rows:
            expected = app.mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
            got = decoder.decode(originator_id, version, topic, state)
            assert type(got) is type(expected), topic
            assert got.__dict__ == expected.__dict__, topic
            assert {k: type(v) for k, v in got.__dict__.items()} == {
                k: type(v) for k, v in expected.__dict__.items()
            }, topic
            topics.add(topic)
    return topics


def test_the_demo_district_and_the_workload_decode_as_the_library_does(
    apps: tuple[CasesApplication, OrganisationApplication], database: Database
) -> None:
    cases, org = apps
    generate_district(cases, org, seed=11, scale="small", now=NOW)
    cases.record_submissions(make_workload(300).submissions)

    topics = compare_all(cases, database.conninfo)
    # Ratings, cases and the workflow: every kind of step the district's desk takes.
    assert "feedback_core.ratings:Rating.Given" in topics
    assert "feedback_core.cases:Case.Received" in topics
    assert len([t for t in topics if t.startswith("feedback_core.cases:Case.")]) >= 8, topics

    org_topics = compare_all(org, database.conninfo)
    assert len(org_topics) >= 3, org_topics
