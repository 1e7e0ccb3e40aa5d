"""The erasure records (application ``privacy``) are chained like every other log: an
erasure record altered or deleted by hand is named by ``feedback audit verify``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from feedback_cli.audit_commands import audit_main
from feedback_cli.main import parser
from feedback_cli.privacy_commands import cmd_erase
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from tests.support.audit import chain_heads, verify
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(database_url=database.url, local_dir=tmp_path)


@pytest.fixture
def app(database: Database, settings: Settings) -> Iterator[CasesApplication]:
    from feedback_core.privacy.postgres import open_vault

    application = open_cases_application(
        database, personal_data=open_vault(database.conninfo, settings.personal_data_master)
    )
    yield application
    application.close()


def erase_two_cases(app: CasesApplication, settings: Settings) -> None:
    """One case erased by its tracking code, the other by its subject (submission) id."""
    for phone, by_subject in (("0912345678", False), ("0987654321", True)):
        sub = submission(contact_phone=phone, wants_updates=True)
        app.record_submissions([sub])
        case: Case = app.repository.get(case_id_for(sub.submission_id))
        which = (
            ["--subject", str(sub.submission_id)] if by_subject else ["--case", case.tracking_code]
        )
        args = parser().parse_args(
            ["privacy", "erase", *which, "--reason", "Đơn số 7/2026",
             "--basis", "NĐ 13/2023 Điều 16", "--actor", "quantri.tayho"]
        )  # fmt: skip
        assert cmd_erase(settings, args) == 0


def test_erasure_records_are_chained_and_verified(
    app: CasesApplication,
    settings: Settings,
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    erase_two_cases(app, settings)
    assert audit_main(["audit", "checkpoint"], settings) == 0
    heads = chain_heads(database)
    assert heads["privacy"] == 2
    code, out = verify(settings, capsys)
    assert code == 0, out
    assert "privacy: 2 events" in out


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        (
            "UPDATE privacy_events SET state = replace(convert_from(state, 'UTF8'), "
            "'Điều 16', 'Điều 17')::bytea WHERE notification_id = 1",
            "altered",
        ),
        ("DELETE FROM privacy_events WHERE notification_id = 1", "deleted"),
    ],
)
def test_a_tampered_erasure_record_is_named(  # noqa: PLR0913
    app: CasesApplication,
    settings: Settings,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    statement: str,
    kind: str,
) -> None:
    erase_two_cases(app, settings)
    assert audit_main(["audit", "checkpoint"], settings) == 0
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]
        if kind == "altered":  # the record now claims another legal basis
            state = conn.execute(
                "SELECT state FROM privacy_events WHERE notification_id = 1"
            ).fetchone()
            assert state is not None and "Điều 17".encode() in bytes(state[0])
    code, out = verify(settings, capsys)
    assert code == 1, out
    assert f"first broken link: privacy #1: {kind}" in out
