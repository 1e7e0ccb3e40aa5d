"""The organisation on real PostgreSQL: the demo file in, the directory back out."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest

from feedback_cli.org_commands import add_org_parser, cmd_org
from feedback_core.org import OrganisationApplication
from feedback_core.org.directory import directory_as_of, head_of, successor_of
from feedback_core.org.loading import load_organisation_file
from feedback_core.org.store import open_organisation_application
from feedback_core.organisation import organisation_from_dict
from feedback_core.settings import DEMO_ORGANISATION, Settings
from feedback_core.store import Database

pytestmark = pytest.mark.integration


@pytest.fixture
def app(database: Database) -> Iterator[OrganisationApplication]:
    application = open_organisation_application(database)
    yield application
    application.close()


def test_demo_file_round_trip_on_postgres(app: OrganisationApplication, database: Database) -> None:
    report = load_organisation_file(app, DEMO_ORGANISATION)
    assert len(report.created) == 27
    position = app.recorder.max_notification_id() or 0
    assert load_organisation_file(app, DEMO_ORGANISATION).created == []
    assert (app.recorder.max_notification_id() or 0) == position

    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        expected = organisation_from_dict(json.load(f))
    reopened = open_organisation_application(database)  # a fresh process reads it back
    try:
        org = directory_as_of(reopened, date(2026, 1, 1))
        assert replace(org, units={k: replace(u, head=None) for k, u in org.units.items()}) == (
            expected
        )
        assert org.units["tay-ho"].head == "lanhdao.tayho"
        assert org.subtree("tay-ho") == ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]

        reopened.create_unit("tay-ho-moi", name_vi="UBND phường Tây Hồ", name_en="Tây Hồ Ward",
                             level="ward", parent_id=None, effective_on=date(2025, 7, 1),
                             actor="quantri.tayho")
        reopened.merge_unit("nhat-tan", into="tay-ho-moi", effective_on=date(2025, 7, 1),
                            actor="quantri.tayho", reason="Nghị quyết 1656/NQ-UBTVQH15")
    finally:
        reopened.close()
    assert successor_of(app, "nhat-tan", date(2025, 7, 1)) == "tay-ho-moi"
    assert head_of(app, "tay-ho", date(2025, 7, 1)) == "lanhdao.tayho"
    assert "nhat-tan-q1" not in directory_as_of(app, date(2025, 7, 1)).counters

    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM organisation_events").fetchone()
    assert row is not None and row[0] == position + 2 + 1 + 3  # unit, merger, office, counters


def test_feedback_org_commands_on_postgres(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database.url, local_dir=tmp_path)
    p = argparse.ArgumentParser(prog="feedback")
    add_org_parser(p.add_subparsers(dest="command", required=True))

    def feedback(*argv: str) -> int:
        return cmd_org(settings, p.parse_args(["org", *argv]))

    assert feedback("load", str(DEMO_ORGANISATION)) == 0
    assert feedback("load", str(DEMO_ORGANISATION)) == 0
    assert feedback("list", "--as-of", "2025-01-01") == 0
    assert feedback("close-unit", "tay-ho", "--on", "2025-07-01", "--reason", "x") == 2
    out, err = capsys.readouterr()
    assert "27 created, 0 already there" in out and "0 created, 27 already there" in out
    assert "tay-ho  [district] UBND quận Tây Hồ  head: lanhdao.tayho" in out
    assert "'nhat-tan' would still be under 'tay-ho'" in err
