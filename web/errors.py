"""Every error a person can meet is an HTML page in their language, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

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

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
