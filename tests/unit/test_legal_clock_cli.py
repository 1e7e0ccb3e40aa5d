"""``feedback due`` and ``feedback rules`` without a database: the handlers, stdout captured."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from feedback_cli import clock_commands
from feedback_core.settings import Settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="feedback")
    clock_commands.add_clock_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(clock_commands, "embedded_server_running", lambda: False)
    return Settings(database_url="")


def run(settings: Settings, *argv: str) -> int:
    args = parse(*argv)
    code: int = args.clock_handler(settings, args)
    return code


def test_due_skips_tet_and_names_the_days_off(
    no_database: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(no_database, "due", "service_feedback", "2026-02-13") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "due 2026-03-06 Fri"
    assert "rule service_feedback: 10 working days, received 2026-02-13 Fri" in lines[1]
    assert "days off skipped: 11" in lines
    for expected in (
        "  2026-02-14 Saturday",
        "  2026-02-16 Lunar New Year's Eve",
        "  2026-02-17 Lunar New Year",
        "  2026-02-20 Fourth Day of Lunar New Year",
        "  2026-03-01 Sunday",
    ):
        assert expected in lines
    assert lines[-1].startswith("calendar: public holidays of the holidays library only")
    assert "FEEDBACK_DATABASE_URL is not set" in lines[-1]


def test_due_with_a_pause_and_an_extension(
    no_database: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("due", "complaint_acceptance", "2026-11-04", "--pause", "2026-11-05:2026-11-06",
            "--extend", "2")
    assert run(no_database, *argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("due 2026-11-17 Tue\n")
    assert "extended by 2 calendar days" in out
    assert "paused 1 calendar day (waiting for the citizen): 2026-11-06" in out


def test_an_open_pause_is_counted_up_to_today(
    no_database: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("due", "service_feedback", "2026-03-02", "--pause", "2026-03-04:",
            "--today", "2026-03-10")
    assert run(no_database, *argv) == 0
    assert capsys.readouterr().out.startswith("due 2026-03-20 Fri\n")


def test_an_unknown_rule_lists_the_known_ones(
    no_database: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(no_database, "due", "parking", "2026-03-02") == 2
    err = capsys.readouterr().err
    assert "no rule 'parking'" in err and "complaint_resolution" in err


def test_bad_dates_and_pauses_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("due", "service_feedback", "2026-13-01"),
                 ("due", "service_feedback", "2026-03-02", "--pause", "2026-03-04")):
        with pytest.raises(SystemExit):
            parse(*argv)
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_rules_lists_unit_and_source(
    no_database: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(no_database, "rules") == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("complaint_acceptance "))
    assert " 10 calendar " in line and "Law on Complaints 2011" in line and "art. 27" in line
    line = next(x for x in out.splitlines() if x.startswith("hotline_infrastructure "))
    assert "  5 working " in line and "Ho Chi Minh City" in line


class SettingsWithRulesFile(Settings):
    """Settings with the field proposed for FEEDBACK_DEADLINE_RULES_FILE."""

    deadline_rules_file: str = ""


def test_rules_read_the_operators_file(
    no_database: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [
        {"code": "service_feedback", "days": 7, "unit": "working", "source": "Quyết định 5/QĐ"},
    ]}), encoding="utf-8")
    monkeypatch.setenv("FEEDBACK_DEADLINE_RULES_FILE", str(path))
    settings = SettingsWithRulesFile(database_url="")
    assert settings.deadline_rules_file == str(path)
    assert run(settings, "due", "service_feedback", "2026-03-02") == 0
    assert capsys.readouterr().out.startswith("due 2026-03-11 Wed\n")
    assert run(settings, "rules") == 0
    assert f"overridden by {path}" in capsys.readouterr().out
