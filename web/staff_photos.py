"""Officers' photos on the counter kiosks: which photo a kiosk shows, and the one route that
serves it (``/staff-photos/{username}/{sha256}``).

The route serves a photo only while it is the named officer's photo and the officer's unit
shows photos on its kiosks (``Unit.KioskPhotosChanged``); anything else in ``media.photos``
(citizens' photos above all) is a 404, whatever its hash. The bytes come from the store of
``web/media.py``; the URL names the content, so browsers may cache it for a day.
"""

from __future__ import annotations

import logging
from datetime import date

import anyio
from fastapi import APIRouter
from starlette.responses import Response

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.errors import NotFound
from web.services import WebServices

log = logging.getLogger(__name__)

PHOTO_PATH = "/staff-photos"
CACHE_SECONDS = 24 * 3600  # a removed photo leaves a kiosk's cache within a day
PHOTO_SIZE = 96  # CSS pixels, square: the kiosk's <img width height>


def shown_photo(app: OrganisationApplication, username: str, on: date) -> str | None:
    """The SHA-256 of ``username``'s photo if kiosks may show it on ``on``: the member is
    active, has a photo, and their unit shows officers' photos; else None."""
    try:
        member = app.staff_member(username)
        if not member.active_on(on):
            return None
        sha256 = member.photo_on(on)
        if sha256 is None or not app.unit(member.unit_on(on)).shows_kiosk_photos_on(on):
            return None
    except NotFound:
        return None
    return sha256


def photo_url(username: str, sha256: str) -> str:
    return f"{PHOTO_PATH}/{username}/{sha256}"


def kiosk_photo_url(services: WebServices, unit_id: str, username: str) -> str:
    """The photo URL a kiosk of ``unit_id`` shows for its officer, "" for the name only
    (the unit's setting off, no photo, or no organisation store or photo store wired in)."""
    app = services.org_app
    if app is None or services.photos is None or not username:
        return ""
    on = services.today()
    try:
        if not app.unit(unit_id).shows_kiosk_photos_on(on):
            return ""
    except NotFound:
        return ""
    sha256 = shown_photo(app, username, on)
    return photo_url(username, sha256) if sha256 else ""


def staff_photo_routes(services: WebServices) -> APIRouter:
    router = APIRouter()

    @router.get(PHOTO_PATH + "/{username}/{sha256}", include_in_schema=False)
    async def staff_photo(username: str, sha256: str) -> Response:
        app, store = services.org_app, services.photos
        if app is None or store is None:
            return _not_found()
        on = services.today()
        if await anyio.to_thread.run_sync(shown_photo, app, username, on) != sha256:
            return _not_found()
        photo = await anyio.to_thread.run_sync(store.get, sha256)
        if photo is None:
            log.warning("staff photo %s of %s is not in the photo store", sha256, username)
            return _not_found()
        return Response(
            photo.data,
            media_type=photo.content_type,
            headers={
                "Cache-Control": f"public, max-age={CACHE_SECONDS}",
                "ETag": f'"{sha256}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router


def _not_found() -> Response:
    return Response(status_code=404, headers={"Cache-Control": "no-store"})
