"""The citizens confirming resolution on the dashboard: a share of the resolved cases, in
the headline table and in the exports (the figures come from the in-memory double of
test_dashboard; the projection's count is tested in tests/integration)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from projections.figures_queries import Totals
from tests.web.test_dashboard import FakeFigures, csv_rows
from tests.web.web_doubles import log_in
from web.app import create_app
from web.services import WebServices


@pytest.fixture
def dash(services: WebServices) -> Iterator[TestClient]:
    fake = FakeFigures()
    fake.totals = {
        "nhat-tan": Totals(received=50, resolved=40, on_time=38, ratings=60, satisfied=54,
                           confirmed=22),
        "quang-an": Totals(received=30, resolved=30, on_time=30, ratings=5, satisfied=5,
                           confirmed=6),
    }
    app = create_app(services)
    app.state.figures = fake
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_the_share_of_citizens_confirming_is_shown_and_exported(dash: TestClient) -> None:
    log_in(dash, "lanhdao.tayho")
    html = dash.get("/staff/dashboard").text
    assert "Người dân xác nhận đã giải quyết" in html
    assert 'id="confirmed-figure">28 / 70 (40.0 %)' in html  # 28 of 70 resolved
    exported = dash.get("/staff/dashboard/summary.csv")
    assert exported.status_code == 200
    summary = {row[0]: row[1] for row in csv_rows(exported.content)[1:]}
    assert (summary["confirmed"], summary["confirmed_share"]) == ("28", "0.4")
    english = dash.get("/staff/dashboard?lang=en").text
    assert "Citizens confirming resolution" in english


def test_no_resolution_no_share() -> None:
    assert Totals(confirmed=0, resolved=0).confirmed_share is None
    assert Totals(confirmed=3, resolved=4).confirmed_share == 0.75
