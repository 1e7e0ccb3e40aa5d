"""Web test fixtures: the real demo organisation and doubles of our own ports."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from feedback_core.organisation import Organisation, organisation_from_dict
from feedback_core.qr_tokens import sign_counter
from feedback_core.settings import DEMO_ORGANISATION, Settings
from tests.web.web_doubles import NOW, FakeHealth, FakeQueries, RecordingPublisher
from web.app import create_app
from web.services import WebServices


@pytest.fixture(scope="session")
def organisation() -> Organisation:
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        return organisation_from_dict(json.load(f))


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret")


@pytest.fixture
def queries() -> FakeQueries:
    return FakeQueries()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def health() -> FakeHealth:
    return FakeHealth()


@pytest.fixture
def services(
    settings: Settings,
    organisation: Organisation,
    publisher: RecordingPublisher,
    queries: FakeQueries,
    health: FakeHealth,
) -> WebServices:
    return WebServices(
        settings=settings,
        organisation=organisation,
        publisher=publisher,
        queries=queries,
        health=health,
        clock=lambda: NOW,
    )


@pytest.fixture
def client(services: WebServices) -> Iterator[TestClient]:
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> str:
    return sign_counter("nhat-tan-q1", settings.secret)
