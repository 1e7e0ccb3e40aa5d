"""Real PostgreSQL and Apache Kafka for integration tests, started through infra/.

No skipping: when a server cannot be started the fixture fails with infra's message.
"""

from __future__ import annotations

import uuid

from feedback_core.store import Database
from infra import kafka, postgres


def fresh_database() -> Database:
    """A new, empty database on the test server (one per test keeps tests independent)."""
    postgres.ensure_running()
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    params = postgres.connection_info(name)
    return Database(
        host=params["host"], port=params["port"], user=params["user"],
        password=params["password"], dbname=name,
    )


def drop_database(db: Database) -> None:
    """Drop a test database (its connections are ended first)."""
    import psycopg
    from psycopg import sql

    params = postgres.connection_info("postgres")
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.dbname))
        )


def kafka_bootstrap() -> str:
    return kafka.ensure_running()


def fresh_topics(bootstrap: str, partitions: int = 3) -> tuple[str, str]:
    """A new intake topic and its dead-letter topic, created explicitly."""
    name = f"test.intake.{uuid.uuid4().hex[:10]}"
    kafka.create_topics(bootstrap, {name: partitions, f"{name}.dlq": 1})
    return name, f"{name}.dlq"
