"""Staff accounts on the in-memory store: roles and units over time, passwords, 2FA."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feedback_core.org import AlreadyExists, InvalidChange, OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.org.passwords import hash_password, verify_password
from feedback_core.org.totp import decode_secret, new_totp_secret, totp
from tests.unit.test_org_units import ADMIN, REFORM, START, new_ward, small_tree


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password("demo-2026")


@pytest.fixture
def app(password_hash: str) -> OrganisationApplication:
    app = small_tree(password_hash)
    app.register_staff("canbo.nhattan", display_name="Nguyễn Thị Lan", role="handler",
                       unit_id="nhat-tan", password_hash=password_hash, effective_on=START,
                       actor=ADMIN)
    return app


def test_a_registered_account_is_in_the_directory(app: OrganisationApplication) -> None:
    account = directory_as_of(app, START).staff["canbo.nhattan"]
    assert (account.role, account.unit_id, account.active) == ("handler", "nhat-tan", True)
    assert account.totp_secret is None
    assert verify_password(account.password_hash, "demo-2026")
    assert "canbo.nhattan" not in directory_as_of(app, date(2023, 12, 31)).staff


def test_role_and_unit_on_past_dates(app: OrganisationApplication) -> None:
    new_ward(app)
    promoted = date(2025, 3, 1)
    app.change_role("canbo.nhattan", role="head", effective_on=promoted, actor=ADMIN,
                    reason="Quyết định 7")
    app.move_staff("canbo.nhattan", unit_id="tay-ho-moi", effective_on=REFORM, actor=ADMIN,
                   reason="sáp nhập")
    on = {d: directory_as_of(app, d).staff["canbo.nhattan"]
          for d in (date(2025, 2, 28), promoted, REFORM)}
    assert (on[date(2025, 2, 28)].role, on[date(2025, 2, 28)].unit_id) == ("handler", "nhat-tan")
    assert (on[promoted].role, on[promoted].unit_id) == ("head", "nhat-tan")
    assert (on[REFORM].role, on[REFORM].unit_id) == ("head", "tay-ho-moi")


def test_a_deactivated_account_leaves_the_directory(app: OrganisationApplication) -> None:
    gone = date(2025, 1, 15)
    app.deactivate_staff("canbo.nhattan", effective_on=gone, actor=ADMIN, reason="nghỉ việc")
    assert "canbo.nhattan" in directory_as_of(app, date(2025, 1, 14)).staff
    assert "canbo.nhattan" not in directory_as_of(app, gone).staff  # so it cannot sign in
    retired = directory_as_of(app, gone, include_retired=True).staff["canbo.nhattan"]
    assert retired.active is False
    with pytest.raises(InvalidChange, match="not an active staff member"):
        app.change_role("canbo.nhattan", role="head", effective_on=gone, actor=ADMIN, reason="x")
    with pytest.raises(InvalidChange, match="already deactivated"):
        app.deactivate_staff("canbo.nhattan", effective_on=gone, actor=ADMIN, reason="again")
    app.reactivate_staff("canbo.nhattan", effective_on=date(2025, 2, 1), actor=ADMIN,
                         reason="quay lại")
    assert directory_as_of(app, date(2025, 2, 1)).staff["canbo.nhattan"].active


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "citizen"}, "unknown role"),
        ({"unit_id": "nhat-tan-mc"}, "not to the office"),
        ({"unit_id": "nowhere"}, "no unit"),
        ({"password_hash": "demo-2026"}, "only as an argon2 hash"),
        ({"display_name": " "}, "display name"),
        ({"username": "Cán Bộ"}, "staff id"),
        ({"effective_on": date(2023, 1, 1)}, "exists only from"),
    ],
)
def test_invalid_registrations_are_refused(
    app: OrganisationApplication, password_hash: str, change: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "username": "canbo.moi", "display_name": "Cán bộ mới", "role": "handler",
        "unit_id": "quang-an", "password_hash": password_hash, "effective_on": START,
        "actor": ADMIN, **change,
    }
    with pytest.raises(LookupError if message == "no unit" else InvalidChange, match=message):
        app.register_staff(**fields)  # type: ignore[arg-type]


def test_a_username_is_never_reused(app: OrganisationApplication, password_hash: str) -> None:
    with pytest.raises(AlreadyExists):
        app.register_staff("canbo.nhattan", display_name="Someone else", role="handler",
                           unit_id="quang-an", password_hash=password_hash, effective_on=REFORM,
                           actor=ADMIN)


def test_set_password(app: OrganisationApplication) -> None:
    app.set_password("canbo.nhattan", password_hash=hash_password("mật-khẩu-mới"), actor=ADMIN)
    account = directory_as_of(app, START).staff["canbo.nhattan"]
    assert verify_password(account.password_hash, "mật-khẩu-mới")
    assert not verify_password(account.password_hash, "demo-2026")
    with pytest.raises(InvalidChange, match="at least"):
        hash_password("short")


def test_totp_is_enabled_only_with_a_matching_code(app: OrganisationApplication) -> None:
    secret = new_totp_secret()
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    code = totp(decode_secret(secret), now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidChange, match="does not match"):
        app.enable_totp("canbo.nhattan", secret=secret, code=wrong, actor="canbo.nhattan", at=now)
    app.enable_totp("canbo.nhattan", secret=secret, code=code, actor="canbo.nhattan", at=now)
    assert directory_as_of(app, START).staff["canbo.nhattan"].totp_secret == secret
    assert secret not in repr(directory_as_of(app, START).staff["canbo.nhattan"])
    with pytest.raises(InvalidChange, match="already has a second factor"):
        app.enable_totp("canbo.nhattan", secret=secret, code=code, actor=ADMIN, at=now)
    app.disable_totp("canbo.nhattan", actor=ADMIN, reason="lost phone")
    assert directory_as_of(app, START).staff["canbo.nhattan"].totp_secret is None
