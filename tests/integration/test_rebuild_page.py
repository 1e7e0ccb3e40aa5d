"""The inspector's rebuild-and-compare page on the real platform: no differences on a fresh
database, a difference after a view row is altered by hand; the run is recorded."""

from __future__ import annotations

import re
import time

import httpx
import psycopg
import pytest

from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration


def login(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post("/login", data={"username": username, "password": "demo-2026",
                                         "csrf_token": token.group(1)})
    assert answer.status_code in (200, 303), answer.text


def run_rebuild(client: httpx.Client) -> str:
    page = client.get("/inspector/rebuild")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    started = client.post("/inspector/rebuild", data={"csrf_token": token.group(1)})
    assert started.status_code == 303
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get("/inspector/rebuild")
        stage = re.search(r'data-stage="(\w+)"', page.text)
        assert stage is not None
        if stage.group(1) in ("done", "failed"):
            return page.text
        time.sleep(0.5)
    raise AssertionError("the rebuild did not finish in 60 s")


def test_rebuild_page_shows_no_differences_then_the_altered_row(platform: LivePlatform) -> None:
    with httpx.Client(base_url=platform.base_url, follow_redirects=False) as client:
        login(client, "canbo.nhattan")
        assert client.get("/inspector/rebuild").status_code == 403  # handlers may not
    with httpx.Client(base_url=platform.base_url, follow_redirects=False) as client:
        login(client, "thanhtra.tayho")
        page = run_rebuild(client)
        assert 'id="no-differences"' in page, page
        with psycopg.connect(platform.db.conninfo, autocommit=True) as conn:
            conn.execute("INSERT INTO views.case_timeline (case_id, version, at, kind, actor, "
                         "actor_role, actor_unit, reason, text, public) VALUES "
                         "(gen_random_uuid(), 1, now(), 'note', 'tay', 'handler', 'x', "
                         "'sửa tay', '', false)")
        page = run_rebuild(client)
        assert 'id="has-differences"' in page and "sửa tay" in page
        log = client.get("/inspect/log")
        assert log.status_code == 200
