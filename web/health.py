"""/healthz: the components' report, plus an overall status a load balancer can act on."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse

from web.services import WebServices

log = logging.getLogger(__name__)


def is_healthy(report: Mapping[str, Any]) -> bool:
    """False when any top-level component says ``"ok": false``."""
    return not any(
        isinstance(part, Mapping) and part.get("ok") is False for part in report.values()
    )


def health_routes(services: WebServices) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            report = await services.health()
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "degraded"}, status_code=503)
        healthy = is_healthy(report)
        body: dict[str, Any] = {"status": "ok" if healthy else "degraded"}
        body.update({k: v for k, v in report.items() if k != "status"})
        return JSONResponse(jsonable_encoder(body), status_code=200 if healthy else 503)

    return router
