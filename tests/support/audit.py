"""What the audit-chain tests ask of the chain: the heads it has reached and the verdict of
``feedback audit verify``, through the real command and the real database."""

from __future__ import annotations

import psycopg
import pytest

from feedback_cli.audit_commands import audit_main
from feedback_core.settings import Settings
from feedback_core.store import Database


def chain_heads(database: Database) -> dict[str, int]:
    """How many events the chain holds per application (``audit.chain_head``)."""
    with psycopg.connect(database.conninfo) as conn:
        return dict(conn.execute("SELECT application, events FROM audit.chain_head").fetchall())


def verify(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``feedback audit verify --quiet``: its exit code and what it printed."""
    capsys.readouterr()
    code = audit_main(["audit", "verify", "--quiet"], settings)
    return code, capsys.readouterr().out
