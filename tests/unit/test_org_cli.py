"""``feedback org ...`` against the in-memory store (the store itself is wired in cmd_org)."""

from __future__ import annotations

import argparse
import io
from datetime import date

import pytest

from feedback_cli.org_commands import add_org_parser, run_org_command
from feedback_core.org import OrganisationApplication
from feedback_core.org.directory import directory_as_of, head_of
from feedback_core.org.passwords import verify_password
from feedback_core.settings import DEMO_ORGANISATION
from tests.unit.test_org_units import popo_app


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="feedback")
    add_org_parser(p.add_subparsers(dest="command", required=True))
    return p


def run(app: OrganisationApplication, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run_org_command(app, parser().parse_args(["org", *argv]), out)
    return code, out.getvalue()


@pytest.fixture
def app() -> OrganisationApplication:
    app = popo_app()
    code, out = run(app, "load", str(DEMO_ORGANISATION))
    assert code == 0 and "27 created, 0 already there" in out
    return app


def test_load_is_idempotent_and_list_prints_the_tree(app: OrganisationApplication) -> None:
    assert run(app, "load", str(DEMO_ORGANISATION))[1].strip() == "0 created, 27 already there"
    code, out = run(app, "list", "--as-of", "2025-01-01")
    assert code == 0
    assert "tay-ho  [district] UBND quận Tây Hồ  head: lanhdao.tayho" in out
    assert "    nhat-tan-mc  [office] Bộ phận Một cửa phường Nhật Tân" in out
    assert "  thanhtra.tayho  inspector  tay-ho  Đỗ Minh Tuấn" in out
    assert run(app, "list", "--as-of", "2023-01-01")[1].splitlines()[1:] == ["staff:"]


def test_the_2025_reform_through_the_command_line(app: OrganisationApplication) -> None:
    decision = "Nghị quyết 1656/NQ-UBTVQH15"
    steps = [
        ("create-unit", "tay-ho-moi", "--name-vi", "UBND phường Tây Hồ", "--name-en",
         "Tây Hồ Ward", "--level", "ward", "--on", "2025-07-01", "--actor", "quantri.tayho"),
        ("merge-unit", "nhat-tan", "tay-ho-moi", "--on", "2025-07-01", "--reason", decision),
        ("merge-unit", "quang-an", "tay-ho-moi", "--on", "2025-07-01", "--reason", decision),
        ("move-unit", "phu-thuong", "--on", "2025-07-01", "--reason", decision),
        ("move-staff", "lanhdao.tayho", "tay-ho-moi", "--on", "2025-07-01", "--reason", decision),
        ("appoint-head", "tay-ho-moi", "lanhdao.tayho", "--on", "2025-07-01"),
        ("close-unit", "tay-ho", "--on", "2025-07-01", "--reason", decision),
        ("rename-unit", "phu-thuong", "--name-vi", "UBND phường Phú Thượng (mới)", "--name-en",
         "Phú Thượng Ward", "--on", "2025-07-01"),
    ]
    for step in steps:
        assert run(app, *step)[0] == 0, step
    org = directory_as_of(app, date(2025, 7, 1))
    assert sorted(org.units) == ["phu-thuong", "tay-ho-moi"]
    assert head_of(app, "tay-ho-moi") == "lanhdao.tayho"
    code, out = run(app, "successor", "nhat-tan", "--on", "2025-07-01")
    assert out.strip() == "on 2025-07-01: merged into tay-ho-moi; answers for it: tay-ho-moi"
    code, out = run(app, "history", "nhat-tan")
    assert "2025-07-01  MergedInto" in out and decision in out
    code, out = run(app, "history", "--staff", "lanhdao.tayho")
    assert "MovedToUnit" in out and "$argon2" not in out


def test_a_refused_change_says_why(
    app: OrganisationApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(app, "merge-unit", "nhat-tan", "nhat-tan", "--on", "2025-07-01",
                    "--reason", "x")
    assert code == 2 and out == ""
    assert "refused: unit 'nhat-tan' cannot be merged into itself" in capsys.readouterr().err
    assert run(app, "history", "nowhere")[0] == 2


def test_staff_with_passwords_from_stdin(
    app: OrganisationApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("mật-khẩu-dài\n"))
    code, _ = run(app, "add-staff", "canbo.moi", "--name", "Cán bộ Mới", "--role", "handler",
                  "--unit", "quang-an", "--on", "2025-01-01", "--password-stdin")
    assert code == 0
    account = directory_as_of(app, date(2025, 1, 1)).staff["canbo.moi"]
    assert verify_password(account.password_hash, "mật-khẩu-dài")
    monkeypatch.setattr("sys.stdin", io.StringIO("một-mật-khẩu-khác\n"))
    assert run(app, "set-password", "canbo.moi", "--password-stdin")[0] == 0
    assert verify_password(app.staff_member("canbo.moi").password_hash, "một-mật-khẩu-khác")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert run(app, "set-password", "canbo.moi", "--password-stdin")[0] == 2
    assert run(app, "set-role", "canbo.moi", "inspector", "--on", "2025-02-01",
               "--reason", "điều động")[0] == 0
    assert run(app, "deactivate-staff", "canbo.moi", "--on", "2025-03-01",
               "--reason", "nghỉ việc")[0] == 0
    assert "canbo.moi" not in run(app, "list", "--as-of", "2025-03-01")[1]
    assert "canbo.moi  inspector  quang-an  Cán bộ Mới (deactivated)" in run(
        app, "list", "--as-of", "2025-03-01", "--all")[1]


def test_counters(app: OrganisationApplication) -> None:
    assert run(app, "add-counter", "quang-an-q4", "--office", "quang-an-mc", "--name-vi",
               "Quầy 4", "--name-en", "Counter 4", "--on", "2025-01-01")[0] == 0
    assert run(app, "close-counter", "quang-an-q4", "--on", "2025-02-01",
               "--reason", "gộp quầy")[0] == 0
    assert "quang-an-q4" in run(app, "list", "--as-of", "2025-01-15")[1]
    assert "quang-an-q4" not in run(app, "list", "--as-of", "2025-02-01")[1]
