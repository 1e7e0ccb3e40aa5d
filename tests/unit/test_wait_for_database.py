"""A long-running process started during a PostgreSQL restart waits instead of exiting."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import psycopg
import pytest

from feedback_core import store
from feedback_core.backoff import Backoff
from feedback_core.store import Database, wait_for_database

DB = Database(host="127.0.0.1", port=1, user="u", password="p", dbname="d")


def test_waits_through_refused_connections_then_returns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[str] = []

    @contextlib.contextmanager
    def flaky_connect(conninfo: str, **_: object) -> Iterator[None]:
        attempts.append(conninfo)
        if len(attempts) < 3:
            raise psycopg.OperationalError("connection refused")
        yield None

    monkeypatch.setattr(store.psycopg, "connect", flaky_connect)
    monkeypatch.setattr(store.time, "sleep", lambda _s: None)
    with caplog.at_level(logging.WARNING, logger="feedback_core.store"):
        wait_for_database(DB, Backoff(initial_s=0.01, maximum_s=0.02))
    assert len(attempts) == 3
    assert [r.getMessage() for r in caplog.records][0].startswith("PostgreSQL at 127.0.0.1:1")
    assert "answered after" in caplog.records[-1].getMessage()


def test_other_errors_are_not_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conninfo: str, **_: object) -> None:
        raise ValueError("not an outage")

    monkeypatch.setattr(store.psycopg, "connect", broken)
    with pytest.raises(ValueError):
        wait_for_database(DB)
