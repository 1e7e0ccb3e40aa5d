"""FEEDBACK_ZALO_OAS: parsed, secrets from the environment, every problem named at once;
the intake's contact_zalo and the notices carry the follower."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consumers.notices import Recipient, from_json, to_json, unique_recipients
from feedback_core.intake import Channel, IntakeError
from feedback_core.zalo_config import ZaloConfigError, load_zalo_oas, parse_zalo_oas
from tests.unit.test_intake import submission
from tests.unit.test_notices import sample_notice

ENTRY = {
    "unit_id": "nhat-tan",
    "oa_id": "366272959",
    "app_id": "255392845",
    "secret_key": "env:OA_SECRET",
    "access_token": "env:OA_TOKEN",
}


def test_entries_are_read_with_secrets_from_the_environment(tmp_path: Path) -> None:
    env = {"OA_SECRET": "secret-of-the-oa", "OA_TOKEN": "token-of-the-oa"}
    oas = parse_zalo_oas(json.dumps([ENTRY]), env)
    oa = oas.get("366272959")
    assert oa is not None and (oa.secret_key, oa.access_token) == tuple(env.values())
    assert oa.api_base_url == "https://openapi.zalo.me"
    path = tmp_path / "oas.json"
    path.write_text(json.dumps([ENTRY]))
    assert load_zalo_oas(str(path), env) == oas
    assert not load_zalo_oas("")


def test_every_problem_is_named_with_its_entry_and_field() -> None:
    bad = [ENTRY, {**ENTRY, "api_base_url": "ftp://x", "extra": 1}, {**ENTRY, "oa_id": "a b"}]
    with pytest.raises(ZaloConfigError) as caught:
        parse_zalo_oas(json.dumps(bad), {"OA_SECRET": "secret-of-the-oa"})
    message = str(caught.value)
    for expected in (
        "[0].access_token: environment variable OA_TOKEN is unset",
        "[1].api_base_url",
        "[1].extra",
        "[2].oa_id",
    ):
        assert expected in message
    with pytest.raises(ZaloConfigError, match="not JSON"):
        parse_zalo_oas("[{", {})
    with pytest.raises(ZaloConfigError, match="no file"):
        load_zalo_oas("/no/such/file.json")


def test_the_intake_takes_a_follower_as_the_contact() -> None:
    zalo = {"channel": Channel.ZALO, "rating": None, "description": "Chậm trả kết quả."}
    sub = submission(**zalo, contact_zalo="366272959:614249482", wants_updates=True)
    assert sub.contact_zalo == "366272959:614249482"
    with pytest.raises(IntakeError) as caught:
        submission(**zalo, contact_zalo="614249482", wants_updates=True)
    assert caught.value.code == "zalo_invalid"


def test_notices_carry_the_follower_and_keep_the_earlier_form_without_one() -> None:
    follower = Recipient(zalo="366272959:614249482")
    assert unique_recipients([("", "", "366272959:614249482"), ("", "0912345678"),
                              ("", "", "366272959:614249482")]) == (
        follower, Recipient(phone="0912345678"))  # fmt: skip
    notice = sample_notice(recipients=(follower, Recipient(email="a@example.vn")))
    data = json.loads(to_json(notice))
    assert data["recipients"] == [
        {"email": "", "phone": "", "zalo": "366272959:614249482"},
        {"email": "a@example.vn", "phone": ""},
    ]
    assert from_json(to_json(notice)) == notice


def test_tokens_that_renew_themselves_need_the_app_secret_and_a_refresh_token() -> None:
    renewing = {k: v for k, v in ENTRY.items() if k != "access_token"}
    renewing |= {"app_secret": "env:APP_SECRET", "refresh_token": "env:OA_REFRESH"}
    env = {"OA_SECRET": "secret-of-the-oa", "APP_SECRET": "app-secret", "OA_REFRESH": "rt-0"}
    oa = parse_zalo_oas(json.dumps([renewing]), env).get("366272959")
    assert oa is not None and oa.refreshes
    assert (oa.app_secret, oa.refresh_token) == ("app-secret", "rt-0")
    assert oa.oauth_base_url == "https://oauth.zaloapp.com" and not oa.access_token
    no_secret = {**renewing, "app_secret": ""}
    neither = {k: v for k, v in renewing.items() if k not in ("app_secret", "refresh_token")}
    with pytest.raises(ZaloConfigError) as caught:
        parse_zalo_oas(json.dumps([no_secret, neither]), env)
    assert "[0].entry: Value error, refresh_token needs app_secret" in str(caught.value)
    assert "[1].entry: Value error, give refresh_token and app_secret" in str(caught.value)
