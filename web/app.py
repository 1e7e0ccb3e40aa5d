"""The ASGI app: ``create_app(services)`` wires routes, templates, sessions and headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from web.account import account_routes
from web.admin import install_admin_errors
from web.admin_calendar import calendar_routes
from web.admin_kiosk_photos import MAX_PHOTO_UPLOAD_BYTES, PHOTO_UPLOAD_PATH, kiosk_photo_routes
from web.admin_org import org_routes
from web.admin_qr import qr_admin_routes
from web.as_of import install_as_of
from web.case_pages import case_routes
from web.citizen import MAX_QR_UPLOAD_BYTES, citizen_routes
from web.dashboard import dashboard_routes
from web.errors import install_error_handlers
from web.health import health_routes
from web.hotline import hotline_routes
from web.hotline_api import hotline_api_routes
from web.i18n import load_translations
from web.inspector import inspector_routes
from web.kiosk import kiosk_routes
from web.kiosk_admin import kiosk_admin_routes
from web.middleware import BodySizeLimit, PageHeaders
from web.open311 import open311_routes
from web.openapi import OPENAPI_URL, install_openapi
from web.paper_cards import paper_routes
from web.posters import poster_routes
from web.privacy_admin import privacy_admin_routes
from web.rendering import Renderer
from web.reports import report_routes
from web.services import WebServices
from web.signin import signin_routes
from web.sipas_page import sipas_routes
from web.staff import install_staff_errors, staff_routes
from web.staff_photos import staff_photo_routes
from web.static_files import CachedStaticFiles
from web.transparency import transparency_routes
from web.zalo_webhook import zalo_routes

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "phananh_session"
SESSION_SECONDS = 8 * 3600  # one working day
# Every body is refused past this (413) before it is read whole; forms and the APIs have
# their own, smaller limits. The QR form carries a photo: its own, larger one.
MAX_BODY_BYTES = 1_000_000
QR_FORM_PATH = re.compile(r"^/q/[^/]+$")


def create_app(services: WebServices) -> FastAPI:
    renderer = Renderer(load_translations())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.publisher.start()
        try:
            yield
        finally:
            try:
                await services.publisher.stop()
            finally:
                services.shutdown()

    app = FastAPI(
        title="Phản ánh", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_url=OPENAPI_URL,
        # The platform exports no OpenTelemetry (errors go to Sentry); FastAPI otherwise asks
        # the global providers on every request whether it should: ≈ 7 % of an intake POST.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_openapi(app)
    app.state.services = services
    install_error_handlers(app, renderer)
    install_staff_errors(app, renderer)
    install_admin_errors(app, renderer)
    install_as_of(app, renderer)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")  # in memory
    app.include_router(citizen_routes(services, renderer))
    app.include_router(signin_routes(services, renderer))
    app.include_router(staff_routes(services, renderer))
    app.include_router(account_routes(services, renderer))
    app.include_router(qr_admin_routes(services, renderer))  # before /admin/org/{name}
    app.include_router(kiosk_photo_routes(services, renderer))  # staff photos, kiosk setting
    app.include_router(org_routes(services, renderer))
    app.include_router(calendar_routes(services, renderer))
    app.include_router(privacy_admin_routes(services, renderer))  # docs/privacy.md
    app.include_router(case_routes(services, renderer))
    app.include_router(inspector_routes(services, renderer))
    app.include_router(dashboard_routes(services, renderer))
    app.include_router(report_routes(services, renderer))
    app.include_router(sipas_routes(services, renderer))
    app.include_router(transparency_routes(services, renderer))
    app.include_router(poster_routes(services, renderer))
    app.include_router(hotline_routes(services, renderer))
    app.include_router(kiosk_routes(services, renderer))
    app.include_router(staff_photo_routes(services))  # officers' photos on kiosks only
    app.include_router(kiosk_admin_routes(services, renderer))
    app.include_router(paper_routes(services, renderer))
    app.include_router(hotline_api_routes(services))
    app.include_router(zalo_routes(services))  # the wards' Zalo OAs (docs/zalo.md)
    app.include_router(health_routes(services))
    app.include_router(open311_routes(services))
    # Added last = outermost: the security headers wrap everything, the session is innermost.
    app.add_middleware(
        SessionMiddleware,
        secret_key=services.settings.secret.decode(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=False,
    )
    app.add_middleware(
        BodySizeLimit, limit=MAX_BODY_BYTES,
        larger=[(QR_FORM_PATH, MAX_QR_UPLOAD_BYTES),
                (PHOTO_UPLOAD_PATH, MAX_PHOTO_UPLOAD_BYTES)],
    )
    # The language cookie and the security headers, in one plain ASGI layer (cheap).
    app.add_middleware(PageHeaders, secure_cookies=services.settings.secure_cookies)
    return app
