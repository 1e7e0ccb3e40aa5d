"""``?as_of=YYYY-MM-DD`` on the staff figures pages: the figures recomputed from the events
recorded by the end of that day (``projections.as_of``), read with the same ``FigureQueries``
in the day's own schema, "today" being that day (what was overdue then).

A day not built yet is built in a background thread of this process; the request meanwhile
gets a 503 "being prepared" page with ``Retry-After`` (and a refresh, no JavaScript needed).
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from projections.as_of import AsOfBusy, AsOfViews
from projections.figures_queries import MAX_OVERDUE_ROWS, FigureQueries
from projections.queries import QueueRow
from web.errors import error_page
from web.i18n import N_
from web.principal import StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 3
AS_OF_INVALID = N_("Ngày xem lại không hợp lệ: nhập một ngày đã qua, dạng YYYY-MM-DD.")
AS_OF_UNAVAILABLE = N_("Máy chủ này không xem lại được số liệu theo ngày.")
# The inspector's page's message (web.inspector.NOT_RECORDED's kind): no record, no figures.
AS_OF_NOT_RECORDED = N_("Không ghi được nhật ký xem lại, nên không hiển thị số liệu.")


class AsOfInvalid(Exception):
    """``as_of`` is not a past day."""


class AsOfNotRecorded(Exception):
    """The view could not be recorded in the inspections log: nothing is shown."""


class AsOfPreparing(Exception):
    def __init__(self, day: date) -> None:
        super().__init__(day)
        self.day = day


class AsOfFigureQueries(FigureQueries):
    """``FigureQueries`` over an as-of schema; "open overdue" is counted on that day."""

    def __init__(self, pool: Any, schema: str, day: date) -> None:
        super().__init__(pool, schema)
        self.day = day

    def overdue_count(self, units: list[str], today: date) -> int:
        return super().overdue_count(units, min(today, self.day))

    def overdue_list(
        self, units: list[str], today: date, limit: int = MAX_OVERDUE_ROWS
    ) -> list[QueueRow]:
        return super().overdue_list(units, min(today, self.day), limit)


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


class AsOfService:
    """The as-of schemas of this web process: ready ones read at once, others built in the
    background (one thread per day; the advisory lock covers other processes)."""

    def __init__(self, views: AsOfViews, pool: Any) -> None:
        self.views = views
        self.pool = pool
        self._building: dict[date, threading.Thread] = {}
        self._lock = threading.Lock()

    def figures(self, day: date) -> AsOfFigureQueries:
        """The day's figures, or ``AsOfPreparing`` after starting its build. The catalog is
        asked every time (one indexed row): a schema may have been evicted or rebuilt."""
        schema = self.views.ready(day)
        if schema is not None:
            return AsOfFigureQueries(self.pool, schema, day)
        self.start(day)
        raise AsOfPreparing(day)

    def start(self, day: date) -> None:
        with self._lock:
            running = self._building.get(day)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._build, args=(day,), name=f"as-of-{day}", daemon=True
            )
            self._building[day] = thread
            thread.start()

    def _build(self, day: date) -> None:
        try:
            built = self.views.build(day)
            log.info("as-of %s built in %.2f s (%d events)", day, built.seconds, built.events)
        except AsOfBusy:
            pass  # another process builds it; the next request finds it ready
        except Exception:
            log.exception("as-of %s could not be built", day)

    def wait(self, day: date, timeout: float = 60.0) -> None:
        """Tests and the command line: block until the day's build (if any) ends."""
        thread = self._building.get(day)
        if thread is not None:
            thread.join(timeout)


def as_of_service(request: Request) -> AsOfService:
    """``app.state.as_of`` (made on first use from the desk's application and the pool)."""
    service: AsOfService | None = getattr(request.app.state, "as_of", None)
    if service is None:
        services: WebServices = request.app.state.services
        pool = getattr(services.queries, "pool", None)
        app = services.desk.app if services.desk is not None else None
        if pool is None or app is None:
            raise AsOfInvalid("unavailable")
        service = AsOfService(AsOfViews(app, pool.conninfo), pool)
        request.app.state.as_of = service
    return service


def as_of_day(request: Request, today: date) -> date | None:
    """The ``as_of`` of the query string, checked; remembered for the page's banner."""
    day = parse_as_of(request.query_params.get("as_of"), today)
    if day is not None:
        request.state.as_of = day
    return day


def as_of_figures(request: Request, services: WebServices) -> AsOfFigureQueries | None:
    """The seam in ``web.dashboard.figure_source``: None when no ``as_of`` was asked."""
    day = as_of_day(request, services.today())
    if day is None:
        return None
    return as_of_service(request).figures(day)


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

    async def preparing(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AsOfPreparing)
        response = renderer.render(
            request, "as_of_preparing.html",
            {"day": exc.day, "retry": RETRY_AFTER_SECONDS}, status_code=503,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_exception_handler(AsOfInvalid, invalid)
    app.add_exception_handler(AsOfNotRecorded, not_recorded)
    app.add_exception_handler(AsOfPreparing, preparing)
