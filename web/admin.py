"""What the admin pages and the account page share: the applications they write to, the
form fields, dates, and the pages for a refused change."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.calendar_app import CalendarApplication
from feedback_core.org.application import OrganisationApplication
from web.errors import error_page
from web.i18n import N_
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store

UNAVAILABLE = N_("Chức năng này chưa được bật trên máy chủ này. Vui lòng liên hệ bộ phận kỹ thuật.")
REFUSED_TITLE = N_("Thay đổi không được ghi nhận")
REFUSED = N_(
    "Hệ thống không chấp nhận thay đổi này vì trái với quy tắc quản lý. Không có gì được ghi "
    "nhận."
)
MISSING_FIELDS = N_("Vui lòng điền đầy đủ các thông tin bắt buộc.")
BAD_DATE = N_("Ngày không hợp lệ. Vui lòng nhập ngày theo dạng năm-tháng-ngày.")
OUT_OF_SCOPE = N_("Đơn vị, quầy hoặc cán bộ này không thuộc phạm vi quản trị của bạn.")
BACK = N_("Quay lại")
MAX_FIELD_CHARS = 500


class NotConfigured(Exception):
    """The app was started without the application a page writes to."""


def org_app_of(services: WebServices) -> OrganisationApplication:
    if services.org_app is None:
        raise NotConfigured("organisation")
    return services.org_app


def calendar_app_of(services: WebServices) -> CalendarApplication:
    if services.calendar_app is None:
        raise NotConfigured("calendar")
    return services.calendar_app


def not_configured(renderer: Renderer, request: Request) -> Response:
    return no_store(error_page(renderer, request, 503, UNAVAILABLE))


def field(form: Any, name: str) -> str:
    """A text field, trimmed (and cut to a sane length: ids, names, reasons)."""
    value = form.get(name)
    return value.strip()[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def parse_day(text: str, default: date) -> date | None:
    """``YYYY-MM-DD`` (what ``<input type=date>`` sends); the default when empty."""
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def refused(
    renderer: Renderer, request: Request, status: int, message: str, back_url: str,
    detail: str = "", title: str | None = None,
) -> Response:
    return no_store(
        error_page(
            renderer, request, status, message, title, detail=detail, back_url=back_url,
            back_label=BACK,
        )
    )


def refused_change(
    renderer: Renderer, request: Request, error: Exception, back_url: str
) -> Response:
    """A change the domain refused (``OrganisationError``, ``CalendarError``): 422, with the
    domain's own words as the detail."""
    return refused(renderer, request, 422, REFUSED, back_url, str(error), REFUSED_TITLE)


def install_admin_errors(app: FastAPI, renderer: Renderer) -> None:
    async def unavailable(request: Request, exc: Exception) -> Response:
        return not_configured(renderer, request)

    app.add_exception_handler(NotConfigured, unavailable)
