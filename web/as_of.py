"""``?as_of=YYYY-MM-DD`` on the staff figures pages: the figures as they stood at the end of
that day, from the events recorded by then, read at once from the live tables' recorded
days (``projections.figures_queries.FigureQueriesAsOf``), "today" being that day (what was
overdue then). Any past day answers as fast as today's figures: nothing to prepare.
``feedback as-of verify`` proves a day against a replay of the log (``projections.as_of``).
"""

from __future__ import annotations

import logging
from datetime import date

import anyio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from projections.figures_queries import FigureQueriesAsOf
from web.errors import error_page
from web.i18n import N_
from web.principal import StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices

log = logging.getLogger(__name__)

AS_OF_INVALID = N_("Ngày xem lại không hợp lệ: nhập một ngày đã qua, dạng YYYY-MM-DD.")
AS_OF_UNAVAILABLE = N_("Máy chủ này không xem lại được số liệu theo ngày.")
# The inspector's page's message (web.inspector.NOT_RECORDED's kind): no record, no figures.
AS_OF_NOT_RECORDED = N_("Không ghi được nhật ký xem lại, nên không hiển thị số liệu.")


class AsOfInvalid(Exception):
    """``as_of`` is not a past day."""


class AsOfUnavailable(Exception):
    """This server reads no views from PostgreSQL (no pool): no past figures either."""


class AsOfNotRecorded(Exception):
    """The view could not be recorded in the inspections log: nothing is shown."""


class AsOfFigureQueries(FigureQueriesAsOf):
    """The dashboards' figure source as of a past day (the live schema, cut at the day)."""


def parse_as_of(value: str | None, today: date) -> date | None:
    """None when absent; ``AsOfInvalid`` unless a day before today."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise AsOfInvalid(value) from exc
    if day >= today:
        raise AsOfInvalid(value)
    return day


def as_of_figures(request: Request, services: WebServices) -> AsOfFigureQueries | None:
    """The seam in ``web.dashboard.figure_source``: None when no ``as_of`` was asked."""
    day = as_of_day(request, services.today())
    if day is None:
        return None
    pool = getattr(services.queries, "pool", None)
    if pool is None:
        raise AsOfUnavailable(day)
    return AsOfFigureQueries(pool, day, getattr(services.queries, "schema", "views"))


def as_of_day(request: Request, today: date) -> date | None:
    """The ``as_of`` of the query string, checked; remembered for the page's banner."""
    day = parse_as_of(request.query_params.get("as_of"), today)
    if day is not None:
        request.state.as_of = day
    return day


async def record_as_of_view(
    request: Request, principal: StaffPrincipal, unit_id: str, day: date
) -> None:
    """Record who looked at which unit's figures as of which day, and when, in the
    inspections log (``feedback_core.inspections.DashboardView``), before they are shown."""
    services: WebServices = request.app.state.services
    inspections = services.inspections
    if inspections is None:
        raise AsOfNotRecorded(day)
    at = services.clock()

    def record() -> int:
        assert inspections is not None
        return inspections.record_dashboard(
            inspector=principal.username, role=principal.actor.role.value,
            inspector_unit=principal.actor.unit_id, unit_id=unit_id, as_of=day, at=at,
            page=request.url.path,
        )

    try:
        await anyio.to_thread.run_sync(record)
    except Exception as exc:
        log.exception("as-of view of %s on %s not recorded", unit_id, day)
        raise AsOfNotRecorded(day) from exc


async def record_if_as_of(request: Request, principal: StaffPrincipal, unit_id: str) -> None:
    """For a page that read ``as_of_figures``: when it is shown as of a past day, record
    the view (``record_as_of_view``) before anything is shown; nothing to do otherwise."""
    day: date | None = getattr(request.state, "as_of", None)
    if day is not None:
        await record_as_of_view(request, principal, unit_id, day)


def install_as_of(app: FastAPI, renderer: Renderer) -> None:
    async def invalid(request: Request, exc: Exception) -> Response:
        return error_page(renderer, request, 400, AS_OF_INVALID, back_url="/staff/dashboard")

    async def not_recorded(request: Request, exc: Exception) -> Response:
        return error_page(renderer, request, 503, AS_OF_NOT_RECORDED,
                          back_url="/staff/dashboard")

    async def unavailable(request: Request, exc: Exception) -> Response:
        return error_page(renderer, request, 503, AS_OF_UNAVAILABLE,
                          back_url="/staff/dashboard")

    app.add_exception_handler(AsOfInvalid, invalid)
    app.add_exception_handler(AsOfNotRecorded, not_recorded)
    app.add_exception_handler(AsOfUnavailable, unavailable)
