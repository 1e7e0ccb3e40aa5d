"""``feedback qr`` on a real PostgreSQL: list the codes (issued once, then the same), issue a
new one, revoke one with a reason; the web's check agrees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedback_cli.main import parser
from feedback_cli.qr_commands import run_qr
from feedback_cli.services import open_qr_codes
from feedback_core.qr_codes import TokenState, keyring_from_config
from feedback_core.settings import Settings
from feedback_core.store import Database

pytestmark = pytest.mark.integration


def run(settings: Settings, *argv: str) -> int:
    return run_qr(settings, parser().parse_args(["qr", *argv]))


def test_list_issue_and_revoke(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database.url, secret_key="cli-secret")
    assert run(settings) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 11
    url, place = listed[0].split("\t")
    assert url.startswith(f"{settings.public_base_url}/q/") and "Quầy" in place
    assert run(settings, "list") == 0
    assert capsys.readouterr().out.splitlines() == listed  # idempotent: nothing new issued

    first = next(line.split("\t")[0] for line in listed if "/q/nhat-tan-q1." in line)
    old = first.rsplit("/", 1)[1]
    assert run(settings, "issue", "nhat-tan-q1", "--actor", "quantri.tayho") == 0
    new = capsys.readouterr().out.strip().rsplit("/", 1)[1]
    assert new != old and new.startswith("nhat-tan-q1.2.")
    assert run(settings, "revoke", old) == 1  # a reason is required
    assert "reason" in capsys.readouterr().err
    assert run(settings, "revoke", old, "--reason", "Áp phích bị dán đè") == 0
    assert run(settings, "issue", "no-such-counter") == 1

    keyring = keyring_from_config(settings.qr_keys, settings.secret)
    codes = open_qr_codes(database)
    try:
        now = datetime.now(UTC)
        assert codes.check(old, keyring, now).state is TokenState.REVOKED
        assert codes.check(new, keyring, now).state is TokenState.VALID
        events = [(r["event"], r["actor"]) for r in codes.history("nhat-tan-q1")]
        assert events == [("Issued", "system"), ("Issued", "quantri.tayho"),
                          ("Revoked", "system")]
    finally:
        codes.close()
