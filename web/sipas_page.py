"""``/staff/sipas?unit=&from=&to=``: the SIPAS outlook of a unit (``feedback_core.sipas``):
each component's index with its interval, the index the unit is heading for, and the
national figure beside it, as a table and a bar chart with whiskers. Heads and inspectors
within their scope; ``?as_of=`` works as on the dashboard, and is recorded as an inspection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.sipas import NATIONAL_SIPAS_2023, NATIONAL_SOURCE, Outlook, outlook
from projections.figures_queries import Totals
from web.as_of import record_if_as_of
from web.charts import Bar, bar_chart
from web.dashboard import COMPONENT_LABELS, FigureSource, figure_source, parse_period, percent
from web.i18n import N_
from web.principal import Staff
from web.rendering import Renderer
from web.reports import authorised_unit, component_counts
from web.services import WebServices
from web.staff import no_store, staff_context

VERSUS = {
    "above": N_("cao hơn cả nước"),
    "below": N_("thấp hơn cả nước"),
    "level": N_("ngang cả nước (trong khoảng sai số)"),
    "unknown": N_("chưa đủ số đánh giá để so sánh"),
}


def unit_outlook(source: FigureSource, units: list[str], start: date, end: date) -> Outlook:
    totals = sum(source.by_unit(units, start, end).values(), Totals())
    return outlook(component_counts(source, units, start, end), totals.ratings, totals.satisfied)


def outlook_chart(result: Outlook) -> Any:
    """Called from the template with the translated texts and its ``_`` for the labels."""

    def chart(
        title: str, desc: str, index_label: str, national_label: str,
        translate: Callable[[str], str],
    ) -> Any:
        labels = {str(code): label for code, label in COMPONENT_LABELS.items()}
        bars = [
            Bar(str(translate(labels[p.component])), p.index, f"{p.index * 100:.1f} %",
                p.low, p.high)
            for p in result.components
            if p.index is not None
        ]
        if result.index is not None:
            bars.append(Bar(index_label, result.index, f"{result.index * 100:.1f} %",
                            result.low, result.high))
        national = NATIONAL_SIPAS_2023
        bars.append(Bar(national_label, national, f"{national * 100:.2f} %"))
        return bar_chart("sipas", title, desc, bars, max_value=1.0)

    return chart


def sipas_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    @router.get("/staff/sipas")
    async def sipas(request: Request, principal: Staff) -> Response:
        unit = authorised_unit(principal, request.query_params.get("unit"),
                               services.organisation)
        today = services.today()
        args = dict(request.query_params)
        args.setdefault("from", today.replace(month=1, day=1).isoformat())
        period, valid = parse_period(args, today)
        source = figure_source(request, services)
        units = services.organisation.subtree(unit.id)
        result = await anyio.to_thread.run_sync(
            unit_outlook, source, units, period.start, period.end
        )
        await record_if_as_of(request, principal, unit.id)  # as of a past day: recorded first
        return no_store(renderer.render(request, "sipas.html", {
            **staff_context(request, principal),
            "unit": unit,
            "period": period,
            "valid_period": valid,
            "outlook": result,
            "versus": VERSUS[result.versus_national],
            "labels": {str(code): label for code, label in COMPONENT_LABELS.items()},
            "national_source": NATIONAL_SOURCE,
            "percent": percent,
            "chart": outlook_chart(result),
        }))

    return router
