"""Connection parameters for PostgreSQL, shared by the event store and the views."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import psycopg
from eventsourcing.application import Application
from psycopg.conninfo import make_conninfo

from feedback_core.application import CasesApplication
from feedback_core.backoff import Backoff
from feedback_core.copy_recorder import APPLICATION_RECORDER_TOPIC as COPY_RECORDER_TOPIC
from feedback_core.database_errors import DATABASE_OUTAGES
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.privacy.postgres import open_vault
from feedback_core.privacy.vault import PersonalDataVault


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlparse(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"FEEDBACK_DATABASE_URL must start with postgresql://, got {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        )

    @property
    def conninfo(self) -> str:
        """A libpq connection string, values quoted (an empty password must not swallow
        the next keyword)."""
        return make_conninfo(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=self.dbname,
        )

    @property
    def url(self) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def eventsourcing_env(
        self, pool_size: int = 5, *, copy_recorder: bool = True
    ) -> dict[str, str]:
        """The library's settings for an application on this database. Every application
        writes through ``CopyApplicationRecorder`` (the library's recorder with binary COPY
        inserts, same tables and guarantees: feedback_core/copy_recorder.py);
        ``copy_recorder=False`` keeps the library's own (the benchmark's raw engine)."""
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_POOL_SIZE": str(pool_size),
            # Survive a PostgreSQL restart: a pooled connection is checked before use (a
            # broken one is replaced). Waiting for a connection gives up after 1 s; the
            # library tries each operation 10 times, so an outage fails a call after about
            # 12 s (a web request then answers 503) and a short restart is waited out.
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": str(EVENT_STORE_CONNECT_TIMEOUT_S),
            "CREATE_TABLE": "y",
        }
        if copy_recorder:
            env["APPLICATION_RECORDER_TOPIC"] = COPY_RECORDER_TOPIC
        return env


CONNECT_TIMEOUT_S = 5  # our own connections and pools (no retry around them)
EVENT_STORE_CONNECT_TIMEOUT_S = 1  # the library's pools (it retries 10 times)


log = logging.getLogger(__name__)


def wait_for_database(db: Database, backoff: Backoff | None = None) -> None:
    """Return once PostgreSQL accepts a connection; until then retry with backoff, so a
    long-running process (consumer, projections) started during a restart of PostgreSQL
    waits for it instead of exiting. A wrong password waits too: the warning names it."""
    backoff = backoff or Backoff(maximum_s=5.0)
    began = time.monotonic()
    while True:
        try:
            with psycopg.connect(db.conninfo, connect_timeout=CONNECT_TIMEOUT_S):
                break
        except DATABASE_OUTAGES as exc:
            if backoff.attempts == 0:
                log.warning("PostgreSQL at %s:%s unavailable (%s); waiting for it",
                            db.host, db.port, type(exc).__name__)
            time.sleep(backoff.next_delay())
    if backoff.attempts:
        log.warning("PostgreSQL answered after %.1f s", time.monotonic() - began)


SCHEMA_LOCK = 0x6665_6462  # pg_advisory_lock key held while the library creates its tables


A = TypeVar("A", bound=Application[Any])


def open_application(db: Database, factory: Callable[[dict[str, str]], A]) -> A:
    """Construct an application on ``db``; processes starting together take turns to create
    the tables (the library's CREATE OR REPLACE FUNCTION fails with 'tuple concurrently
    updated' when two run at once)."""
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            return factory(db.eventsourcing_env())
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def open_cases_application(
    db: Database,
    calendar: Callable[[], BusinessCalendar] = BusinessCalendar,
    personal_data: PersonalDataVault | None = None,
) -> CasesApplication:
    """The cases application on ``db``; citizens' personal fields sealed with keys in the
    same database (``personal_data``, or one with the configured master key)."""
    if personal_data is None:
        from feedback_core.settings import Settings

        personal_data = open_vault(db.conninfo, Settings().personal_data_master)
    vault = personal_data
    return open_application(
        db, lambda env: CasesApplication(env=env, calendar=calendar, personal_data=vault)
    )
