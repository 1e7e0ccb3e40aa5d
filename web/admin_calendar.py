"""The calendar admin page: a year's public holidays, and the days off and make-up working
days decreed for it, with the forms that decree and withdraw them (administrators only).

The calendar is one for the whole country (decrees of the government), so it is not scoped
to a subtree: every administrator may enter a decree, and each decree records who did.
Decrees take effect for due dates at once: the case desk reads the calendar application
whenever its log has moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import anyio
import holidays
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.calendar_app import CalendarError, Decree, DecreeKind
from web import csrf
from web.admin import BAD_DATE, MISSING_FIELDS, calendar_app_of, field, refused, refused_change
from web.errors import error_page
from web.flash import flash
from web.i18n import N_, locale_for
from web.principal import Admin
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

CALENDAR = "/admin/calendar"
FIRST_YEAR, LAST_YEAR = 2000, 2100
DECREED = {
    DecreeKind.DAY_OFF: N_("Đã ghi nhận ngày nghỉ %(day)s."),
    DecreeKind.WORKING_DAY: N_("Đã ghi nhận ngày làm việc bù %(day)s."),
}
ALREADY = N_("Quyết định cho ngày %(day)s đã được ghi nhận trước đó; không có gì thay đổi.")
WITHDRAWN = N_("Đã hủy quyết định cho ngày %(day)s.")
KIND_LABELS = {
    DecreeKind.DAY_OFF: N_("Ngày nghỉ theo quyết định"),
    DecreeKind.WORKING_DAY: N_("Ngày làm việc bù"),
}
COMMANDS = {"day-off": DecreeKind.DAY_OFF, "working-day": DecreeKind.WORKING_DAY}


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    overridden: Decree | None  # a decree for the same day wins over the library


def holiday_names(year: int, locale: str) -> dict[date, str]:
    """The holidays library's names in the page's language (the legal clock keeps English)."""
    language = "vi" if locale == "vi" else "en_US"
    return {day: str(name) for day, name in
            holidays.country_holidays("VN", language=language, years=year).items()}


def calendar_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def year_page(year: int) -> str:
        return f"{CALENDAR}?year={year}"

    @router.get(CALENDAR)
    async def calendar_page(request: Request, principal: Admin, year: str = "") -> Response:
        app = calendar_app_of(services)
        today = services.today()
        shown = int(year) if year.isdigit() else today.year
        if not FIRST_YEAR <= shown <= LAST_YEAR:
            shown = today.year

        def read() -> tuple[list[tuple[date, str]], list[Decree]]:
            return app.calendar([shown]).public_holidays(shown), app.decrees(shown)

        public, decrees = await anyio.to_thread.run_sync(read)
        names = holiday_names(shown, locale_for(request))
        by_day = {d.day: d for d in decrees}
        context = {
            **staff_context(request, principal),
            "year": shown,
            "today": today,
            "holidays": [Holiday(day, names.get(day, name), by_day.get(day))
                         for day, name in public],
            "days_off": [d for d in decrees if d.kind is DecreeKind.DAY_OFF],
            "working_days": [d for d in decrees if d.kind is DecreeKind.WORKING_DAY],
            "kind_labels": KIND_LABELS,
        }
        return no_store(renderer.render(request, "admin_calendar.html", context))

    @router.post(CALENDAR + "/{name}")
    async def decree(request: Request, name: str, principal: Admin) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        if name not in (*COMMANDS, "withdraw"):
            return error_page(renderer, request, 404)
        app = calendar_app_of(services)
        text, reason = field(form, "day"), field(form, "reason")
        if not text or not reason:
            return refused(renderer, request, 422, MISSING_FIELDS, CALENDAR)
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return refused(renderer, request, 422, BAD_DATE, CALENDAR)
        actor = principal.username
        try:
            if name == "withdraw":
                await anyio.to_thread.run_sync(app.withdraw, day, reason, actor)
                message = WITHDRAWN
            else:
                kind = COMMANDS[name]
                command = (app.decree_day_off if kind is DecreeKind.DAY_OFF
                           else app.decree_working_day)
                recorded = await anyio.to_thread.run_sync(command, day, reason, actor)
                message = DECREED[kind] if recorded else ALREADY
        except CalendarError as error:
            return refused_change(renderer, request, error, year_page(day.year))
        flash(request, message, params={"day": day.strftime("%d/%m/%Y")})
        return RedirectResponse(year_page(day.year), status_code=303)

    return router
