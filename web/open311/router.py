"""Open311 GeoReport v2 at ``/open311/v2/`` (docs/open311.md).

Every answer, errors included, is in the format the path asks for (``.json``; XML for
``.xml`` and anything else); no error here becomes one of the HTML error pages of the rest
of the app. Reads are public, as the specification has them: a request's public
``service_request_id`` is not its tracking code (the citizen's private authority on the
tracking page), and what anyone reads carries no personal data (``querying.request_data``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from feedback_core.api_clients import ApiClient
from feedback_core.identity import service_request_id_for, tracking_code_for
from feedback_core.intake import ComplaintCategory
from feedback_core.settings import DEMO_API_CLIENTS
from projections.open311_queries import (
    Open311Queries,
    Open311Reader,
    RequestQuery,
    ServiceRequestRow,
)
from projections.queries import ViewQueries
from web.i18n import requested_locale
from web.open311.catalogue import service_definition, service_list
from web.open311.errors import (
    GENERAL_ERROR,
    ErrorItem,
    Open311Error,
    bad_request,
    bilingual,
    forbidden,
    not_found,
)
from web.open311.formats import MIME_TYPES, Data, Format, render, render_errors, w3c
from web.open311.posting import Accepted, PostedForm, accept
from web.open311.querying import by_ids, list_query, request_data
from web.services import WebServices, load_api_clients

log = logging.getLogger(__name__)

BASE_PATH = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
KIND = "open311"  # the ApiClient kind that may use this API
MAX_BODY_BYTES = 100_000  # 4,000 Vietnamese characters percent-encoded are about 36 kB
MAX_FIELDS = 200
PUBLISH_TIMEOUT_SECONDS = 15
RETRY_AFTER_SECONDS = 30  # told to a client whose request the intake log did not take
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
METHODS_OF = {"discovery": "GET", "services": "GET", "requests": "GET POST", "tokens": "GET"}
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
    "Access-Control-Max-Age": "86400",
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class Open311Route(APIRoute):
    """Renders Open311Error (and any failure, as the specification's 400 "general service
    error") in the request's format; allows any origin to read the answers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            fmt = Format.of_path(request.url.path)
            try:
                response = await handler(request)
            except Open311Error as exc:
                response = render_errors(exc.items, exc.status, fmt)
                if exc.status == 503:
                    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            except Exception:
                log.exception("Open311 %s %s failed", request.method, request.url.path)
                response = render_errors([ErrorItem(400, GENERAL_ERROR)], 400, fmt)
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response

        return guarded


def parse_format(fmt: str) -> Format:
    try:
        return Format(fmt)
    except ValueError:
        raise bad_request(
            bilingual(f"Không hỗ trợ định dạng .{fmt}", f"format .{fmt} is not served: use "
                      ".xml or .json")
        ) from None


def open311_routes(services: WebServices, reader: Open311Reader | None = None) -> APIRouter:
    """The GeoReport v2 endpoints.

    ``reader``: the requests read side; by default the views behind ``services.queries``.
    """
    router = APIRouter(prefix=BASE_PATH, route_class=Open311Route)
    resolved: list[Open311Reader] = [reader] if reader is not None else []
    changeset: dict[str, Any] = {}

    def read_side() -> Open311Reader:
        if not resolved:
            queries = services.queries
            if isinstance(queries, Open311Reader):
                resolved.append(queries)
            elif isinstance(queries, ViewQueries):
                resolved.append(Open311Queries(queries.pool, queries.schema))
            else:
                raise RuntimeError("no Open311 read side for these queries")
        return resolved[0]

    def changed_at() -> datetime:
        """When this process first saw the current services: the organisation (units and
        counters in the definitions) is replaced whole when an admin changes it."""
        org = services.organisation
        if changeset.get("org") is not org:
            changeset.update(org=org, at=services.clock())
        at: datetime = changeset["at"]
        return at

    def caller(key: str) -> ApiClient | None:
        """The client presenting ``key``; 403 for a wrong one, None when none is given."""
        if not key:
            return None
        client = load_api_clients(services).authenticate(key, KIND)
        if client is None:
            raise forbidden(
                bilingual("api_key không hợp lệ", "invalid api_key: it is unknown or not an "
                          "Open311 key")
            )
        return client

    async def fetch(query: RequestQuery) -> list[ServiceRequestRow]:
        return await anyio.to_thread.run_sync(read_side().service_requests, query)

    def rendered_requests(
        rows: list[ServiceRequestRow], client: ApiClient | None, extensions: bool
    ) -> list[Data]:
        org = services.organisation
        scope = set(org.subtree(client.unit_id)) if client else set()
        return [
            request_data(row, org, in_scope=row.unit_id in scope, with_extensions=extensions)
            for row in rows
        ]

    @router.get("/discovery.{fmt}")
    async def discovery(request: Request, fmt: str) -> Response:
        f = parse_format(fmt)
        base = services.settings.public_base_url
        at = w3c(changed_at())
        demo = services.settings.api_clients_file == DEMO_API_CLIENTS
        data: Data = {
            "changeset": at,
            "contact": bilingual(
                f"Liên hệ quản trị hệ thống Phản ánh tại {base}/",
                f"contact the administrators of this Phản ánh platform at {base}/",
            ),
            "key_service": bilingual(
                "api_key do quản trị hệ thống cấp cho từng ứng dụng",
                "an api_key per application is issued by the platform administrators",
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{base}{BASE_PATH}",
                    "changeset": at,
                    "type": "test" if demo else "production",
                    "formats": list(MIME_TYPES),
                }
            ],
        }
        return render(data, "discovery", f)

    @router.get("/services.{fmt}")
    async def services_list(request: Request, fmt: str) -> Response:
        return render(service_list(), "services", parse_format(fmt))

    @router.get("/services/{service_code}.{fmt}")
    async def definition(request: Request, service_code: str, fmt: str) -> Response:
        f = parse_format(fmt)
        if service_code not in ComplaintCategory.__members__.values():
            raise not_found(
                bilingual(
                    f"Không có dịch vụ service_code={service_code}",
                    f"service_code {service_code} was not found",
                )
            )
        return render(
            service_definition(service_code, services.organisation), "service_definition", f
        )

    @router.post("/requests.{fmt}")
    async def post_request(request: Request, fmt: str) -> Response:
        f = parse_format(fmt)
        form = await read_form(request)
        keys = [v for v in form.fields.get("api_key", []) if v.strip()]
        key = keys[0].strip() if keys else request.query_params.get("api_key", "").strip()
        key = key or header_key(request)
        client = caller(key)
        if client is None:
            raise forbidden(bilingual("Thiếu api_key", "api_key was not provided"))
        accepted = accept(
            form,
            client,
            services.organisation,
            services.clock(),
            locale=locale_of(request),
            idempotency_key=request.headers.get("idempotency-key", ""),
        )
        await publish(accepted)
        submission_id = accepted.submission.submission_id
        data: Data = [
            {
                "service_request_id": service_request_id_for(submission_id),
                # The tracking code goes to the filing client only, for the citizen.
                "service_notice": notice(accepted, tracking_code_for(submission_id)),
                "account_id": accepted.account_id,
            }
        ]
        return render(data, "service_requests", f)

    async def publish(accepted: Accepted) -> None:
        submission = accepted.submission
        try:
            with anyio.fail_after(PUBLISH_TIMEOUT_SECONDS):
                await services.publisher.publish(submission)
        except Exception:
            log.exception("publishing Open311 submission %s failed", submission.submission_id)
            raise Open311Error(  # 503 + Retry-After: the intake log is down, try again
                503,
                bilingual(
                    "Hệ thống đang bận, chưa ghi nhận được phản ánh; vui lòng gửi lại sau ít "
                    "phút (cùng client_request_id)",
                    "the service is busy and the request was not recorded; retry it in a few "
                    "minutes (with the same client_request_id or Idempotency-Key, it stays "
                    "one request)",
                ),
            ) from None

    def notice(accepted: Accepted, code: str) -> str:
        unit = accepted.route.unit
        url = f"{services.settings.public_base_url}/t/{code}"
        return bilingual(
            f"Đã tiếp nhận. {unit.name_vi} xem xét và trả lời trong thời hạn luật định. "
            f"Theo dõi: {url}",
            f"Received. {unit.name_en} will answer within the legal time limit. "
            f"Track it at {url}",
        )

    @router.get("/requests.{fmt}")
    async def list_requests(request: Request, fmt: str) -> Response:
        f = parse_format(fmt)
        params = multi(request)
        client = caller(_first(params, "api_key") or header_key(request))
        org = services.organisation
        scope = org.subtree(client.unit_id) if client else None
        query = list_query(params, services.clock(), scope)
        rows = await fetch(query)
        data = rendered_requests(rows, client, _extensions(params))
        return render(data, "service_requests", f)

    @router.get("/requests/{request_id}.{fmt}")
    async def one_request(request: Request, request_id: str, fmt: str) -> Response:
        f = parse_format(fmt)
        params = multi(request)
        client = caller(_first(params, "api_key") or header_key(request))
        rows = await fetch(by_ids([request_id]))
        if not rows:
            raise not_found(
                bilingual(
                    f"Không tìm thấy service_request_id={request_id}",
                    f"service_request_id {request_id} was not found",
                )
            )
        return render(rendered_requests(rows, client, _extensions(params)), "service_requests", f)

    @router.get("/tokens/{token}.{fmt}")
    async def token(request: Request, token: str, fmt: str) -> Response:
        parse_format(fmt)
        raise not_found(
            bilingual(
                f"Không có token {token}: máy chủ trả service_request_id ngay, không cấp token",
                f"token {token} was not found: this server answers POST requests with a "
                "service_request_id at once and issues no tokens",
            )
        )

    @router.api_route("/{rest:path}", methods=ALL_METHODS, include_in_schema=False)
    async def elsewhere(request: Request, rest: str) -> Response:
        resource = rest.split("/")[0].split(".")[0]
        if request.method == "OPTIONS":  # a browser's preflight (e.g. for Idempotency-Key)
            return Response(status_code=204, headers=PREFLIGHT)
        if resource in METHODS_OF and request.method not in METHODS_OF[resource].split():
            raise bad_request(
                bilingual(
                    f"Không hỗ trợ {request.method} cho tài nguyên này",
                    f"{request.method} is not supported on this resource",
                )
            )
        raise not_found(
            bilingual(f"Không có tài nguyên {rest}", f"no such resource: {BASE_PATH}/{rest}")
        )

    return router


def multi(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def _first(params: dict[str, list[str]], name: str) -> str:
    found = [v.strip() for v in params.get(name, []) if v.strip()]
    return found[0] if found else ""


def header_key(request: Request) -> str:
    """A key in ``X-Api-Key`` or ``Authorization: Bearer`` (it stays out of access logs,
    which record query strings); the specification's ``api_key`` parameter comes first."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip()


def _extensions(params: dict[str, list[str]]) -> bool:
    return _first(params, "extensions").lower() == "true"


def locale_of(request: Request) -> str:
    """``?lang=``, else the first language the client accepts: English or Vietnamese."""
    asked = requested_locale(request)
    if asked:
        return asked
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "vi"


async def read_form(request: Request) -> PostedForm:
    """The form-encoded body (multipart is read too; files in it are ignored), at most
    MAX_BODY_BYTES, UTF-8."""
    too_large = bad_request(
        bilingual("Nội dung gửi lên quá lớn", f"the request is over {MAX_BODY_BYTES} bytes")
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        if not length.isdigit():
            raise too_large
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
        return PostedForm.from_pairs((k, v) for k, v in form.multi_items() if isinstance(v, str))
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise bad_request(
            bilingual(
                "Gửi dạng application/x-www-form-urlencoded",
                "POST requests are form-encoded: application/x-www-form-urlencoded",
            )
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise bad_request(
            bilingual("Dữ liệu không phải UTF-8 hợp lệ", "the form is not valid UTF-8 "
                      "form encoding")
        ) from None
    return PostedForm.from_pairs(pairs)
