"""The head's dashboard: a subtree's figures for a period against targets, the open overdue
cases with who holds them, satisfaction by SIPAS component, a fair ranking of the units
below, two SVG charts, and a CSV of every table.

Heads and inspectors only, scoped to their subtree (``web.principal``): ``?unit=`` may
narrow the view to a unit inside the scope, never widen it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.intake import SipasComponent
from feedback_core.organisation import Organisation, Unit
from feedback_core.ranking import Ranking, UnitSatisfaction, rank_units
from feedback_core.roles import Role
from projections.figures_queries import ComponentFigure, DayFigure, FigureQueries, Totals
from projections.queries import QueueRow
from web.charts import Bar, Series, bar_chart, line_chart
from web.i18n import N_
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

DASHBOARD_ROLES = frozenset({Role.HEAD, Role.INSPECTOR})
HEADS_ONLY = N_("Chỉ lãnh đạo và thanh tra được xem trang tổng hợp.")
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
CSV_TABLES = ("units", "components", "ranking", "trend", "overdue")


class FigureSource(Protocol):
    """What the dashboard reads; projections.figures_queries.FigureQueries is the real one."""

    def by_unit(self, units: list[str], start: date, end: date) -> dict[str, Totals]: ...

    def components(self, units: list[str], start: date, end: date) -> list[ComponentFigure]: ...

    def trend(self, units: list[str], start: date, end: date) -> list[DayFigure]: ...

    def overdue_count(self, units: list[str], today: date) -> int: ...

    def overdue_list(self, units: list[str], today: date) -> list[QueueRow]: ...


def figure_source(request: Request, services: WebServices) -> FigureSource:
    """``app.state.figures`` when set (tests, other wiring), else read beside the views."""
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


def parse_period(args: dict[str, str], today: date) -> tuple[Period, bool]:
    """``from``/``to`` as YYYY-MM-DD; this month by default. Returns (period, valid)."""
    default = Period(today.replace(day=1), today)
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


@dataclass(frozen=True)
class UnitLine:
    unit: Unit
    totals: Totals
    overdue: int


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


def subtree_in_scope(org: Organisation, unit_id: str, principal: StaffPrincipal) -> list[str]:
    return [u for u in org.subtree(unit_id) if u in principal.scope]


def build_dashboard(
    source: FigureSource, org: Organisation, principal: StaffPrincipal, unit_id: str,
    period: Period, today: date,
) -> Dashboard:
    units = subtree_in_scope(org, unit_id, principal)
    per_unit = source.by_unit(units, period.start, period.end)
    totals = sum(per_unit.values(), Totals())
    children = sorted(
        (u for u in org.units.values() if u.parent_id == unit_id and u.id in principal.scope),
        key=lambda u: u.name_vi,
    )
    lines = []
    for child in children:
        below = subtree_in_scope(org, child.id, principal)
        rolled = sum((per_unit.get(u, Totals()) for u in below), Totals())
        lines.append(UnitLine(child, rolled, source.overdue_count(below, today)))
    ranking = rank_units(
        UnitSatisfaction(line.unit.id, line.totals.ratings, line.totals.satisfied)
        for line in lines
    )
    found = {c.component: c for c in source.components(units, period.start, period.end)}
    components = [(c.value, label, found.get(c.value)) for c, label in COMPONENT_LABELS.items()]
    return Dashboard(
        unit=org.units[unit_id],
        period=period,
        totals=totals,
        overdue=source.overdue_count(units, today),
        lines=lines,
        components=components,
        ranking=ranking,
        trend=source.trend(units, period.start, period.end),
    )


def weekly(days: Sequence[DayFigure]) -> list[DayFigure]:
    """Days summed into weeks starting on Monday (the first may be partial)."""
    weeks: dict[date, list[int]] = {}
    for d in days:
        monday = d.day - timedelta(days=d.day.weekday())
        totals = weeks.setdefault(monday, [0, 0])
        totals[0] += d.received
        totals[1] += d.resolved
    return [DayFigure(k, v[0], v[1]) for k, v in sorted(weeks.items())]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


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


def csv_response(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
    return no_store(response)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_table(table: str, board: Dashboard, overdue: list[OverdueLine]) -> Response:
    p = board.period
    name = f"{table}-{board.unit.id}-{p.start}-{p.end}"
    if table == "units":
        header = ["unit_id", "unit", "received", "accepted", "refused", "resolved", "on_time",
                  "early", "late", "on_time_share", "reopened", "ratings", "satisfied",
                  "satisfied_share", "harassment", "second_trip", "open_overdue"]
        rows = [[ln.unit.id, ln.unit.name_vi, t.received, t.accepted, t.refused, t.resolved,
                 t.on_time, t.early, t.late, _share(t.on_time_share), t.reopened, t.ratings,
                 t.satisfied, _share(t.satisfied_share), t.harassment, t.second_trip,
                 ln.overdue] for ln in board.lines for t in [ln.totals]]
    elif table == "components":
        header = ["component", "ratings", "mean_score"]
        rows = [[code, f.ratings if f else 0, f"{f.mean:.3f}" if f and f.mean else ""]
                for code, _label, f in board.components]
    elif table == "ranking":
        header = ["rank", "unit_id", "ratings", "satisfied", "raw_share", "estimate",
                  "low_95", "high_95"]
        r = board.ranking
        rows = [[u.rank if u.rank is not None else "not ranked", u.unit_id, u.ratings,
                 u.satisfied, _share(u.raw_share), _share(u.estimate), _share(u.low),
                 _share(u.high)] for u in r.ranked + r.not_ranked]
    elif table == "trend":
        header = ["day", "received", "resolved"]
        rows = [[d.day.isoformat(), d.received, d.resolved] for d in board.trend]
    else:
        header = ["tracking_code", "unit_id", "status", "received_at", "due_on",
                  "days_overdue", "holder"]
        rows = [[o.row.tracking_code, o.row.unit_id, o.row.status,
                 o.row.received_at.isoformat(), o.row.due_on.isoformat(), o.days_late,
                 o.row.assignee or ""] for o in overdue]
    return csv_response(name, header, rows)


def dashboard_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def authorise(principal: StaffPrincipal, request: Request) -> str:
        if principal.actor.role not in DASHBOARD_ROLES:
            raise StaffForbidden(HEADS_ONLY)
        wanted = request.query_params.get("unit") or principal.actor.unit_id
        if wanted not in principal.scope or wanted not in services.organisation.units:
            raise StaffForbidden(HEADS_ONLY)
        return wanted

    async def load(
        request: Request, principal: StaffPrincipal
    ) -> tuple[Dashboard, bool, FigureSource]:
        unit_id = authorise(principal, request)
        today = services.today()
        period, valid = parse_period(dict(request.query_params), today)
        source = figure_source(request, services)
        board = await anyio.to_thread.run_sync(
            build_dashboard, source, services.organisation, principal, unit_id, period, today
        )
        return board, valid, source

    async def overdue_of(source: FigureSource, board: Dashboard, principal: StaffPrincipal
                         ) -> list[OverdueLine]:
        today = services.today()
        units = subtree_in_scope(services.organisation, board.unit.id, principal)
        rows = await anyio.to_thread.run_sync(source.overdue_list, units, today)
        return overdue_lines(services.organisation, rows, today)

    @router.get("/staff/dashboard")
    async def dashboard(request: Request, principal: Staff) -> Response:
        board, valid, source = await load(request, principal)
        if request.query_params.get("format") == "csv":
            table = request.query_params.get("table", "units")
            if table not in CSV_TABLES:
                table = "units"
            overdue = await overdue_of(source, board, principal) if table == "overdue" else []
            return csv_table(table, board, overdue)
        return no_store(renderer.render(request, "dashboard.html", {
            **staff_context(request, principal),
            "board": board,
            "valid_period": valid,
            "query": _query(board),
            "target": ON_TIME_TARGET,
            "percent": percent,
            "trend_chart": _trend_chart(board),
            "ranking_chart": _ranking_chart(board),
        }))

    @router.get("/staff/dashboard/overdue")
    async def overdue_page(request: Request, principal: Staff) -> Response:
        board, _valid, source = await load(request, principal)
        lines = await overdue_of(source, board, principal)
        if request.query_params.get("format") == "csv":
            return csv_table("overdue", board, lines)
        return no_store(renderer.render(request, "dashboard_overdue.html", {
            **staff_context(request, principal),
            "board": board,
            "lines": lines,
            "query": _query(board),
        }))

    @router.get("/staff/dashboard/{table}.csv")
    async def export(request: Request, principal: Staff, table: str) -> Response:
        if table not in CSV_TABLES:
            return Response(status_code=404)
        board, _valid, source = await load(request, principal)
        overdue = await overdue_of(source, board, principal) if table == "overdue" else []
        return csv_table(table, board, overdue)

    return router


def _query(board: Dashboard) -> str:
    p = board.period
    return f"unit={board.unit.id}&from={p.start.isoformat()}&to={p.end.isoformat()}"


def _trend_chart(board: Dashboard) -> Any:
    """Called from the template with the translated texts."""

    def chart(title_day: str, title_week: str, desc: str, received: str, resolved: str) -> Any:
        weeks = board.period.days > WEEKLY_AFTER_DAYS
        points = weekly(board.trend) if weeks else list(board.trend)
        return line_chart(
            "trend",
            str(title_week if weeks else title_day),
            str(desc).format(
                start=f"{board.period.start:%d/%m/%Y}",
                end=f"{board.period.end:%d/%m/%Y}",
                received=sum(d.received for d in points),
                resolved=sum(d.resolved for d in points),
            ),
            [d.day.strftime("%d/%m") for d in points],
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
