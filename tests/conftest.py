from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feedback_core.store import Database
from tests.support.services import drop_database, fresh_database, fresh_topics, kafka_bootstrap

if TYPE_CHECKING:
    from tests.support.platform import LivePlatform
    from tests.support.zalo_oa import ZaloApi


@pytest.fixture
def database() -> Iterator[Database]:
    db = fresh_database()
    yield db
    drop_database(db)


@pytest.fixture(scope="session")
def bootstrap() -> str:
    return kafka_bootstrap()


@pytest.fixture
def topics(bootstrap: str) -> tuple[str, str]:
    return fresh_topics(bootstrap)


@pytest.fixture
def platform(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path
) -> Iterator[LivePlatform]:
    from tests.support.platform import LivePlatform, test_settings

    settings = test_settings(database, bootstrap, *topics, tmp_path)
    live = LivePlatform(settings).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def zalo_api() -> Iterator[ZaloApi]:
    """A local stand-in for Zalo's OA API (token refresh and send), on 127.0.0.1."""
    from tests.support.zalo_oa import zalo_api_server

    with zalo_api_server() as api:
        yield api
