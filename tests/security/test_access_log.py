"""The web's access log is off by default: uvicorn's lines would carry citizens' IP
addresses and request paths, and a tracking page's path holds the citizen's tracking code."""

from __future__ import annotations

from feedback_cli.services import uvicorn_options
from feedback_core.settings import Settings


def test_the_access_log_is_off_unless_asked_for() -> None:
    assert uvicorn_options(Settings())["access_log"] is False
    assert uvicorn_options(Settings(access_log=True))["access_log"] is True

