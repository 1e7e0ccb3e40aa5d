"""Zalo OA access tokens that renew themselves, against real PostgreSQL and a local server
speaking the OA API and its OAuth refresh: a send with an expired token renews it and
succeeds; a token near its expiry is renewed before use; two processes renewing at once
spend the single-use refresh token once; the stored pair is sealed; a refused refresh token
is a clear permanent failure."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from consumers.channels import PermanentChannelError, ZaloOaChannel
from consumers.notices import Recipient, render
from consumers.zalo_tokens import PostgresZaloTokens
from feedback_core.store import Database
from feedback_core.zalo_config import ZaloOaEntry, load_zalo_oas
from tests.integration.test_notifier_channels import run_async
from tests.support.zalo_oa import (
    APP_ID,
    APP_SECRET,
    FOLLOWER,
    OA_ID,
    REFRESH_TOKEN,
    ZaloApi,
    oa_config,
    zalo_api_server,
)
from tests.unit.test_notices import BASE, sample_notice

pytestmark = pytest.mark.integration

MASTER_KEY = os.urandom(32)
FOLLOWER_ADDRESS = Recipient(zalo=f"{OA_ID}:{FOLLOWER}")


def refreshing_oa(api: ZaloApi) -> ZaloOaEntry:
    oa = load_zalo_oas(oa_config(api.base_url, refreshing=True)).get(OA_ID)
    assert oa is not None and oa.refreshes and not oa.access_token
    return oa


def spent(api: ZaloApi) -> list[str]:
    return [request["refresh_token"] for request in api.token_requests]


def test_a_send_with_an_expired_token_renews_it_and_succeeds(database: Database) -> None:
    message = render(sample_notice(), BASE)
    with zalo_api_server() as api:
        tokens = PostgresZaloTokens(database.conninfo, MASTER_KEY)
        oas = load_zalo_oas(oa_config(api.base_url, refreshing=True))
        channel = ZaloOaChannel(oas, tokens=tokens)
        run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))  # no pair yet: renewed
        assert spent(api) == [REFRESH_TOKEN]
        assert api.token_requests[0] == {
            "refresh_token": REFRESH_TOKEN, "app_id": APP_ID, "grant_type": "refresh_token"
        }  # fmt: skip
        api.expire_access_tokens()  # a day later: Zalo calls the token invalid (-216)
        run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
        assert spent(api) == [REFRESH_TOKEN, "oa-refresh-1"]
        assert [m["token"] for m in api.received] == ["oa-access-1", "oa-access-2"]
        assert api.requests == 3  # the refused try, then the same message once more

        # Another process starting now reads the stored pair: no refresh token spent.
        later = ZaloOaChannel(oas, tokens=PostgresZaloTokens(database.conninfo, MASTER_KEY))
        run_async(lambda: later.send(FOLLOWER_ADDRESS, message))
        assert len(api.token_requests) == 2 and api.received[-1]["token"] == "oa-access-2"


def test_a_token_about_to_expire_is_renewed_before_it_is_used(database: Database) -> None:
    now = [datetime.now(UTC)]
    with zalo_api_server() as api:
        oa = refreshing_oa(api)
        tokens = PostgresZaloTokens(database.conninfo, MASTER_KEY, clock=lambda: now[0])
        first = run_async(lambda: tokens.current(oa))
        assert run_async(lambda: tokens.current(oa)) == first  # cached, nothing spent
        now[0] += timedelta(seconds=api.access_ttl_s) - tokens.margin + timedelta(seconds=1)
        second = run_async(lambda: tokens.current(oa))
        assert second != first and spent(api) == [REFRESH_TOKEN, "oa-refresh-1"]
        assert api.requests == 0  # renewed ahead, no send refused


def test_two_processes_renewing_at_once_spend_the_refresh_token_once(
    database: Database,
) -> None:
    with zalo_api_server() as api:
        oa = refreshing_oa(api)
        api.token_delay_s = 0.5  # Zalo answering slowly: both would be in flight at once
        stores = [PostgresZaloTokens(database.conninfo, MASTER_KEY) for _ in range(2)]
        start = threading.Barrier(2)
        got: list[str] = []

        def renew(store: PostgresZaloTokens) -> Callable[[], None]:
            def run() -> None:
                start.wait(timeout=10)
                got.append(run_async(lambda: store.renewed(oa, rejected="oa-access-stale")))

            return run

        threads = [threading.Thread(target=renew(s)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert spent(api) == [REFRESH_TOKEN]  # once: the second found the new pair
        assert got == ["oa-access-1", "oa-access-1"]
        assert sum(s.refreshes for s in stores) == 1
        assert api.spent_refresh_tokens == {REFRESH_TOKEN}


def test_the_stored_tokens_are_sealed(database: Database) -> None:
    with zalo_api_server() as api:
        oa = refreshing_oa(api)
        run_async(lambda: PostgresZaloTokens(database.conninfo, MASTER_KEY).current(oa))
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute("SELECT row_to_json(t)::text FROM zalo.oa_tokens t").fetchall()
    [(row,)] = rows
    stored = json.loads(row)
    assert stored["oa_id"] == OA_ID
    assert stored["access_token"].startswith("zt1:")
    assert stored["refresh_token"].startswith("zt1:")
    for secret in ("oa-access-1", "oa-refresh-1", REFRESH_TOKEN, APP_SECRET):
        assert secret not in row
    # Another master key opens nothing: it starts again from the configured token.
    other = PostgresZaloTokens(database.conninfo, os.urandom(32))
    with zalo_api_server() as fresh:
        run_async(lambda: other.current(refreshing_oa(fresh)))
        assert spent(fresh) == [REFRESH_TOKEN]


def test_a_refused_refresh_token_is_a_clear_permanent_failure(database: Database) -> None:
    message = render(sample_notice(), BASE)
    with zalo_api_server() as api:
        api.refresh_tokens.clear()  # spent elsewhere, or older than three months
        oas = load_zalo_oas(oa_config(api.base_url, refreshing=True))
        channel = ZaloOaChannel(oas, tokens=PostgresZaloTokens(database.conninfo, MASTER_KEY))
        with pytest.raises(PermanentChannelError, match="authorise the app on the OA again"):
            run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
        assert api.received == []
