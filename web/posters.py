"""Printable QR posters of the counters: an A4 and an A5 SVG per counter, a page listing a
unit's counters, and one ZIP of all of a unit's posters. For administrators and heads,
within their own subtree.

The QR code is drawn as one SVG path by the ``qrcode`` library's path image factory (one
square per module, in the poster's millimetres), so it stays crisp at any print size. The
poster's texts are fixed: Vietnamese first, one line of English (the poster hangs for every
visitor, whatever language the administrator reads the site in).
"""

from __future__ import annotations

import io
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from typing import Annotated
from xml.sax.saxutils import escape, quoteattr

import anyio
import qrcode
import qrcode.constants
from fastapi import APIRouter, Depends
from qrcode.image.svg import SvgPathImage
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.organisation import Counter, Office, Organisation, Unit
from feedback_core.roles import Role
from web.admin import OUT_OF_SCOPE
from web.errors import error_page
from web.i18n import N_
from web.principal import StaffForbidden, StaffPrincipal, require_signed_in
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

POSTERS = "/staff/posters"
POSTERS_ONLY = N_("Chỉ quản trị viên và người đứng đầu đơn vị được in áp phích mã QR.")
NO_SUCH_PLACE = N_("Không tìm thấy đơn vị hoặc quầy này.")

INSTRUCTION_VI = "Quét mã để đánh giá và phản ánh về việc giải quyết thủ tục tại quầy này"
INSTRUCTION_EN = "Scan to rate and give feedback on the service at this counter"
NOTE_VI = "Không cần cài ứng dụng, không cần tài khoản. Có thể gửi ẩn danh."
SIZES: dict[str, tuple[int, int]] = {"A4": (210, 297), "A5": (148, 210)}  # mm
FONT = "'Noto Sans', 'DejaVu Sans', Arial, sans-serif"


@dataclass(frozen=True)
class PosterPlace:
    unit: Unit
    office: Office
    counter: Counter
    url: str


def qr_path(url: str) -> tuple[str, int]:
    """The QR code of ``url`` as one SVG path (a unit square per module, no quiet zone) and
    its width in modules."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
        image_factory=SvgPathImage,
    )
    code.add_data(url)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    root = ET.fromstring(svg)
    path = root.find("{http://www.w3.org/2000/svg}path")
    if path is None:
        raise RuntimeError("the qrcode library drew no path")
    return path.get("d", ""), code.modules_count


def _text(x: float, y: float, size: float, text: str, *, weight: str = "normal",
          family: str = FONT, fill: str = "#111", anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family={quoteattr(family)} font-size="{size:.2f}" '
        f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _lines(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Wrap to the poster's width (an average glyph is about half the font size wide, a
    bold one a little more)."""
    return textwrap.wrap(text, max(10, int(width / ((0.6 if bold else 0.52) * size)))) or [""]


def poster_svg(place: PosterPlace, size: str = "A4") -> str:
    """One counter's poster, ``size`` A4 or A5, drawn in millimetres."""
    width, height = SIZES[size]
    k = width / 210  # everything is laid out for A4 and scaled
    margin = 14 * k
    inner = width - 2 * margin
    cx = width / 2
    parts: list[str] = [
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        f'<rect x="0" y="0" width="{width}" height="{34 * k:.1f}" fill="#0b4f8a"/>',
    ]
    y = 15 * k
    for line in _lines(place.unit.name_vi.upper(), 8.5 * k, inner, bold=True)[:2]:
        parts.append(_text(cx, y, 8.5 * k, line, weight="bold", fill="#fff"))
        y += 9.5 * k
    parts.append(_text(cx, 30 * k, 5 * k, place.office.name_vi, fill="#fff"))
    y = 50 * k
    for line in _lines(place.counter.name_vi, 9 * k, inner, bold=True):
        parts.append(_text(cx, y, 9 * k, line, weight="bold"))
        y += 10.5 * k
    y += 2 * k
    for line in _lines(INSTRUCTION_VI, 6 * k, inner):
        parts.append(_text(cx, y, 6 * k, line))
        y += 7.5 * k
    parts.append(_text(cx, y, 4.6 * k, INSTRUCTION_EN, fill="#444"))
    y += 6 * k
    d, modules = qr_path(place.url)
    side = min(120 * k, height - y - 60 * k)
    quiet = side * 4 / modules  # the standard's four-module quiet zone
    x0 = cx - side / 2
    y0 = y + quiet
    parts.append(
        f'<rect x="{x0 - quiet:.2f}" y="{y0 - quiet:.2f}" width="{side + 2 * quiet:.2f}" '
        f'height="{side + 2 * quiet:.2f}" fill="#fff"/>'
    )
    scale = side / modules
    parts.append(
        f'<path id="qr" transform="translate({x0:.3f} {y0:.3f}) scale({scale:.5f})" '
        f'fill="#000" shape-rendering="crispEdges" d="{d}"/>'
    )
    y = y0 + side + quiet + 8 * k
    parts.append(
        f'<text id="short-url" x="{cx:.1f}" y="{y:.1f}" font-family="\'DejaVu Sans Mono\', '
        f'monospace" font-size="{5.2 * k:.2f}" fill="#111" text-anchor="middle">'
        f"{escape(place.url)}</text>"
    )
    y += 10 * k
    parts.append(_text(cx, y, 4.6 * k, NOTE_VI, fill="#444"))
    parts.append(_text(cx, height - 10 * k, 3.6 * k, f"{place.counter.id} · {size}", fill="#888"))
    body = "\n".join(parts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}mm" '
        f'height="{height}mm" viewBox="0 0 {width} {height}">\n'
        f"<title>{escape(place.unit.name_vi + ' – ' + place.counter.name_vi)}</title>\n"
        f"{body}\n</svg>\n"
    )


def posters_zip(places: list[PosterPlace]) -> bytes:
    """Every poster (A4 and A5) of these counters, in one ZIP made in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for place in places:
            for size in SIZES:
                archive.writestr(f"{place.counter.id}-{size}.svg", poster_svg(place, size))
    return buffer.getvalue()


def require_poster_maker(request: Request) -> StaffPrincipal:
    """Administrators and heads (their own subtree, checked per page)."""
    principal = require_signed_in(request)
    if principal.actor.role not in (Role.ADMIN, Role.HEAD):
        raise StaffForbidden(POSTERS_ONLY)
    return principal


PosterMaker = Annotated[StaffPrincipal, Depends(require_poster_maker)]


def counters_under(org: Organisation, unit_id: str) -> list[tuple[Unit, Office, Counter]]:
    """The open counters of a unit's subtree, or of one one-stop office, in tree order."""
    if unit_id in org.offices:
        offices = {unit_id}
    elif unit_id in org.units:
        units = set(org.subtree(unit_id))
        offices = {o.id for o in org.offices.values() if o.unit_id in units}
    else:
        return []
    return [
        (unit, office, counter) for unit, office, counter in org.iter_counters()
        if office.id in offices and not counter.closed
    ]


def poster_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def place_of(unit: Unit, office: Office, counter: Counter) -> PosterPlace:
        token = services.qr_token_of(counter.id)
        return PosterPlace(unit, office, counter, f"{services.settings.public_base_url}/q/{token}")

    def in_scope(principal: StaffPrincipal, office: Office) -> bool:
        return office.unit_id in principal.scope

    def refuse(request: Request, status: int) -> Response:
        message = OUT_OF_SCOPE if status == 403 else NO_SUCH_PLACE
        return no_store(error_page(renderer, request, status, message))

    async def places(unit_id: str) -> list[PosterPlace]:
        found = counters_under(services.organisation, unit_id)
        return await anyio.to_thread.run_sync(lambda: [place_of(*row) for row in found])

    def unit_in_scope(principal: StaffPrincipal, unit_id: str) -> bool | None:
        org = services.organisation
        if unit_id in org.offices:
            return in_scope(principal, org.offices[unit_id])
        if unit_id in org.units:
            return unit_id in principal.scope
        return None

    @router.get(POSTERS + "/{counter_id}.svg")
    async def poster(request: Request, counter_id: str, principal: PosterMaker,
                     size: str = "A4") -> Response:
        org = services.organisation
        counter = org.counters.get(counter_id)
        if counter is None or counter.closed or size not in SIZES:
            return refuse(request, 404)
        office = org.office_of(counter)
        if not in_scope(principal, office):
            return refuse(request, 403)
        place = await anyio.to_thread.run_sync(place_of, org.unit_of(counter), office, counter)
        svg = poster_svg(place, size)
        headers = {
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{counter_id}-{size}.svg"',
        }
        return Response(svg, media_type="image/svg+xml", headers=headers)

    @router.get(POSTERS + "/{unit_id}.zip")
    async def posters_of_unit(request: Request, unit_id: str,
                              principal: PosterMaker) -> Response:
        allowed = unit_in_scope(principal, unit_id)
        if allowed is None:
            return refuse(request, 404)
        if not allowed:
            return refuse(request, 403)
        found = await places(unit_id)
        data = await anyio.to_thread.run_sync(posters_zip, found)
        headers = {
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="posters-{unit_id}.zip"',
        }
        return Response(data, media_type="application/zip", headers=headers)

    @router.get(POSTERS + "/{unit_id}")
    async def poster_list(request: Request, unit_id: str, principal: PosterMaker) -> Response:
        allowed = unit_in_scope(principal, unit_id)
        if allowed is None:
            return refuse(request, 404)
        if not allowed:
            return refuse(request, 403)
        org = services.organisation
        context = {
            **staff_context(request, principal),
            "unit": org.units.get(unit_id) or org.offices[unit_id],
            "unit_id": unit_id,
            "places": await places(unit_id),
            "sizes": list(SIZES),
        }
        return no_store(renderer.render(request, "posters.html", context))

    return router

