"""The head's dashboard: a subtree's figures for a period against targets, the open overdue
cases with who holds them, handling time in working days (median, 90th percentile),
satisfaction by SIPAS component, a fair ranking of the units below, the best and worst
offices and counters, figures per officer and per channel, a trend grouped by day, week,
month, quarter or year, SVG charts, and a CSV and XLSX of every table.

Heads and inspectors only, scoped to their subtree (``web.principal``): ``?unit=`` may
narrow the view to a unit inside the scope, never widen it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.intake import Channel, SipasComponent
from feedback_core.org.directory import directory_as_of
from feedback_core.organisation import Organisation, StaffAccount, Unit
from feedback_core.ranking import RankedUnit, Ranking, UnitSatisfaction, rank_units
from feedback_core.roles import Role
from projections.figures_queries import (
    ComponentFigure,
    DayFigure,
    FigureQueries,
    HeldOpen,
    OpenBreakdown,
    ResolutionBreakdown,
    ResolutionFigures,
    ResolutionGroup,
    Totals,
    TotalsBreakdown,
)
from projections.queries import QueueRow
from web.as_of import as_of_figures, record_as_of_view
from web.charts import Bar, Series, bar_chart, line_chart
from web.dashboard_tables import TABLES, csv_table, xlsx_table, xlsx_workbook
from web.i18n import N_
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

DASHBOARD_ROLES = frozenset({Role.HEAD, Role.INSPECTOR})
HEADS_ONLY = N_("Chỉ lãnh đạo và thanh tra được xem trang tổng hợp.")
OFFICER_OUTSIDE = N_("Cán bộ này không thuộc đơn vị bạn phụ trách.")
BAD_PAGE = N_("Số trang không hợp lệ: hãy dùng các liên kết phân trang.")
ON_TIME_TARGET = 1.0  # 100 % on or before the due date (the seeds' target)
MAX_PERIOD_DAYS = 366
WEEKLY_AFTER_DAYS = 62  # longer periods are charted per week

COMPONENT_LABELS = {
    SipasComponent.ACCESS: N_("Tiếp cận dịch vụ"),
    SipasComponent.PROCEDURES: N_("Thủ tục hành chính"),
    SipasComponent.OFFICERS: N_("Công chức giải quyết"),
    SipasComponent.RESULTS: N_("Kết quả giải quyết"),
    SipasComponent.FEEDBACK: N_("Tiếp nhận, xử lý phản ánh"),
}
CSV_TABLES = TABLES  # every table has a CSV and an XLSX export
GROUPS = ("day", "week", "month", "quarter", "year")
PRESETS = ("this_week", "this_month", "this_quarter", "this_year")
EXTREMES = 3  # best and worst offices/counters shown
OVERDUE_PAGE_SIZE = 100  # rows per page of the overdue drill-down
# The dashboard's independent reads run side by side on the views' connection pool (4
# connections): a few threads shared by all requests, so one page never takes them all.
_READERS = ThreadPoolExecutor(max_workers=3, thread_name_prefix="dashboard-figures")


class FigureSource(Protocol):
    """What the dashboard reads; projections.figures_queries.FigureQueries is the real one."""

    def by_unit(self, units: list[str], start: date, end: date) -> dict[str, Totals]: ...

    def components(self, units: list[str], start: date, end: date) -> list[ComponentFigure]: ...

    def trend(self, units: list[str], start: date, end: date) -> list[DayFigure]: ...

    def overdue_count(self, units: list[str], today: date) -> int: ...

    def overdue_list(self, units: list[str], today: date) -> list[QueueRow]: ...

    def by_counter(self, units: list[str], start: date, end: date) -> dict[str, Totals]: ...

    def by_channel(self, units: list[str], start: date, end: date) -> dict[str, Totals]: ...

    def handling_time_by(
        self, units: list[str], start: date, end: date, by: ResolutionGroup
    ) -> dict[str, ResolutionFigures]: ...

    def handling_time_rolled(
        self, groups: dict[str, list[str]], start: date, end: date
    ) -> dict[str, ResolutionFigures]: ...

    def overdue_by(self, units: list[str], today: date, by: Any) -> dict[str, int]: ...

    def held_open(self, units: list[str], today: date) -> dict[str, HeldOpen]: ...

    def overdue_list_held_by(self, units: list[str], today: date, holder: str
                             ) -> list[QueueRow]: ...

    def overdue_page(self, units: list[str], today: date, offset: int, limit: int,
                     holder: str | None = None) -> list[QueueRow]: ...

    def totals_breakdown(self, units: list[str], start: date, end: date
                         ) -> TotalsBreakdown: ...

    def open_breakdown(self, units: list[str], groups: dict[str, list[str]], today: date
                       ) -> OpenBreakdown: ...

    def resolution_breakdown(self, units: list[str], groups: dict[str, list[str]],
                             start: date, end: date) -> ResolutionBreakdown: ...


def figure_source(request: Request, services: WebServices) -> FigureSource:
    """``app.state.figures`` when set (tests, other wiring), else read beside the views;
    with ``?as_of=YYYY-MM-DD`` the figures recomputed from the events up to that day."""
    as_of = as_of_figures(request, services)  # web.as_of: None without ?as_of=
    if as_of is not None:
        return as_of
    source: FigureSource | None = getattr(request.app.state, "figures", None)
    if source is None:
        pool = getattr(services.queries, "pool", None)
        if pool is None:
            raise RuntimeError("no figures: set app.state.figures or use ViewQueries")
        source = FigureQueries(pool, getattr(services.queries, "schema", "views"))
        request.app.state.figures = source
    return source


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def preset_period(preset: str, today: date) -> Period | None:
    """"this week/month/quarter/year" up to today; None for an unknown name."""
    starts = {
        "this_week": today - timedelta(days=today.weekday()),
        "this_month": today.replace(day=1),
        "this_quarter": date(today.year, 3 * ((today.month - 1) // 3) + 1, 1),
        "this_year": date(today.year, 1, 1),
    }
    return Period(starts[preset], today) if preset in starts else None


def parse_period(args: dict[str, str], today: date) -> tuple[Period, bool]:
    """``period=this_week|this_month|this_quarter|this_year`` (a preset, which wins), or
    ``from``/``to`` as YYYY-MM-DD; this month by default. Returns (period, valid)."""
    default = Period(today.replace(day=1), today)
    if args.get("period"):
        preset = preset_period(args["period"], today)
        return (preset, True) if preset else (default, False)
    try:
        start = date.fromisoformat(args["from"]) if args.get("from") else default.start
        end = date.fromisoformat(args["to"]) if args.get("to") else default.end
    except ValueError:
        return default, False
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_PERIOD_DAYS:
        return Period(end - timedelta(days=MAX_PERIOD_DAYS - 1), end), False
    return Period(start, end), True


def parse_group(args: dict[str, str], period: Period) -> tuple[str, bool]:
    """``group=day|week|month|quarter|year`` for the trend; by default per day, per week
    beyond 62 days. Returns (group, valid)."""
    default = "week" if period.days > WEEKLY_AFTER_DAYS else "day"
    wanted = args.get("group") or default
    return (wanted, True) if wanted in GROUPS else (default, False)


def bucket(day: date, group: str) -> date:
    """The first day of the day's week (Monday), month, quarter or year."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    if group == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if group == "year":
        return date(day.year, 1, 1)
    return day


def bucket_label(start: date, group: str) -> str:
    if group == "month":
        return f"{start:%m/%Y}"
    if group == "quarter":
        return f"Q{(start.month - 1) // 3 + 1}/{start.year}"
    if group == "year":
        return str(start.year)
    return f"{start:%d/%m}"


def grouped(days: Sequence[DayFigure], group: str) -> list[DayFigure]:
    """Days summed into periods, each keyed by its first day (the first may be partial)."""
    sums: dict[date, list[int]] = {}
    for d in days:
        totals = sums.setdefault(bucket(d.day, group), [0, 0])
        totals[0] += d.received
        totals[1] += d.resolved
    return [DayFigure(k, v[0], v[1]) for k, v in sorted(sums.items())]


@dataclass(frozen=True)
class UnitLine:
    unit: Unit
    totals: Totals
    overdue: int
    handling: ResolutionFigures = ResolutionFigures()


@dataclass(frozen=True)
class ChannelLine:
    channel: str
    totals: Totals
    handling: ResolutionFigures
    overdue: int


@dataclass(frozen=True)
class OfficerLine:
    account: StaffAccount
    unit: Unit | None
    handling: ResolutionFigures
    held: HeldOpen


@dataclass(frozen=True)
class Place:
    """An office or a counter, with its name and the unit it belongs to."""

    id: str
    kind: str  # office | counter
    item: Any  # the organisation's Office or Counter
    totals: Totals


@dataclass(frozen=True)
class Extremes:
    """Best and worst places by one share, ranked by the fair method (``feedback_core.ranking``:
    minimum sample, shrinkage toward the peer mean, 95 % interval)."""

    kind: str  # office | counter
    measure: str  # satisfaction | on_time
    ranking: Ranking
    best: list[RankedUnit]
    worst: list[RankedUnit]


@dataclass(frozen=True)
class OverdueLine:
    row: QueueRow
    unit: Unit | None
    holder: str  # display name of the assignee, or "" when nobody holds it
    days_late: int


@dataclass(frozen=True)
class Dashboard:
    unit: Unit
    period: Period
    totals: Totals
    overdue: int
    lines: list[UnitLine]
    components: list[tuple[str, str, ComponentFigure | None]]  # code, label, figure
    ranking: Ranking
    trend: list[DayFigure]
    group: str = "day"
    handling: ResolutionFigures = ResolutionFigures()
    channels: list[ChannelLine] = field(default_factory=list)
    officers: list[OfficerLine] = field(default_factory=list)
    extremes: list[Extremes] = field(default_factory=list)
    places: dict[str, Place] = field(default_factory=dict)

    @property
    def trend_points(self) -> list[DayFigure]:
        return grouped(self.trend, self.group) if self.group != "day" else list(self.trend)


def subtree_in_scope(org: Organisation, unit_id: str, principal: StaffPrincipal) -> list[str]:
    return [u for u in org.subtree(unit_id) if u in principal.scope]


def build_dashboard(  # noqa: PLR0913
    source: FigureSource, org: Organisation, principal: StaffPrincipal, unit_id: str,
    period: Period, today: date, group: str | None = None,
) -> Dashboard:
    """Five reads, side by side: the daily figures, the open cases, the resolutions (each
    one scan, grouped every way the page needs), the trend and the components."""
    units = subtree_in_scope(org, unit_id, principal)
    start, end = period.start, period.end
    children = sorted(
        (u for u in org.units.values() if u.parent_id == unit_id and u.id in principal.scope),
        key=lambda u: u.name_vi,
    )
    below_of = {child.id: subtree_in_scope(org, child.id, principal) for child in children}
    daily_read = _READERS.submit(source.totals_breakdown, units, start, end)
    open_read = _READERS.submit(source.open_breakdown, units, below_of, today)
    handling_read = _READERS.submit(source.resolution_breakdown, units, below_of, start, end)
    trend_read = _READERS.submit(source.trend, units, start, end)
    found = {c.component: c for c in source.components(units, start, end)}
    daily, open_now, handling = daily_read.result(), open_read.result(), handling_read.result()
    lines = []
    for child in children:
        rolled = sum((daily.by_unit.get(u, Totals()) for u in below_of[child.id]), Totals())
        lines.append(UnitLine(child, rolled, open_now.by_group.get(child.id, 0),
                              handling.by_group.get(child.id, ResolutionFigures())))
    ranking = rank_units(
        UnitSatisfaction(line.unit.id, line.totals.ratings, line.totals.satisfied)
        for line in lines
    )
    components = [(c.value, label, found.get(c.value)) for c, label in COMPONENT_LABELS.items()]
    return Dashboard(
        unit=org.units[unit_id],
        period=period,
        totals=sum(daily.by_unit.values(), Totals()),
        overdue=open_now.overdue,
        lines=lines,
        components=components,
        ranking=ranking,
        trend=trend_read.result(),
        group=group or parse_group({}, period)[0],
        handling=handling.overall,
        channels=channel_lines(daily, handling, open_now),
        officers=officer_lines(org, units, handling, open_now),
        **places_and_extremes(org, units, daily),
    )


def channel_lines(
    daily: TotalsBreakdown, handling: ResolutionBreakdown, open_now: OpenBreakdown
) -> list[ChannelLine]:
    """Every figure by intake channel: the known channels in order, then any other seen."""
    totals, by_channel, overdue = daily.by_channel, handling.by_channel, open_now.by_channel
    known = [c.value for c in Channel]
    seen = sorted((set(totals) | set(by_channel) | set(overdue)) - set(known))
    return [
        ChannelLine(c, totals.get(c, Totals()), by_channel.get(c, ResolutionFigures()),
                    overdue.get(c, 0))
        for c in known + seen
    ]


def officer_lines(
    org: Organisation, units: list[str], handling: ResolutionBreakdown,
    open_now: OpenBreakdown,
) -> list[OfficerLine]:
    """The officers of the subtree (staff of its units, never of a sibling's): resolutions
    credited to them (the officer who gave the answer that resolved a case), and the cases
    they hold now."""
    handled, held = handling.by_officer, open_now.held
    scope = set(units)
    return [
        OfficerLine(account, org.units.get(account.unit_id),
                    handled.get(account.username, ResolutionFigures()),
                    held.get(account.username, HeldOpen()))
        for account in sorted(org.staff.values(), key=lambda a: (a.unit_id, a.username))
        if account.unit_id in scope
        and (account.role in (Role.HANDLER, Role.HEAD)
             or account.username in handled or account.username in held)
    ]


def places_and_extremes(
    org: Organisation, units: list[str], daily: TotalsBreakdown
) -> dict[str, Any]:
    """Offices and counters of the subtree with their totals, and the best and worst of each
    by satisfaction and by on-time share."""
    per_counter = daily.by_counter
    places: dict[str, Place] = {}
    offices: dict[str, Totals] = {}
    for counter_id, totals in per_counter.items():
        counter = org.counters.get(counter_id)
        if counter is None or org.offices[counter.office_id].unit_id not in units:
            continue
        places[counter_id] = Place(counter_id, "counter", counter, totals)
        offices[counter.office_id] = offices.get(counter.office_id, Totals()) + totals
    for office_id, totals in offices.items():
        places[office_id] = Place(office_id, "office", org.offices[office_id], totals)
    extremes = []
    for kind in ("office", "counter"):
        group = [p for p in places.values() if p.kind == kind]
        for measure in ("satisfaction", "on_time"):
            ranking = rank_units(
                UnitSatisfaction(p.id, p.totals.ratings, p.totals.satisfied)
                if measure == "satisfaction"
                else UnitSatisfaction(p.id, p.totals.resolved, p.totals.on_time)
                for p in group
            )
            best = ranking.ranked[:EXTREMES]
            worst = [r for r in reversed(ranking.ranked[-EXTREMES:]) if r not in best]
            extremes.append(Extremes(kind, measure, ranking, best, worst))
    return {"places": places, "extremes": extremes}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def days_text(value: float | None) -> str:
    """A handling time in working days, one decimal (interpolated percentiles)."""
    return "—" if value is None else f"{value:.1f}".removesuffix(".0")


def overdue_lines(
    org: Organisation, rows: list[QueueRow], today: date
) -> list[OverdueLine]:
    lines = []
    for row in rows:
        holder = org.staff.get(row.assignee) if row.assignee else None
        lines.append(OverdueLine(
            row,
            org.units.get(row.unit_id),
            holder.display_name if holder else (row.assignee or ""),
            (today - row.due_on).days,
        ))
    return lines


@dataclass(frozen=True)
class Viewpoint:
    """Where a dashboard is seen from: today's tree and date, or, with ``?as_of=D``, the
    tree as it stood on D and D as "today" (days overdue counted to D)."""

    org: Organisation
    today: date
    as_of: date | None = None

    @property
    def query(self) -> str:
        """What the dashboard's own links add to stay in the past."""
        return f"&as_of={self.as_of.isoformat()}" if self.as_of else ""


@dataclass(frozen=True)
class Scope:
    """What a dashboard request asks to see, checked: the unit, period and grouping."""

    source: FigureSource
    point: Viewpoint
    unit: Unit
    period: Period
    group: str
    valid: bool


def parse_page(value: str | None) -> int:
    """``?page=``: 1 when absent; ValueError unless a whole number from 1."""
    if value is None or value == "":
        return 1
    page = int(value) if value.isdigit() else 0
    if page < 1:
        raise ValueError(value)
    return page


def overdue_page_rows(
    source: FigureSource, units: list[str], today: date, page: int, holder: str | None
) -> tuple[int, list[QueueRow], int]:
    """The overdue figure (of the holder when given) and the rows of ``page``, read side
    by side; a page past the last gives the last. Returns (count, rows, page)."""
    counted = _READERS.submit(source.open_breakdown, units, {}, today)
    size = OVERDUE_PAGE_SIZE
    rows = source.overdue_page(units, today, (page - 1) * size, size, holder)
    found = counted.result()
    count = found.held.get(holder, HeldOpen()).overdue if holder else found.overdue
    last = max(1, -(-count // size))
    if page > last:
        page = last
        rows = source.overdue_page(units, today, (page - 1) * size, size, holder)
    return count, rows, page


def dashboard_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    async def viewpoint(request: Request) -> Viewpoint:
        """After ``figure_source`` (which checks ``as_of`` and remembers it)."""
        as_of: date | None = getattr(request.state, "as_of", None)
        if as_of is None:
            return Viewpoint(services.organisation, services.today())
        if services.org_app is None:  # no organisation history here: today's tree
            return Viewpoint(services.organisation, as_of, as_of)
        org_app = services.org_app
        org = await anyio.to_thread.run_sync(
            lambda: directory_as_of(org_app, as_of, include_retired=True)
        )
        return Viewpoint(org, as_of, as_of)

    def authorise(principal: StaffPrincipal, request: Request, org: Organisation) -> str:
        wanted = request.query_params.get("unit") or principal.actor.unit_id
        if wanted not in principal.scope or wanted not in org.units:
            raise StaffForbidden(HEADS_ONLY)
        return wanted

    async def scope_of(request: Request, principal: StaffPrincipal) -> Scope:
        """Who may look, at which unit, period and grouping; an as-of look is recorded."""
        if principal.actor.role not in DASHBOARD_ROLES:
            raise StaffForbidden(HEADS_ONLY)
        source = figure_source(request, services)
        point = await viewpoint(request)
        unit_id = authorise(principal, request, point.org)
        args = dict(request.query_params)
        period, valid = parse_period(args, point.today)
        group, valid_group = parse_group(args, period)
        if point.as_of is not None:
            await record_as_of_view(request, principal, unit_id, point.as_of)
        return Scope(source, point, point.org.units[unit_id], period, group,
                     valid and valid_group)

    async def load(
        request: Request, principal: StaffPrincipal
    ) -> tuple[Dashboard, bool, FigureSource, Viewpoint]:
        scope = await scope_of(request, principal)
        point = scope.point
        board = await anyio.to_thread.run_sync(
            build_dashboard, scope.source, point.org, principal, scope.unit.id, scope.period,
            point.today, scope.group,
        )
        return board, scope.valid, scope.source, point

    def holder_in_scope(request: Request, unit_id: str, principal: StaffPrincipal,
                        point: Viewpoint) -> str | None:
        """``?holder=``: an officer of the subtree shown (a sibling ward's is refused)."""
        holder = request.query_params.get("holder")
        if not holder:
            return None
        account = point.org.staff.get(holder)
        units = subtree_in_scope(point.org, unit_id, principal)
        if account is None or account.unit_id not in units:
            raise StaffForbidden(OFFICER_OUTSIDE)
        return holder

    async def overdue_of(source: FigureSource, board: Dashboard, principal: StaffPrincipal,
                         point: Viewpoint, holder: str | None = None) -> list[OverdueLine]:
        today = point.today
        units = subtree_in_scope(point.org, board.unit.id, principal)
        if holder is None:
            rows = await anyio.to_thread.run_sync(source.overdue_list, units, today)
        else:
            rows = await anyio.to_thread.run_sync(
                source.overdue_list_held_by, units, today, holder
            )
        return overdue_lines(point.org, rows, today)

    async def export(request: Request, principal: Staff, table: str, kind: str) -> Response:
        if table not in TABLES:
            return Response(status_code=404)
        board, _valid, source, point = await load(request, principal)
        overdue = await overdue_of(source, board, principal, point) if table == "overdue" else []
        writer = xlsx_table if kind == "xlsx" else csv_table
        return no_store(writer(table, board, overdue, point.org))

    @router.get("/staff/dashboard")
    async def dashboard(request: Request, principal: Staff) -> Response:
        kind = request.query_params.get("format")
        if kind in ("csv", "xlsx"):
            table = request.query_params.get("table", "units")
            return await export(request, principal, table if table in TABLES else "units", kind)
        board, valid, _source, point = await load(request, principal)
        return no_store(renderer.render(request, "dashboard.html", {
            **staff_context(request, principal),
            "board": board,
            "valid_period": valid,
            "query": _query(board.unit.id, board.period, board.group, point),
            "as_of_query": point.query,
            "target": ON_TIME_TARGET,
            "percent": percent,
            "days": days_text,
            "groups": GROUPS,
            "presets": PRESETS,
            "trend_chart": _trend_chart(board),
            "ranking_chart": _ranking_chart(board),
        }))

    @router.get("/staff/dashboard.xlsx")
    async def whole_dashboard(request: Request, principal: Staff) -> Response:
        """Every table of the dashboard, one sheet each."""
        board, _valid, source, point = await load(request, principal)
        overdue = await overdue_of(source, board, principal, point)
        return no_store(xlsx_workbook(board, overdue, point.org))

    @router.get("/staff/dashboard/overdue")
    async def overdue_page(request: Request, principal: Staff) -> Response:
        """One page of the open overdue cases; the count is of all pages, the CSV and XLSX
        give every row."""
        if request.query_params.get("format") in ("csv", "xlsx"):
            return await overdue_export(request, principal)
        scope = await scope_of(request, principal)
        point = scope.point
        holder = holder_in_scope(request, scope.unit.id, principal, point)
        try:
            page = parse_page(request.query_params.get("page"))
        except ValueError:
            return no_store(renderer.render(request, "error.html", {
                "title": N_("Yêu cầu không hợp lệ"), "message": BAD_PAGE, "params": {},
                "detail": "", "back_url": "/staff/dashboard/overdue?"
                + _query(scope.unit.id, scope.period, scope.group, point),
                "back_label": N_("Quay lại"),
            }, status_code=400))
        units = subtree_in_scope(point.org, scope.unit.id, principal)
        count, rows, page = await anyio.to_thread.run_sync(
            overdue_page_rows, scope.source, units, point.today, page, holder
        )
        pages = max(1, -(-count // OVERDUE_PAGE_SIZE))
        return no_store(renderer.render(request, "dashboard_overdue.html", {
            **staff_context(request, principal),
            "unit": scope.unit,
            "lines": overdue_lines(point.org, rows, point.today),
            "count": count,
            "page": page,
            "pages": pages,
            "first": (page - 1) * OVERDUE_PAGE_SIZE + 1,
            "holder": point.org.staff.get(holder) if holder else None,
            "query": _query(scope.unit.id, scope.period, scope.group, point),
        }))

    async def overdue_export(request: Request, principal: Staff) -> Response:
        board, _valid, source, point = await load(request, principal)
        holder = holder_in_scope(request, board.unit.id, principal, point)
        lines = await overdue_of(source, board, principal, point, holder)
        writer = xlsx_table if request.query_params.get("format") == "xlsx" else csv_table
        return no_store(writer("overdue", board, lines, point.org))

    @router.get("/staff/dashboard/{table}.csv")
    async def csv_export(request: Request, principal: Staff, table: str) -> Response:
        return await export(request, principal, table, "csv")

    @router.get("/staff/dashboard/{table}.xlsx")
    async def xlsx_export(request: Request, principal: Staff, table: str) -> Response:
        return await export(request, principal, table, "xlsx")

    return router


def _query(unit_id: str, p: Period, group: str, point: Viewpoint | None = None) -> str:
    """The dashboard's own links: the same unit, period and grouping, and the as-of day."""
    return (f"unit={unit_id}&from={p.start.isoformat()}&to={p.end.isoformat()}"
            f"&group={group}{point.query if point else ''}")


def _trend_chart(board: Dashboard) -> Any:
    """Called from the template with the translated texts."""

    def chart(title: str, desc: str, received: str, resolved: str) -> Any:
        points = board.trend_points
        return line_chart(
            "trend",
            str(title),
            str(desc).format(
                start=f"{board.period.start:%d/%m/%Y}",
                end=f"{board.period.end:%d/%m/%Y}",
                received=sum(d.received for d in points),
                resolved=sum(d.resolved for d in points),
            ),
            [bucket_label(d.day, board.group) for d in points],
            [Series(received, [d.received for d in points]),
             Series(resolved, [d.resolved for d in points])],
        )

    return chart


def _ranking_chart(board: Dashboard) -> Any:
    """Called from the template with the translated texts; empty when nobody is ranked."""

    def chart(title: str, desc: str, name_of: Callable[[Unit], str]) -> Any:
        if not board.ranking.ranked:
            return ""
        units = {line.unit.id: line.unit for line in board.lines}
        bars = [
            Bar(f"{r.rank}. {name_of(units[r.unit_id]) if r.unit_id in units else r.unit_id}",
                r.estimate,
                f"{r.estimate * 100:.1f} % ({r.low * 100:.0f}–{r.high * 100:.0f})",
                r.low, r.high)
            for r in board.ranking.ranked
        ]
        return bar_chart("ranking", title, desc, bars, max_value=1.0)

    return chart
