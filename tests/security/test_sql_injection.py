"""SQL injection through every filter and search that reaches PostgreSQL: the staff queue and
its search, the dashboard, the inspector's and the citizen's code look-ups, and Open311's
request filters. The app is wired by ``build_web`` on a fresh real database (views projected
by the real runners); every payload gets a normal answer (no 5xx), never a row outside the
account's units or the key's district, and the database keeps every table and row."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from consumers.publisher import InProcessIntakePublisher
from feedback_cli.services import Core, build_web, projection_thread
from feedback_core.calendar_app import open_calendar_application
from feedback_core.identity import tracking_code_for
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from tests.security.conftest import HANDLER, HEAD, INSPECTOR, OPEN311_KEY, signed_in
from tests.unit.test_intake import submission
from tests.web.web_doubles import NOW
from web.app import create_app

pytestmark = pytest.mark.integration

PAYLOADS = [
    "' OR 1=1--",
    "' OR '1'='1",
    "nhat-tan' OR unit_id <> '",
    "'; DROP TABLE views.case_queue; --",
    "1) OR (1=1",
    "%' OR '%'='",
    '" OR ""="',
    "\\'; SELECT pg_sleep(5); --",
    "quang-an",
    "%",
    "_",
]
QUEUE_FILTERS = ["q", "state", "category", "channel", "assignee", "overdue", "page"]


class Platform:
    def __init__(self, client: TestClient, conninfo: str, codes: dict[str, str]) -> None:
        self.client = client
        self.conninfo = conninfo
        self.codes = codes  # unit -> tracking code of its case

    def counts(self) -> dict[str, int]:
        with psycopg.connect(self.conninfo) as conn:
            tables = conn.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                "AND table_schema NOT LIKE 'asof\\_%' "  # the nightly verification's replays
                "ORDER BY 1").fetchall()
            return {
                name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
                for (name,) in tables
            }


def assert_intact(before: dict[str, int], after: dict[str, int]) -> None:
    """Every table is still there with its rows (but the runners' positions, which the
    figures runner starts writing in the background; the replays of past days, schemas
    ``asof_*`` that the projection thread builds and renames, are not listed)."""
    for table, rows in before.items():
        assert table in after, table
        if not table.endswith(".projection_position"):
            assert after[table] == rows, table


@pytest.fixture
def live(database: Database, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(database_url=database.url, secret_key="sql-injection-test",
                        local_dir=tmp_path)
    calendar = open_calendar_application(database)
    core = Core(database, open_cases_application(database, calendar.calendar), calendar)
    codes: dict[str, str] = {}
    for unit in ("nhat-tan", "quang-an"):
        sub = submission(submission_id=uuid4(), unit_id=unit, office_id=f"{unit}-mc",
                         counter_id=f"{unit}-q1", submitted_at=NOW,
                         description=f"Phản ánh của {unit}: phải chờ rất lâu.")
        core.app.record_submissions([sub])
        codes[unit] = tracking_code_for(sub.submission_id)
    services = build_web(settings, core, InProcessIntakePublisher(core.app))
    services.clock = lambda: NOW
    try:
        with projection_thread(settings, core), \
                TestClient(create_app(services), follow_redirects=False) as client:
            deadline = time.monotonic() + 30
            while services.queries.submission(codes["quang-an"]) is None:
                assert time.monotonic() < deadline, "the views did not catch up"
                time.sleep(0.1)
            yield Platform(client, database.conninfo, codes)
    finally:
        core.app.close()
        calendar.close()


def test_no_payload_breaks_out_of_a_filter(live: Platform) -> None:
    client, other_unit = live.client, live.codes["quang-an"]
    before = live.counts()
    signed_in(client, HANDLER)  # Nhật Tân only
    assert live.codes["nhat-tan"] in client.get("/staff/queue").text  # the page shows rows
    for name in QUEUE_FILTERS:
        for payload in PAYLOADS:
            for path in ("/staff/queue", "/staff/my"):
                page = client.get(path, params={name: payload})
                assert page.status_code < 500, (path, name, payload)
                assert other_unit not in page.text, (path, name, payload)
    # A search for a payload finds nothing (it is text to look for, not SQL).
    for payload in PAYLOADS[:8]:
        page = client.get("/staff/queue", params={"q": payload})
        assert live.codes["nhat-tan"] not in page.text, payload
    for payload in PAYLOADS:
        assert client.get("/t", params={"code": payload}).status_code < 500
        assert client.get(f"/t/{payload}").status_code < 500

    client.cookies.clear()
    signed_in(client, HEAD)
    for payload in PAYLOADS:
        for params in ({"unit": payload}, {"from": payload}, {"to": payload},
                       {"unit": payload, "format": "csv", "table": payload}):
            answer = client.get("/staff/dashboard", params=params)
            assert answer.status_code < 500, (params, answer.text[:500])
        assert client.get("/staff/dashboard/units.csv", params={"unit": payload}).status_code < 500

    client.cookies.clear()
    signed_in(client, INSPECTOR)
    for payload in PAYLOADS:
        assert client.get("/inspect", params={"code": payload}).status_code < 500
        assert client.get("/inspect/log", params={"as_of": payload}).status_code < 500

    assert_intact(before, live.counts())
    assert live.counts()["views.case_queue"] == 2


def test_open311_filters_take_payloads_as_values(live: Platform) -> None:
    api = live.client
    before = live.counts()
    everything = api.get("/open311/v2/requests.json", params={"api_key": OPEN311_KEY}).json()
    assert len(everything) == 2
    for name in ("service_request_id", "service_code", "status", "start_date", "end_date",
                 "api_key", "extensions"):
        for payload in PAYLOADS:
            params = {"api_key": OPEN311_KEY, name: payload}
            answer = api.get("/open311/v2/requests.json", params=params)
            assert answer.status_code < 500, (name, payload, answer.text)
            if answer.status_code == 200:
                assert len(answer.json()) <= len(everything), (name, payload)
        assert api.get(f"/open311/v2/requests/{PAYLOADS[0]}.json").status_code < 500
    by_id = api.get("/open311/v2/requests.json",
                    params={"api_key": OPEN311_KEY, "service_request_id": "' OR 1=1--"})
    assert by_id.status_code in (200, 400, 404) and (
        by_id.status_code != 200 or by_id.json() == [])
    assert_intact(before, live.counts())
