"""The inspector's rebuild-and-compare page: replay the case views from position zero into a
separate schema in a background thread and compare them with the live ones, row by row
(``projections.rebuild.rebuild_and_compare``, the code of ``feedback rebuild --compare-only``).
One run at a time (a thread here, an advisory lock across processes); every start is
recorded in the inspections log (``what`` = ``rebuild``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.roles import Role
from projections.rebuild import RebuildBusy, TableDifference, rebuild_and_compare
from web import csrf
from web.errors import error_page
from web.i18n import N_
from web.principal import Staff, StaffForbidden, StaffPrincipal
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

log = logging.getLogger(__name__)

ROUTE = "/inspector/rebuild"
ONLY_INSPECTORS = N_("Chỉ thanh tra được dựng lại và đối chiếu các bảng xem.")
NO_DATABASE = N_("Không có cơ sở dữ liệu để dựng lại các bảng xem.")
NOT_RECORDED = N_("Không ghi được nhật ký thanh tra, nên không bắt đầu dựng lại.")
NO_CASE = UUID(int=0)  # the inspections log's case for an action on no one case


@dataclass
class RebuildJob:
    """The last run in this process: its stage and, when done, the differences."""

    stage: str = "idle"  # idle | replaying | comparing | done | failed
    started_by: str = ""
    started_at: datetime | None = None
    events: int = 0
    differences: list[TableDifference] = field(default_factory=list)
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self.stage in ("replaying", "comparing")

    def start(self, run: Any, who: str, at: datetime) -> bool:
        """Start ``run`` in a thread unless one is running; False when one is."""
        with self._lock:
            if self.running:
                return False
            self.stage, self.started_by, self.started_at = "replaying", who, at
            self.events, self.differences, self.error = 0, [], ""
        threading.Thread(target=self._run, args=(run,), name="rebuild", daemon=True).start()
        return True

    def _run(self, run: Any) -> None:
        try:
            report = run(self._set_stage)
        except RebuildBusy as exc:
            self.stage, self.error = "failed", str(exc)
        except Exception as exc:  # shown on the page; the views are untouched
            log.exception("rebuild-and-compare failed")
            self.stage, self.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            self.events, self.differences, self.stage = report.events, report.differences, "done"

    def _set_stage(self, stage: str) -> None:
        self.stage = stage


def conninfo_of(services: WebServices) -> str | None:
    """The database of the views (the same as the event store's), from the views' pool."""
    pool: Any = getattr(services.queries, "pool", None)
    return getattr(pool, "conninfo", None) if pool is not None else None


def require_inspector(principal: StaffPrincipal) -> None:
    if principal.actor.role is not Role.INSPECTOR:
        raise StaffForbidden(ONLY_INSPECTORS)


def rebuild_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    job = RebuildJob()

    def fail(request: Request, status: int, message: str) -> Response:
        return no_store(error_page(renderer, request, status, message, back_url=ROUTE))

    @router.get(ROUTE)
    async def show(request: Request, principal: Staff) -> Response:
        require_inspector(principal)
        context = {**staff_context(request, principal), "job": job,
                   "csrf": csrf.csrf_token(request), "schema": services.settings.views_schema}
        response = no_store(renderer.render(request, "inspector_rebuild.html", context))
        if job.running:
            response.headers["refresh"] = "2"
        return response

    @router.post(ROUTE)
    async def start(request: Request, principal: Staff) -> Response:
        require_inspector(principal)
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        conninfo = conninfo_of(services)
        if conninfo is None or services.desk is None:
            return fail(request, 503, NO_DATABASE)
        if services.inspections is None:
            return fail(request, 503, NOT_RECORDED)
        inspections, app = services.inspections, services.desk.app
        live = services.settings.views_schema
        if not job.running:
            await anyio.to_thread.run_sync(
                lambda: inspections.record(
                    inspector=principal.username, role=principal.actor.role.value,
                    inspector_unit=principal.actor.unit_id, case_id=NO_CASE, tracking_code="",
                    case_unit=principal.actor.unit_id, at=services.clock(), what="rebuild",
                )
            )
            job.start(lambda stage: rebuild_and_compare(app, conninfo, live, stage),
                      principal.username, services.clock())
        return RedirectResponse(ROUTE, status_code=303)

    return router
