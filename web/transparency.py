"""The public transparency pages (``/minh-bach``, ``/minh-bach/{unit_id}``): anonymised
figures per unit — received, resolved, on-time share, the satisfied share by the fair
method (``feedback_core.ranking``: minimum sample, shrinkage toward the peer mean, Wilson
interval) and the SIPAS outlook. Only counts leave the figures tables: no case text, no
contact, no officer. Pages are kept in a server-side TTL cache per (page, language) and
served with ``Cache-Control`` and an ``ETag`` (304 on ``If-None-Match``).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from cachetools import TTLCache
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.organisation import Organisation, Unit
from feedback_core.ranking import MIN_RATINGS, PRIOR_STRENGTH, shrink, wilson_interval
from feedback_core.sipas import NATIONAL_SOURCE, Outlook
from projections.figures_queries import FigureQueries, Totals
from web.dashboard import COMPONENT_LABELS, FigureSource, percent
from web.errors import error_page
from web.i18n import locale_for
from web.rendering import Renderer
from web.services import WebServices
from web.sipas_page import unit_outlook

CACHE_SECONDS = 300
CACHE_CONTROL = f"public, max-age={CACHE_SECONDS}"


@dataclass(frozen=True)
class FairShare:
    """The satisfied share as ranked: None below the minimum sample."""

    ratings: int
    estimate: float | None
    low: float | None
    high: float | None


def fair_share(totals: Totals, peer_mean: float) -> FairShare:
    if totals.ratings < MIN_RATINGS:
        return FairShare(totals.ratings, None, None, None)
    estimate = shrink(totals.satisfied, totals.ratings, peer_mean, PRIOR_STRENGTH)
    low, high = wilson_interval(
        estimate * (totals.ratings + PRIOR_STRENGTH), totals.ratings + PRIOR_STRENGTH
    )
    return FairShare(totals.ratings, estimate, low, high)


@dataclass(frozen=True)
class PublicFigures:
    unit: Unit
    start: date
    end: date
    totals: Totals
    satisfied: FairShare
    outlook: Outlook


def public_units(org: Organisation) -> list[Unit]:
    """Units in service, the tree's order (parents before their children)."""
    return [org.units[u] for root in _roots(org) for u in org.subtree(root)
            if u in org.units and not getattr(org.units[u], "closed", False)]


def _roots(org: Organisation) -> list[str]:
    return sorted(u.id for u in org.units.values() if u.parent_id not in org.units)


def public_figures(
    source: FigureSource, org: Organisation, unit_id: str, start: date, end: date
) -> PublicFigures:
    unit = org.units[unit_id]
    units = org.subtree(unit_id)
    totals = sum(source.by_unit(units, start, end).values(), Totals())
    peers = [u.id for u in org.units.values() if u.parent_id == unit.parent_id] or [unit_id]
    peer_totals = sum(
        source.by_unit([v for p in peers for v in org.subtree(p)], start, end).values(), Totals()
    )
    peer_mean = peer_totals.satisfied_share or 0.0
    return PublicFigures(unit, start, end, totals, fair_share(totals, peer_mean),
                         unit_outlook(source, units, start, end))


def live_figures(request: Request, services: WebServices) -> FigureSource:
    """Today's figures, never "as of" (a public page must not start replays)."""
    source: FigureSource | None = getattr(request.app.state, "figures", None)
    if source is None:
        pool = getattr(services.queries, "pool", None)
        if pool is None:
            raise RuntimeError("no figures: set app.state.figures or use ViewQueries")
        source = FigureQueries(pool, getattr(services.queries, "schema", "views"))
    return source


class PageCache:
    """Rendered pages by key for ``CACHE_SECONDS`` (a well-kept TTL cache, locked)."""

    def __init__(self, seconds: float = CACHE_SECONDS, size: int = 512) -> None:
        self.pages: TTLCache[tuple[str, ...], tuple[bytes, str, int]] = TTLCache(size, seconds)
        self.lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> tuple[bytes, str, int] | None:
        with self.lock:
            return self.pages.get(key)

    def put(self, key: tuple[str, ...], body: bytes, status: int) -> tuple[bytes, str, int]:
        entry = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', status)
        with self.lock:
            self.pages[key] = entry
        return entry


def cached_response(request: Request, entry: tuple[bytes, str, int]) -> Response:
    body, etag, status = entry
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Cookie"}
    matches = request.headers.get("if-none-match", "")
    if status == 200 and etag in (t.strip() for t in matches.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers=headers)


def transparency_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()
    cache = PageCache()

    def period(today: date) -> tuple[date, date]:
        return today.replace(month=1, day=1), today

    @router.get("/minh-bach")
    async def units_list(request: Request) -> Response:
        key = ("list", locale_for(request), services.today().isoformat())
        entry = cache.get(key)
        if entry is None:
            org = services.organisation
            html = renderer.render(request, "transparency_list.html", {
                "units": public_units(org), "org": org,
            })
            entry = cache.put(key, bytes(html.body), 200)
        return cached_response(request, entry)

    @router.get("/minh-bach/{unit_id}")
    async def unit_page(request: Request, unit_id: str) -> Response:
        today = services.today()
        org = services.organisation
        key = ("unit", unit_id, locale_for(request), today.isoformat())
        entry = cache.get(key)
        if entry is None:
            if unit_id not in {u.id for u in public_units(org)}:
                page = error_page(renderer, request, 404, back_url="/minh-bach")
                return page
            start, end = period(today)
            figures: Any = await anyio.to_thread.run_sync(
                public_figures, live_figures(request, services), org, unit_id, start, end
            )
            html = renderer.render(request, "transparency_unit.html", {
                "f": figures,
                "labels": {str(code): label for code, label in COMPONENT_LABELS.items()},
                "percent": percent,
                "national_source": NATIONAL_SOURCE,
                "min_ratings": MIN_RATINGS,
            })
            entry = cache.put(key, bytes(html.body), 200)
        return cached_response(request, entry)

    return router
