"""``feedback calendar ...`` and ``feedback due`` on a real PostgreSQL (handlers, stdout)."""

from __future__ import annotations

import argparse

import pytest

from feedback_cli import clock_commands
from feedback_core.settings import Settings
from feedback_core.store import Database

pytestmark = pytest.mark.integration


def run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="feedback")
    clock_commands.add_clock_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.clock_handler(settings, args)
    return code


def test_decreed_days_reach_the_due_date(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database.url)
    assert run(settings, "calendar", "add-day-off", "2026-03-03",
               "--reason", "Nghỉ bù (Công văn 1/BNV)", "--actor", "admin.hanoi") == 0
    assert "decreed 2026-03-03 Tue a day off: Nghỉ bù (Công văn 1/BNV)" in capsys.readouterr().out
    assert run(settings, "calendar", "add-working-day", "2026-02-28",
               "--reason", "Làm bù cho ngày 3/3", "--actor", "admin.hanoi") == 0
    assert run(settings, "calendar", "add-working-day", "2026-02-28",
               "--reason", "Làm bù cho ngày 3/3", "--actor", "admin.hanoi") == 0
    assert "nothing recorded" in capsys.readouterr().out

    assert run(settings, "due", "service_feedback", "2026-02-27") == 0
    out = capsys.readouterr().out
    assert out.startswith("due 2026-03-13 Fri\n")
    assert "  2026-03-03 Nghỉ bù (Công văn 1/BNV)" in out
    assert "  2026-02-28 Saturday" not in out  # a make-up working day counts
    assert "calendar: public holidays of the holidays library and 2 decreed days" in out

    assert run(settings, "calendar", "list", "--year", "2026") == 0
    out = capsys.readouterr().out
    assert "2026-02-17 Tue  day off      Lunar New Year  [holidays library]" in out
    assert "2026-03-03 Tue  day off      Nghỉ bù (Công văn 1/BNV)  [decreed by admin.hanoi" in out
    assert "2026-02-28 Sat  working day  Làm bù cho ngày 3/3" in out
    assert "2026-08-22 Sat  working day  make-up working day  [holidays library]" in out
    assert "2 decrees in force" in out

    assert run(settings, "calendar", "withdraw", "2026-03-03", "--reason", "cancelled") == 0
    assert run(settings, "due", "service_feedback", "2026-02-27") == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("and 1 decreed day")


def test_a_refused_decree_is_an_error(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database.url)
    assert run(settings, "calendar", "withdraw", "2026-03-03", "--reason", "x") == 2
    assert "no decree for 2026-03-03" in capsys.readouterr().err


def test_due_says_so_when_the_database_cannot_be_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/none")
    assert run(settings, "due", "service_feedback", "2026-02-13") == 0
    out = capsys.readouterr().out
    assert out.startswith("due 2026-03-06 Fri\n")
    assert "holidays library only (no decreed days): the decreed days could not be read" in out
