"""The head's dashboard: roles, scope, figures against targets, drill-down, CSV, charts."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient

from projections.figures_queries import (
    ComponentFigure,
    DayFigure,
    HeldOpen,
    OpenBreakdown,
    ResolutionBreakdown,
    ResolutionFigures,
    ResolutionGroup,
    Totals,
    TotalsBreakdown,
)
from projections.queries import QueueRow
from tests.web.web_doubles import log_in, queue_row
from web.app import create_app
from web.dashboard_tables import TABLES
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

    def by_counter(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        return {f"{u}-q1": t for u, t in self.by_unit(units, start, end).items()}

    def by_channel(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        total = sum(self.by_unit(units, start, end).values(), Totals())
        return {"qr": total, "kiosk": Totals(ratings=3, satisfied=2)} if units else {}

    def handling_time_by(
        self, units: list[str], start: date, end: date, by: ResolutionGroup
    ) -> dict[str, ResolutionFigures]:
        if by == "officer":
            return {"canbo.nhattan": ResolutionFigures(4, 3, 1, 1, 2.5, 7.7)} if (
                "nhat-tan" in units) else {}
        return {"qr": ResolutionFigures(4, 3, 1, 1, 2.5, 7.7)}

    def handling_time_rolled(
        self, groups: dict[str, list[str]], start: date, end: date
    ) -> dict[str, ResolutionFigures]:
        self.rolled = groups
        return {g: ResolutionFigures(len(u), 0, 0, 0, 1.5, 9.0) for g, u in groups.items()}

    def overdue_by(self, units: list[str], today: date, by: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.overdue_list(units, today):
            key = row.channel if by == "channel" else (row.assignee or "")
            found[key] = found.get(key, 0) + 1
        return found

    def held_open(self, units: list[str], today: date) -> dict[str, HeldOpen]:
        overdue = self.overdue_by(units, today, "assignee")
        return {k: HeldOpen(v + 1, v) for k, v in overdue.items() if k}

    def overdue_list_held_by(self, units: list[str], today: date, holder: str
                             ) -> list[QueueRow]:
        return [r for r in self.overdue_list(units, today) if r.assignee == holder]

    # The dashboard's folded reads, composed from the ones above.

    def totals_breakdown(self, units: list[str], start: date, end: date) -> TotalsBreakdown:
        return TotalsBreakdown(self.by_unit(units, start, end),
                               self.by_counter(units, start, end),
                               self.by_channel(units, start, end))

    def open_breakdown(
        self, units: list[str], groups: dict[str, list[str]], today: date
    ) -> OpenBreakdown:
        return OpenBreakdown(
            self.overdue_count(units, today),
            {g: self.overdue_count(below, today) for g, below in groups.items()},
            self.overdue_by(units, today, "channel"),
            self.held_open(units, today),
        )

    def resolution_breakdown(
        self, units: list[str], groups: dict[str, list[str]], start: date, end: date
    ) -> ResolutionBreakdown:
        rolled = self.handling_time_rolled({"": units, **groups}, start, end)
        overall = rolled.pop("")
        return ResolutionBreakdown(overall, rolled,
                                   self.handling_time_by(units, start, end, "channel"),
                                   self.handling_time_by(units, start, end, "officer"))

    def overdue_page(self, units: list[str], today: date, offset: int, limit: int,
                     holder: str | None = None) -> list[QueueRow]:
        rows = self.overdue_list(units, today)
        rows = [r for r in rows if holder is None or r.assignee == holder]
        return rows[offset:offset + limit]


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


def test_the_overdue_drill_down_is_paged_and_its_pages_add_up(
    dash: TestClient, figures: FakeFigures
) -> None:
    figures.overdue += [
        queue_row("phu-thuong", "phu-thuong-q1", date(2026, 10, 1 + n % 30),
                  assignee="canbo.nhattan" if n % 2 else None)
        for n in range(202)
    ]  # 205 overdue in all: pages of 100, 100 and 5
    log_in(dash, "lanhdao.tayho")
    seen: list[str] = []
    for page, rows in ((1, 100), (2, 100), (3, 5)):
        html = dash.get(f"/staff/dashboard/overdue?page={page}").text
        assert html.count('class="overdue-row"') == rows, page
        assert '<span id="overdue-count">205</span>' in html  # the figure, every page
        assert f"Trang {page} / 3, dòng {(page - 1) * 100 + 1}–{(page - 1) * 100 + rows}" in html
        assert ('rel="prev"' in html) == (page > 1) and ('rel="next"' in html) == (page < 3)
        seen += [line.split('">', 1)[1].split("<", 1)[0]
                 for line in html.split('href="/staff/cases/')[1:]]
    assert sorted(seen) == sorted(r.tracking_code for r in figures.overdue)  # each once
    past_the_end = dash.get("/staff/dashboard/overdue?page=9")
    assert past_the_end.status_code == 200  # the last page
    assert past_the_end.text.count('class="overdue-row"') == 5
    for bad in ("0", "-1", "abc", "1.5"):
        refused = dash.get(f"/staff/dashboard/overdue?page={bad}")
        assert refused.status_code == 400, bad
        assert "Số trang không hợp lệ" in refused.text
    exported = dash.get("/staff/dashboard/overdue?format=csv&page=2")
    assert len(csv_rows(exported.content)) == 205 + 1  # the export has every row
    held = dash.get("/staff/dashboard/overdue?holder=canbo.nhattan&page=2").text
    assert '<span id="overdue-count">102</span>' in held  # 101 added + 1 of the fixture
    assert held.count('class="overdue-row"') == 2
    assert "&amp;holder=canbo.nhattan&amp;page=1" in held


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


def xlsx_rows(content: bytes, sheet: str | None = None) -> list[list[str]]:
    """The cells of a sheet as the CSV writes them (empty for None)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
    return [["" if v is None else str(v) for v in row] for row in rows]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_every_table_in_xlsx_equals_its_csv(dash: TestClient) -> None:
    log_in(dash, "lanhdao.tayho")
    query = "from=2026-11-01&to=2026-11-23&group=week"
    whole = dash.get(f"/staff/dashboard.xlsx?{query}")
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(whole.content), read_only=True)
    assert book.sheetnames == list(TABLES)
    for table in TABLES:
        as_csv = csv_rows(dash.get(f"/staff/dashboard/{table}.csv?{query}").content)
        one = dash.get(f"/staff/dashboard/{table}.xlsx?{query}")
        assert one.status_code == 200, table
        assert xlsx_rows(one.content) == as_csv, table
        assert xlsx_rows(whole.content, table) == as_csv, table
        assert len(as_csv) > 1, table  # a header and rows: nothing empty compared
    same = dash.get(f"/staff/dashboard?format=xlsx&table=channels&{query}")
    assert xlsx_rows(same.content) == csv_rows(
        dash.get(f"/staff/dashboard/channels.csv?{query}").content
    )
    assert dash.get("/staff/dashboard/nothing.xlsx").status_code == 404


def test_numbers_stay_numbers_in_xlsx(dash: TestClient) -> None:
    log_in(dash, "lanhdao.tayho")
    content = dash.get("/staff/dashboard/units.xlsx").content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert isinstance(row["received"], int) and isinstance(row["on_time_share"], float)


def test_channels_officers_handling_and_extremes(dash: TestClient, figures: FakeFigures) -> None:
    log_in(dash, "lanhdao.tayho")
    html = dash.get("/staff/dashboard").text
    assert 'id="channels-table"' in html and 'id="officers-table"' in html
    channels = dash.get("/staff/dashboard/channels.csv").content.decode("utf-8-sig")
    listed = [r[0] for r in csv.reader(io.StringIO(channels))][1:]
    assert listed == ["qr", "hotline", "open311", "kiosk", "paper", "zalo"]
    # The headline's handling time: the subtree's own percentiles, not a mean of the wards'.
    assert figures.rolled[""] == ["tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
    assert 'id="handling-figure">1.5 / 9' in html
    # Officers of the district: the wards' handlers, with their overdue link.
    assert 'data-officer="canbo.nhattan"' in html and 'data-officer="canbo.quangan"' in html
    assert "/staff/dashboard/overdue?unit=tay-ho" in html and "holder=canbo.nhattan" in html
    best_worst = csv_rows(dash.get("/staff/dashboard/best_worst.csv").content)
    # Nhật Tân's counter has 60 ratings and Phú Thượng's 40: both ranked; Quảng An's 5 not.
    satisfaction = [r for r in best_worst if r[:2] == ["counter", "satisfaction"]]
    assert [r[4] for r in satisfaction] == ["nhat-tan-q1", "phu-thuong-q1"]
    assert [r[2] for r in satisfaction] == ["best", "best"]


def test_a_ward_head_sees_only_their_officers(dash: TestClient) -> None:
    log_in(dash, "lanhdao.nhattan")
    html = dash.get("/staff/dashboard").text
    assert 'data-officer="canbo.nhattan"' in html
    assert "canbo.quangan" not in html
    officers = dash.get("/staff/dashboard/officers.csv").content.decode("utf-8-sig")
    assert "canbo.quangan" not in officers and "canbo.nhattan" in officers
    mine = dash.get("/staff/dashboard/overdue?holder=canbo.nhattan")
    assert mine.status_code == 200 and mine.text.count('class="overdue-row"') == 1
    assert '<span id="overdue-count">1</span>' in mine.text
    sibling = dash.get("/staff/dashboard/overdue?holder=canbo.quangan")
    assert sibling.status_code == 403
    assert "không thuộc đơn vị bạn phụ trách" in sibling.text
    assert dash.get("/staff/dashboard/overdue?holder=nobody&format=csv").status_code == 403


@pytest.mark.parametrize(("preset", "start"), [
    ("this_week", date(2026, 11, 23)),  # Monday 23 November
    ("this_month", date(2026, 11, 1)),
    ("this_quarter", date(2026, 10, 1)),
    ("this_year", date(2026, 1, 1)),
])
def test_period_presets(dash: TestClient, figures: FakeFigures, preset: str, start: date
                        ) -> None:
    log_in(dash, "lanhdao.tayho")
    page = dash.get(f"/staff/dashboard?period={preset}&from=2025-01-01")
    assert page.status_code == 200 and 'role="alert"' not in page.text
    assert figures.asked[-1][1:] == (start, TODAY)
    assert f"from={start.isoformat()}&amp;to={TODAY.isoformat()}" in page.text


@pytest.mark.parametrize(("group", "first", "points"), [
    ("day", "2026-11-01", 23), ("week", "2026-10-26", 5), ("month", "2026-11-01", 1),
    ("quarter", "2026-10-01", 1), ("year", "2026-01-01", 1),
])
def test_trend_grouped(dash: TestClient, group: str, first: str, points: int) -> None:
    log_in(dash, "lanhdao.tayho")
    page = dash.get(f"/staff/dashboard?group={group}")
    assert page.status_code == 200 and f'<option value="{group}" selected>' in page.text
    rows = csv_rows(dash.get(f"/staff/dashboard/trend.csv?group={group}").content)
    assert rows[1][0] == first and len(rows) == points + 1
    # Every grouping sums to the same days: received = sum of d % 3 over 1..23 November.
    assert sum(int(r[1]) for r in rows[1:]) == sum(d % 3 for d in range(1, 24))


def test_bad_group_or_preset_falls_back_and_says_so(dash: TestClient, figures: FakeFigures
                                                    ) -> None:
    log_in(dash, "lanhdao.tayho")
    for query in ("group=fortnight", "period=last_decade"):
        page = dash.get(f"/staff/dashboard?{query}")
        assert page.status_code == 200 and 'role="alert"' in page.text, query
        assert figures.asked[-1][1:] == (date(2026, 11, 1), TODAY)
