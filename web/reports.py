"""The printable monthly report of a unit (``/staff/reports/monthly?unit=&month=YYYY-MM``):
headline figures against targets, the cases overdue at the month's end with who holds them,
satisfaction by SIPAS component, the trend of the month and of the six before it, and the
unit's place among its peers (the fair ranking). A print stylesheet makes it an A4 page.

With ``?as_of=YYYY-MM-DD`` (the month's last day, linked from the page) every figure is
recomputed from the events recorded by then (``web.as_of``), the organisation as it was,
and the view is recorded as an inspection first. Heads and inspectors, within their scope,
like the dashboard.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.org.directory import directory_as_of
from feedback_core.organisation import Organisation, Unit
from feedback_core.ranking import RankedUnit, UnitSatisfaction, rank_units
from feedback_core.sipas import NATIONAL_SOURCE, Outlook, outlook
from projections.figures_queries import Totals
from web.as_of import record_if_as_of
from web.charts import Series, line_chart
from web.dashboard import (
    COMPONENT_LABELS,
    DASHBOARD_ROLES,
    HEADS_ONLY,
    ON_TIME_TARGET,
    FigureSource,
    OverdueLine,
    figure_source,
    overdue_lines,
    percent,
)
from web.i18n import N_
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

BAD_MONTH = N_("Tháng báo cáo không hợp lệ: chọn một tháng dạng YYYY-MM, không sau tháng này.")
HISTORY_MONTHS = 6


class BadMonth(Exception):
    pass


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))

    def before(self) -> Month:
        return Month.of(self.first - timedelta(days=1))

    @property
    def code(self) -> str:
        return f"{self.first:%Y-%m}"


def parse_month(value: str | None, today: date) -> Month:
    if not value:
        return Month.of(today)
    try:
        year, month = (int(part) for part in value.split("-"))
        found = Month.of(date(year, month, 1))
    except ValueError as exc:
        raise BadMonth(value) from exc
    if found.first > today:
        raise BadMonth(value)
    return found


def authorised_unit(principal: StaffPrincipal, wanted: str | None, org: Organisation) -> Unit:
    """Heads and inspectors, a unit inside their scope (default: their own)."""
    if principal.actor.role not in DASHBOARD_ROLES:
        raise StaffForbidden(HEADS_ONLY)
    unit_id = wanted or principal.actor.unit_id
    if unit_id not in principal.scope or unit_id not in org.units:
        raise StaffForbidden(HEADS_ONLY)
    return org.units[unit_id]


def component_counts(source: FigureSource, units: list[str], start: date, end: date
                     ) -> dict[str, tuple[int, int]]:
    return {c.component: (c.ratings, c.score_sum) for c in source.components(units, start, end)}


@dataclass(frozen=True)
class MonthLine:
    month: Month
    totals: Totals


@dataclass(frozen=True)
class MonthlyReport:
    unit: Unit
    month: Month
    totals: Totals
    overdue_on: date
    overdue: list[OverdueLine]
    components: list[tuple[str, str, Any]]  # code, label, ComponentOutlook
    outlook: Outlook
    history: list[MonthLine]
    trend: list[Any]
    peer_rank: RankedUnit | None
    peers_ranked: int
    peers: int


def build_report(
    source: FigureSource, org: Organisation, unit_id: str, month: Month, today: date
) -> MonthlyReport:
    units = org.subtree(unit_id)
    totals = sum(source.by_unit(units, month.first, month.last).values(), Totals())
    overdue_on = min(today, month.last + timedelta(days=1))
    rows = source.overdue_list(units, overdue_on)
    counts = component_counts(source, units, month.first, month.last)
    result = outlook(counts, totals.ratings, totals.satisfied)
    labels = {str(code): label for code, label in COMPONENT_LABELS.items()}
    components = [(p.component, labels[p.component], p) for p in result.components]
    history = []
    current = month
    for _ in range(HISTORY_MONTHS):
        history.append(MonthLine(current, sum(
            source.by_unit(units, current.first, current.last).values(), Totals())))
        current = current.before()
    peer_rank, ranked, peers = _peer_rank(source, org, org.units[unit_id], month)
    return MonthlyReport(
        unit=org.units[unit_id], month=month, totals=totals, overdue_on=overdue_on,
        overdue=overdue_lines(org, rows, overdue_on), components=components, outlook=result,
        history=history, trend=source.trend(units, month.first, month.last),
        peer_rank=peer_rank, peers_ranked=ranked, peers=peers,
    )


def _peer_rank(
    source: FigureSource, org: Organisation, unit: Unit, month: Month
) -> tuple[RankedUnit | None, int, int]:
    """The unit's place among the units beside it (same parent), by the fair method; only
    its own row is shown, so a ward head learns the rank, not the siblings' figures."""
    if unit.parent_id is None:
        return None, 0, 0
    peers = [u for u in org.units.values() if u.parent_id == unit.parent_id]
    everyone = [v for u in peers for v in org.subtree(u.id)]
    per_unit = source.by_unit(everyone, month.first, month.last)
    satisfaction = []
    for peer in peers:
        rolled = sum((per_unit.get(v, Totals()) for v in org.subtree(peer.id)), Totals())
        satisfaction.append(UnitSatisfaction(peer.id, rolled.ratings, rolled.satisfied))
    ranking = rank_units(satisfaction)
    mine = next((r for r in ranking.ranked + ranking.not_ranked if r.unit_id == unit.id), None)
    return mine, len(ranking.ranked), len(peers)


def report_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    @router.get("/staff/reports/monthly")
    async def monthly(request: Request, principal: Staff) -> Response:
        unit = authorised_unit(principal, request.query_params.get("unit"),
                               services.organisation)
        today = services.today()
        try:
            month = parse_month(request.query_params.get("month"), today)
        except BadMonth:
            return no_store(renderer.render(request, "error.html", {
                "title": N_("Yêu cầu không hợp lệ"), "message": BAD_MONTH, "params": {},
                "detail": "", "back_url": "/staff/reports/monthly", "back_label": N_("Quay lại"),
            }, status_code=400))
        source = figure_source(request, services)  # ?as_of= handled there
        as_of: date | None = getattr(request.state, "as_of", None)
        org = services.organisation
        if as_of is not None and services.org_app is not None:
            org = directory_as_of(services.org_app, as_of, include_retired=True)
            if unit.id not in org.units:
                org = services.organisation
        report = await anyio.to_thread.run_sync(
            build_report, source, org, unit.id, month, as_of or today
        )
        await record_if_as_of(request, principal, unit.id)  # as of a past day: recorded first
        month_end_past = month.last < today
        return no_store(renderer.render(request, "report_monthly.html", {
            **staff_context(request, principal),
            "report": report,
            "as_of": as_of,
            "month_end_link": (
                f"/staff/reports/monthly?unit={unit.id}&month={month.code}"
                f"&as_of={month.last.isoformat()}" if month_end_past and as_of is None else ""
            ),
            "target": ON_TIME_TARGET,
            "percent": percent,
            "national_source": NATIONAL_SOURCE,
            "trend_chart": _trend_chart(report),
        }))

    return router


def _trend_chart(report: MonthlyReport) -> Any:
    def chart(title: str, desc: str, received: str, resolved: str) -> Any:
        points = report.trend
        return line_chart(
            "report-trend", str(title),
            str(desc).format(
                received=sum(d.received for d in points), resolved=sum(d.resolved for d in points)
            ),
            [d.day.strftime("%d") for d in points],
            [Series(received, [d.received for d in points]),
             Series(resolved, [d.resolved for d in points])],
        )

    return chart
