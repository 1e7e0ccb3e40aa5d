"""``POST /api/hotline/v1/calls``: a telephony or CRM system records a hotline call.

The same call as the operator's page (``web.hotline``: the same checks, the same intake
event with ``channel=hotline``), from a machine with an API key (``Authorization: Bearer``
or ``X-Api-Key``) of kind ``hotline``, for a unit in the client's subtree. The submission
id is a function of the client and its own call id, so a retried call is one submission.
Answers are JSON, errors included (401, 403, 413, 422, 503); the contract is in
``docs/hotline-api.md`` and in the app's OpenAPI schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal
from uuid import UUID, uuid5

from fastapi import APIRouter, Depends, Security
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from feedback_core.api_clients import ApiClient
from feedback_core.identity import tracking_code_for
from feedback_core.intake import MAX_DESCRIPTION_CHARS, ComplaintCategory, IntakeError
from web.forms import clean_text
from web.hotline import (
    MAX_CALL_AGE,
    MAX_FORM_BYTES,
    Call,
    description_problem,
    hotline_submission,
    intake_problem,
    normalise_phone,
    phone_problem,
    publish,
    resolve_place,
    time_problem,
)
from web.services import WebServices, load_api_clients

log = logging.getLogger(__name__)

API_PREFIX = "/api/hotline/v1"
CLIENT_KIND = "hotline"
# Submission ids of API calls: uuid5(CALLS_NAMESPACE, "<len(client)>:<client>:<call_id>").
CALLS_NAMESPACE = UUID("37f4b4df-c9fa-45dd-a531-12dd0094a003")
RETRY_AFTER_SECONDS = 5
NO_STORE = {"Cache-Control": "no-store"}

API_MESSAGES: dict[str, str] = {
    "phone_invalid": "caller_number is not a Vietnamese phone number "
    "(e.g. 0912345678, +84912345678, 02438251234)",
    "phone_missing": "wants_callback is true: caller_number is required",
    "time_future": "call_time is in the future",
    "time_too_old": f"call_time is more than {MAX_CALL_AGE.days} days ago",
    "unit_closed": "unit_id is closed or has no open counter",
    "counter_invalid": "counter_id is not an open counter of unit_id",
    "description_missing": "description is empty",
    "description_too_long": f"description has more than {MAX_DESCRIPTION_CHARS} characters",
}


def submission_id_for(client_name: str, call_id: str) -> UUID:
    """The submission id of a client's call: the same call id gives the same submission."""
    return uuid5(CALLS_NAMESPACE, f"{len(client_name)}:{client_name}:{call_id}")


# --- the contract ---------------------------------------------------------------------------


class HotlineCall(BaseModel):
    """One call, as the telephony or CRM system logged it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "call_id": "CALL-2026-11-23-000123",
                    "caller_number": "0912345678",
                    "call_time": "2026-11-23T10:30:00+07:00",
                    "category": "harassment",
                    "unit_id": "nhat-tan",
                    "counter_id": "nhat-tan-q1",
                    "description": "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định.",
                    "wants_callback": True,
                }
            ]
        },
    )

    call_id: str = Field(
        min_length=1, max_length=128,
        description="The client's own id of the call; a retry with the same id is the same "
        "submission (and gets the same tracking code).",
    )
    caller_number: str = Field(
        default="", max_length=32,
        description="Vietnamese phone number of the caller (0912345678, +84 912 345 678, "
        "84912345678; spaces, dots and dashes are ignored). Empty when withheld; required "
        "when wants_callback is true.",
    )
    call_time: AwareDatetime = Field(
        description="When the call was taken: ISO 8601 with a zone, not in the future, at "
        f"most {MAX_CALL_AGE.days} days ago. The legal clock counts from its date in "
        "Asia/Ho_Chi_Minh.",
    )
    category: ComplaintCategory = Field(description="What the complaint is about.")
    unit_id: str = Field(
        min_length=1, max_length=100,
        description="The unit the complaint is about; in the client's subtree.",
    )
    counter_id: str | None = Field(
        default=None, max_length=100,
        description="A counter of that unit, when known; else the unit's first open counter.",
    )
    description: str = Field(
        min_length=1,
        description=f"The caller's complaint, at most {MAX_DESCRIPTION_CHARS} characters.",
        json_schema_extra={"maxLength": MAX_DESCRIPTION_CHARS},
    )
    wants_callback: bool = Field(
        default=False,
        description="The caller wants to be called back with the result (consent to be "
        "contacted about this case).",
    )
    locale: Literal["vi", "en"] = Field(default="vi", description="The caller's language.")


class CallAccepted(BaseModel):
    tracking_code: str = Field(description="Read it to the caller: 12 characters, e.g. "
                               "7KQ2-M9XH-4TBC; the same for a retried call.")
    submission_id: UUID
    status: Literal["accepted"] = "accepted"


class FieldProblem(BaseModel):
    field: str = Field(description="The body field, or 'body' for the whole body.")
    code: str = Field(description="A stable code, e.g. phone_invalid, missing, "
                      "extra_forbidden.")
    message: str


class ApiError(BaseModel):
    error: Literal[
        "unauthorized", "forbidden", "invalid_request", "too_large", "unavailable"
    ]
    message: str
    fields: list[FieldProblem] = Field(default_factory=list)


class ApiProblem(Exception):
    def __init__(
        self, status: int, error: str, message: str,
        fields: list[FieldProblem] | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ApiError.model_validate(
            {"error": error, "message": message, "fields": fields or []}
        )
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body.model_dump(mode="json"), self.status, headers=NO_STORE | self.headers
        )


def unauthorized() -> ApiProblem:
    return ApiProblem(
        401, "unauthorized", "an API key of a hotline client is required "
        "(Authorization: Bearer <key> or X-Api-Key: <key>)",
        headers={"WWW-Authenticate": 'Bearer realm="hotline"'},
    )


def invalid(fields: list[FieldProblem]) -> ApiProblem:
    return ApiProblem(422, "invalid_request", "the call was not accepted: see fields", fields)


def presented_key(request: Request) -> str:
    """The key from ``Authorization: Bearer <key>``, else from ``X-Api-Key``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip()


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc[1:] if isinstance(p, str)] if loc and loc[0] == "body" else []
    return ".".join(parts) or "body"


class JsonErrorsRoute(APIRoute):
    """Errors of this API are JSON (the app's own handlers answer HTML pages to people):
    401 before anything else, then the body's schema (422), then the rest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_FORM_BYTES:
                return ApiProblem(413, "too_large", "the body is too large").response()
            try:
                return await handler(request)
            except ApiProblem as problem:
                return problem.response()
            except RequestValidationError as exc:
                try:
                    authenticated_client(request)
                except ApiProblem as problem:
                    return problem.response()
                fields = [
                    FieldProblem(field=_field_of(e.get("loc", ())), code=str(e.get("type")),
                                 message=str(e.get("msg")))
                    for e in exc.errors()
                ]
                return invalid(fields).response()

        return route


def authenticated_client(request: Request) -> ApiClient:
    """The dependency: the hotline client whose key the request carries, else 401."""
    services: WebServices = request.app.state.services
    client = load_api_clients(services).authenticate(presented_key(request), CLIENT_KIND)
    if client is None:
        raise unauthorized()
    return client


Client = Annotated[ApiClient, Depends(authenticated_client)]
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="The API key")


def hotline_api_routes(services: WebServices) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, route_class=JsonErrorsRoute, tags=["hotline"])

    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": ApiError, "description": "No API key, or not a hotline client's"},
        403: {"model": ApiError, "description": "unit_id is outside the client's subtree"},
        413: {"model": ApiError, "description": "The body is larger than 100 kB"},
        422: {"model": ApiError, "description": "The call is invalid: see fields"},
        503: {"model": ApiError, "description": "The intake log did not acknowledge: retry"},
    }

    @router.post(
        "/calls",
        status_code=202,
        response_model=CallAccepted,
        responses=errors,
        summary="Record a hotline call",
        description="A complaint taken by phone (hotline 1022), recorded on the caller's "
        "behalf. Accepted calls enter the intake log; the case reaches the unit's queue "
        "moments later. Retrying with the same call_id is safe.",
        dependencies=[Security(_bearer), Security(_api_key)],
    )
    async def record_call(
        call: HotlineCall, client: Client
    ) -> Response:
        org = services.organisation  # read per request: admin changes replace it
        scope = org.subtree(client.unit_id)
        counter = call.counter_id or ""
        place, where, problem = resolve_place(org, scope, call.unit_id, counter)
        if problem == "unit_forbidden":
            raise ApiProblem(403, "forbidden", f"unit {call.unit_id!r} is outside the "
                             f"subtree of {client.unit_id!r}")
        fields: list[FieldProblem] = []

        def add(name: str, code: str) -> None:
            fields.append(FieldProblem(field=name, code=code, message=API_MESSAGES[code]))

        if where and problem:
            add(where, problem)
        phone = normalise_phone(call.caller_number)
        if problem := phone_problem(phone, call.wants_callback):
            add("caller_number", problem)
        if problem := time_problem(call.call_time, services.clock()):
            add("call_time", problem)
        text = clean_text(call.description).strip()
        if problem := description_problem(text):
            add("description", problem)
        if fields or place is None:
            raise invalid(fields)
        submission_id = submission_id_for(client.name, call.call_id)
        try:
            submission = hotline_submission(Call(
                submission_id=submission_id,
                place=place,
                call_time=call.call_time,
                category=call.category,
                description=text,
                caller_number=phone,
                wants_callback=call.wants_callback,
                reported_by=client.name,
                locale=call.locale,
            ))
        except IntakeError as exc:
            name, code = intake_problem(exc)
            add(name, code)
            raise invalid(fields) from exc
        if not await publish(services, submission):
            raise ApiProblem(
                503, "unavailable", "the intake log did not acknowledge the call: retry "
                "with the same call_id", headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        accepted = CallAccepted(
            tracking_code=tracking_code_for(submission_id), submission_id=submission_id
        )
        return JSONResponse(accepted.model_dump(mode="json"), 202, headers=NO_STORE)

    return router
