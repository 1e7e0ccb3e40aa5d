"""The head's dashboard: roles, scope, figures against targets, drill-down, CSV, charts."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from projections.figures_queries import ComponentFigure, DayFigure, Totals
from projections.queries import QueueRow
from tests.web.web_doubles import log_in, queue_row
from web.app import create_app
from web.services import WebServices

TODAY = date(2026, 11, 23)  # web_doubles.NOW in Hà Nội


class FakeFigures:
    """Figures a test writes, filtered by units like FigureQueries."""

    def __init__(self) -> None:
        self.totals: dict[str, Totals] = {}
        self.overdue: list[QueueRow] = []
        self.asked: list[tuple[list[str], date, date]] = []

    def by_unit(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        self.asked.append((units, start, end))
        return {u: t for u, t in self.totals.items() if u in units}

    def components(self, units: list[str], start: date, end: date) -> list[ComponentFigure]:
        return [ComponentFigure("officers", 10, 42)] if units else []

    def trend(self, units: list[str], start: date, end: date) -> list[DayFigure]:
        return [DayFigure(date(2026, 11, d), d % 3, d % 2) for d in range(1, 24)]

    def overdue_count(self, units: list[str], today: date) -> int:
        return len(self.overdue_list(units, today))

    def overdue_list(self, units: list[str], today: date) -> list[QueueRow]:
        return [r for r in self.overdue if r.unit_id in units and r.due_on < today]


@pytest.fixture
def figures() -> FakeFigures:
    fake = FakeFigures()
    fake.totals = {
        "nhat-tan": Totals(received=50, resolved=40, on_time=38, early=20, late=2,
                           ratings=60, satisfied=54),
        "quang-an": Totals(received=30, resolved=30, on_time=30, early=5, ratings=5,
                           satisfied=5),
        "phu-thuong": Totals(received=20, resolved=10, on_time=9, late=1, ratings=40,
                             satisfied=20),
    }
    fake.overdue = [
        queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 2), assignee="canbo.nhattan"),
        queue_row("nhat-tan", "nhat-tan-q1", date(2026, 11, 10)),
        queue_row("quang-an", "quang-an-q1", date(2026, 11, 12)),
    ]
    return fake


@pytest.fixture
def dash(services: WebServices, figures: FakeFigures) -> Iterator[TestClient]:
    app = create_app(services)
    app.state.figures = figures
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def test_head_sees_the_district_with_targets_ranking_and_charts(
    dash: TestClient, figures: FakeFigures
) -> None:
    log_in(dash, "lanhdao.tayho")
    page = dash.get("/staff/dashboard")
    assert page.status_code == 200
    html = page.text
    assert "Tổng hợp kết quả giải quyết" in html
    # This month by default; the whole district's subtree.
    units, start, end = figures.asked[0]
    assert (start, end) == (date(2026, 11, 1), TODAY)
    assert set(units) == {"tay-ho", "nhat-tan", "quang-an", "phu-thuong"}
    assert "77 (96.2 %)" in html  # 77 of 80 resolved on time
    assert "chưa đạt" in html  # below the 100 % target
    assert 'id="overdue-figure" href="/staff/dashboard/overdue?unit=tay-ho' in html
    # Quảng An has 5 ratings: listed, not ranked.
    assert "Chưa xếp hạng: quá ít đánh giá" in html
    for chart in ("trend", "ranking"):
        start_at = html.index('<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart"'
                              ' viewBox', html.index(f'id="{chart}-title"') - 400)
        svg = html[start_at: html.index("</svg>", start_at) + 6]
        ET.fromstring(svg)


def test_the_overdue_figure_lists_exactly_that_many_cases(dash: TestClient) -> None:
    log_in(dash, "lanhdao.tayho")
    board = dash.get("/staff/dashboard").text
    figure = board.split('id="overdue-figure"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    listed = dash.get("/staff/dashboard/overdue?unit=tay-ho")
    assert listed.status_code == 200
    assert listed.text.count('class="overdue-row"') == int(figure) == 3
    assert "Chưa giao" in listed.text  # an overdue case nobody holds says so


def test_csv_exports(dash: TestClient) -> None:
    log_in(dash, "thanhtra.tayho")  # inspectors read the dashboard too
    for table, rows in (("units", 3), ("overdue", 3), ("components", 5), ("ranking", 3)):
        response = dash.get(f"/staff/dashboard/{table}.csv?from=2026-11-01&to=2026-11-23")
        assert response.status_code == 200, table
        assert response.headers["content-type"].startswith("text/csv")
        body = response.content.decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(body)))) == rows + 1, table
    same = dash.get("/staff/dashboard?format=csv&table=units")
    assert same.status_code == 200 and "nhat-tan" in same.text


def test_handlers_and_admins_may_not_see_the_dashboard(dash: TestClient) -> None:
    for username in ("canbo.nhattan", "tongdai.nhattan"):
        log_in(dash, username)
        assert dash.get("/staff/dashboard").status_code == 403
        assert dash.get("/staff/dashboard/overdue.csv").status_code == 403
        dash.cookies.clear()


def test_a_ward_head_sees_only_their_ward(dash: TestClient, figures: FakeFigures) -> None:
    log_in(dash, "lanhdao.nhattan")
    page = dash.get("/staff/dashboard")
    assert page.status_code == 200
    assert figures.asked[-1][0] == ["nhat-tan"]
    overdue = dash.get("/staff/dashboard/overdue").text
    assert overdue.count('class="overdue-row"') == 2  # Quảng An's case is not theirs
    assert dash.get("/staff/dashboard?unit=quang-an").status_code == 403
    assert dash.get("/staff/dashboard/units.csv?unit=tay-ho").status_code == 403


def test_signed_out_goes_to_login(dash: TestClient) -> None:
    response = dash.get("/staff/dashboard")
    assert response.status_code == 303 and "/login" in response.headers["location"]


def test_bad_period_falls_back_and_says_so(dash: TestClient, figures: FakeFigures) -> None:
    log_in(dash, "lanhdao.tayho")
    page = dash.get("/staff/dashboard?from=2026-13-01")
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert figures.asked[-1][1:] == (date(2026, 11, 1), TODAY)
    dash.get("/staff/dashboard?from=2026-10-31&to=2026-10-01")  # swapped, not refused
    assert figures.asked[-1][1:] == (date(2026, 10, 1), date(2026, 10, 31))


def test_english(dash: TestClient) -> None:
    log_in(dash, "lanhdao.tayho")
    page = dash.get("/staff/dashboard?lang=en")
    assert page.status_code == 200 and "On time" in page.text
