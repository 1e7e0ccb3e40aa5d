"""Every error a person can meet is an HTML page in their language, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from feedback_core.database_errors import DATABASE_OUTAGES
from web.i18n import N_
from web.middleware import apply_security_headers
from web.rendering import Renderer

log = logging.getLogger(__name__)

BACK_HOME = N_("Về trang chủ")
GENERIC = (N_("Đã có lỗi xảy ra"), N_("Yêu cầu không thực hiện được. Vui lòng thử lại."))
PAGES: dict[int, tuple[str, str]] = {
    400: (
        N_("Yêu cầu không hợp lệ"),
        N_("Yêu cầu không hợp lệ. Vui lòng tải lại trang và thử lại."),
    ),
    403: (
        N_("Không được phép"),
        N_("Phiên làm việc đã hết hạn. Vui lòng tải lại trang và thử lại."),
    ),
    404: (
        N_("Không tìm thấy trang"),
        N_("Trang bạn tìm không tồn tại. Vui lòng kiểm tra lại địa chỉ."),
    ),
    405: (N_("Yêu cầu không hợp lệ"), N_("Trang này không hỗ trợ thao tác bạn vừa thực hiện.")),
    413: (N_("Nội dung quá lớn"), N_("Nội dung gửi lên quá lớn. Vui lòng rút gọn và thử lại.")),
    503: (N_("Hệ thống đang bận"), N_("Hệ thống đang bận, xin thử lại sau ít phút.")),
    500: (
        N_("Hệ thống đang gặp sự cố"),
        N_("Hệ thống đang gặp sự cố. Vui lòng thử lại sau ít phút."),
    ),
}


def error_page(
    renderer: Renderer,
    request: Request,
    status_code: int,
    message: str | None = None,
    title: str | None = None,
    *,
    detail: str = "",
    back_url: str = "",
    back_label: str = "",
    params: dict[str, str] | None = None,
) -> HTMLResponse:
    """An error page; ``title``, ``message`` and ``back_label`` are msgids (translated in the
    template), ``message`` formatted with ``params``; ``detail`` is shown as it is (escaped)."""
    default_title, default_message = PAGES.get(status_code, GENERIC)
    context = {
        "title": title or default_title,
        "message": message or default_message,
        "params": params or {},
        "detail": detail,
        "back_url": back_url,
        "back_label": back_label or BACK_HOME,
    }
    return renderer.render(request, "error.html", context, status_code=status_code)


DB_DOWN_TITLE = N_("Hệ thống tạm thời gián đoạn")
DB_DOWN = N_(
    "Hệ thống tạm thời chưa kết nối được cơ sở dữ liệu nên chưa nhận được yêu cầu của bạn. "
    "Vui lòng thử lại sau ít phút."
)
DB_DOWN_TYPED = N_(
    "Hệ thống tạm thời chưa kết nối được cơ sở dữ liệu nên chưa nhận được nội dung bạn gửi. "
    "Nội dung bạn đã nhập ở dưới; vui lòng quay lại và gửi lại sau ít phút."
)
DB_DOWN_API = "The database is unavailable for a moment; nothing was stored. Retry later."
RETRY_AFTER_S = "30"
MAX_TYPED_BODY = 64 * 1024  # a larger form (a photo) is not read back on the error page


async def typed_text(request: Request) -> str:
    """What a person typed in a form's ``description``, to show it back when the request
    failed before the page could read it (the body is still unread then)."""
    if request.method != "POST":
        return ""
    if not request.headers.get("content-type", "").startswith("application/x-www-form"):
        return ""
    try:
        if int(request.headers.get("content-length") or MAX_TYPED_BODY + 1) > MAX_TYPED_BODY:
            return ""
        value = (await request.form()).get("description")
    except Exception:  # noqa: BLE001 - body already read or cut short: nothing to show back
        return ""
    return value.strip() if isinstance(value, str) else ""


def route_of(request: Request) -> str:
    """The route's template (``/t/{code}``), never the path: paths can hold tracking codes."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


def install_error_handlers(app: FastAPI, renderer: Renderer) -> None:
    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        response = error_page(renderer, request, status)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    async def invalid_request(request: Request, exc: Exception) -> Response:
        return error_page(renderer, request, 400)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware stack, so the security headers are added here.
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return apply_security_headers(error_page(renderer, request, 500))

    async def database_unavailable(request: Request, exc: Exception) -> Response:
        """PostgreSQL restarting or unreachable: a 503 saying to try again, not a 500."""
        log.warning(
            "database unavailable on %s %s (%s): answered 503",
            request.method,
            route_of(request),
            type(exc).__name__,
        )
        headers = {"Retry-After": RETRY_AFTER_S}
        path = request.url.path
        if path.startswith("/open311/"):
            body: object = [{"code": 503, "description": DB_DOWN_API}]
            return JSONResponse(body, 503, headers=headers)
        if path.startswith("/api/"):
            body = {"error": "database_unavailable", "message": DB_DOWN_API, "fields": []}
            return JSONResponse(body, 503, headers=headers)
        typed = await typed_text(request)
        message = DB_DOWN_TYPED if typed else DB_DOWN
        response = error_page(renderer, request, 503, message, DB_DOWN_TITLE, detail=typed)
        response.headers.update(headers)
        return response

    for outage in DATABASE_OUTAGES:
        app.add_exception_handler(outage, database_unavailable)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
