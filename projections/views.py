"""DDL of the view tables. Everything lives in one schema, tracking position included,
so a rebuild can write a fresh schema and swap it in whole."""

from __future__ import annotations

from psycopg import Connection, sql

TABLES = ("case_queue", "submission_status", "projection_position")

_DDL = (
    """CREATE TABLE IF NOT EXISTS {schema}.case_queue (
        case_id uuid PRIMARY KEY,
        tracking_code text NOT NULL,
        unit_id text NOT NULL,
        office_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        category text NOT NULL,
        summary text NOT NULL,
        status text NOT NULL,
        rating int,
        received_at timestamptz NOT NULL,
        due_on date NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS case_queue_by_unit_due
        ON {schema}.case_queue (unit_id, due_on, received_at)""",
    """CREATE TABLE IF NOT EXISTS {schema}.submission_status (
        tracking_code text PRIMARY KEY,
        submission_id uuid NOT NULL UNIQUE,
        case_id uuid,
        unit_id text NOT NULL,
        office_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        rating int,
        category text,
        status text NOT NULL,
        received_at timestamptz NOT NULL,
        due_on date)""",
    """CREATE TABLE IF NOT EXISTS {schema}.projection_position (
        projection text PRIMARY KEY,
        notification_id bigint NOT NULL)""",
)


def create_views(conn: Connection, schema: str) -> None:
    """Create the schema and its tables if missing (idempotent)."""
    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        for statement in _DDL:
            conn.execute(sql.SQL(statement).format(schema=name))  # type: ignore[arg-type]
