"""The data keys in PostgreSQL: table ``personal_data_keys``, apart from the event tables.

A row per subject: its key wrapped by the master key, or NULL and ``erased_at`` once erased.
A connection per call: keys are read when a page shows a contact or a notice is sent, and
written once per intake batch; nothing is cached, so an erasure takes effect at once in
every process.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

import psycopg

from feedback_core.privacy.vault import KEY_BYTES, PersonalDataVault

TABLE_LOCK = 0x7064_6B73  # advisory lock while the table is created ("pdks")

_DDL = """
CREATE TABLE IF NOT EXISTS personal_data_keys (
    subject_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz
)
"""


class PostgresKeyStore:
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (TABLE_LOCK,))
            try:
                conn.execute(_DDL)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (TABLE_LOCK,))

    def add_missing(self, wrapped: dict[UUID, bytes]) -> None:
        with psycopg.connect(self.conninfo) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO personal_data_keys (subject_id, wrapped_key) VALUES (%s, %s) "
                "ON CONFLICT (subject_id) DO NOTHING",
                list(wrapped.items()),
            )

    def wrapped_keys(self, subjects: Iterable[UUID]) -> dict[UUID, bytes | None]:
        wanted = list(subjects)
        if not wanted:
            return {}
        with psycopg.connect(self.conninfo) as conn:
            rows = conn.execute(
                "SELECT subject_id, wrapped_key FROM personal_data_keys WHERE subject_id = ANY(%s)",
                (wanted,),
            ).fetchall()
        return {row[0]: (bytes(row[1]) if row[1] is not None else None) for row in rows}

    def erase(self, subject: UUID) -> bool:
        with psycopg.connect(self.conninfo) as conn:
            row = conn.execute(
                "SELECT wrapped_key FROM personal_data_keys WHERE subject_id = %s FOR UPDATE",
                (subject,),
            ).fetchone()
            conn.execute(
                "INSERT INTO personal_data_keys (subject_id, wrapped_key, erased_at) "
                "VALUES (%s, NULL, now()) ON CONFLICT (subject_id) DO UPDATE "
                "SET wrapped_key = NULL, erased_at = coalesce(personal_data_keys.erased_at, now())",
                (subject,),
            )
        return row is not None and row[0] is not None


def master_key_from(configured: str, local_dir: Path) -> bytes:
    """FEEDBACK_PERSONAL_DATA_KEY (base64 of 32 bytes), or a key generated once under the
    local folder (demo runs; a real deployment configures it and keeps it apart)."""
    if configured:
        key = base64.b64decode(configured)
        if len(key) != KEY_BYTES:
            raise ValueError("FEEDBACK_PERSONAL_DATA_KEY must be base64 of 32 bytes")
        return key
    path = local_dir / "personal_data_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode())
        path.chmod(0o600)
    return base64.b64decode(path.read_text().strip())


def open_vault(conninfo: str, master_key: bytes) -> PersonalDataVault:
    return PersonalDataVault(PostgresKeyStore(conninfo), master_key)
