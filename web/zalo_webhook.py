"""``POST /zalo/webhook``: a ward's Zalo Official Account hands us its followers' messages.

Zalo posts each OA event as JSON with the header ``X-ZEvent-Signature: mac=<hex>``, where
``<hex>`` is SHA-256 (plain, not HMAC) of ``app id + raw body + timestamp + OA secret key``
(the ``timestamp`` of the body, in milliseconds). The OA is the event's ``recipient.id``
(``sender.id`` for the OA's own messages); its entry in ``FEEDBACK_ZALO_OAS`` gives the ward,
the app id and the secret. What happens, in order:

- body larger than ``MAX_BODY_BYTES`` → 413; not JSON → 400; no ``event_name`` (a URL check)
  → 200, nothing done;
- no configured OA → 404; bad or missing signature → 401; timestamp further than
  ``FEEDBACK_ZALO_WEBHOOK_MAX_AGE_S`` from our clock → 401 (a replay): nothing published;
- any event but ``user_send_text`` → 200 ``ignored`` (its name logged, nothing personal);
- a text message → an intake event (``channel=zalo``, the text as the complaint, the follower
  as ``contact_zalo`` = ``"<OA id>:<follower id>"``, sealed by the core like a phone number),
  submission id ``uuid5(ZALO_NAMESPACE, "<OA id>:<msg_id>")`` so a redelivered event is one
  submission; 200 once the intake log acknowledged it, 503 otherwise (Zalo sends it again);
- after answering, the follower is told the tracking code through the OA's send API (once
  per message per web process; a lost reply is harmless: the first notice carries the code),
  with the OA's current access token (renewed when due: consumers/zalo_tokens.py).

Answers are JSON. The contract and the reasons: docs/zalo.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import anyio
from fastapi import APIRouter
from psycopg_pool import ConnectionPool
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse

from consumers.channels.zalo_oa import send_text
from consumers.zalo_tokens import AccessTokens, MemoryZaloTokens, PostgresZaloTokens
from feedback_core.identity import tracking_code_for
from feedback_core.intake import (
    MAX_DESCRIPTION_CHARS,
    Channel,
    IntakeError,
    IntakeSubmission,
)
from feedback_core.organisation import Organisation
from feedback_core.zalo_config import ZaloConfigError, ZaloOaEntry, ZaloOas, load_zalo_oas
from web.forms import Placement, clean_text
from web.hotline import resolve_place
from web.services import WebServices

log = logging.getLogger(__name__)

ROUTE = "/zalo/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT_EVENT = "user_send_text"
MAX_BODY_BYTES = 64_000
PUBLISH_TIMEOUT_SECONDS = 10
RETRY_AFTER_SECONDS = 5
REPLIES_REMEMBERED = 10_000
# Submission ids of Zalo messages: uuid5(ZALO_NAMESPACE, "<OA id>:<msg_id>").
ZALO_NAMESPACE = UUID("5b0c7d0e-2f8a-4c61-9d3e-7a1f0b6c2e94")
NO_STORE = {"Cache-Control": "no-store"}


def received_text(unit_name: str, code: str, base_url: str) -> str:
    """The bot's reply: the message is a complaint now, with its tracking code."""
    return (
        f"{unit_name} đã nhận phản ánh, kiến nghị của Ông/Bà. Mã theo dõi: {code}.\n"
        f"Xem tình trạng giải quyết: {base_url.rstrip('/')}/t/{code}\n"
        "Kết quả giải quyết sẽ được gửi lại qua Zalo này."
    )


def submission_id_for(oa_id: str, msg_id: str) -> UUID:
    """The same message of the same OA, delivered again, is the same submission."""
    return uuid5(ZALO_NAMESPACE, f"{oa_id}:{msg_id}")


def signature_for(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    """The header value Zalo sends: ``mac=`` + sha256(appId + data + timeStamp + secret)."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret_key.encode())
    return "mac=" + digest.hexdigest()


def signature_valid(oa: ZaloOaEntry, body: bytes, timestamp: str, header: str) -> bool:
    presented = header.strip()
    if not presented.lower().startswith("mac="):
        presented = "mac=" + presented  # some proxies drop the prefix
    expected = signature_for(oa.app_id, body, timestamp, oa.secret_key)
    return hmac.compare_digest(expected.encode(), presented.encode())


def problem(status: int, error: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status, headers=NO_STORE | headers)


def _id(data: dict[str, Any], key: str) -> str:
    part = data.get(key)
    return str(part.get("id") or "") if isinstance(part, dict) else ""


def oa_of(event: dict[str, Any], oas: ZaloOas) -> ZaloOaEntry | None:
    """The configured OA an event belongs to: the recipient of a follower's message, the
    sender of the OA's own, or ``oa_id`` (follow events)."""
    for candidate in (_id(event, "recipient"), _id(event, "sender"), str(event.get("oa_id", ""))):
        oa = oas.get(candidate) if candidate else None
        if oa is not None:
            return oa
    return None


def event_time(event: dict[str, Any]) -> tuple[str, datetime | None]:
    """The ``timestamp`` as signed (text) and as a time; None when it is not milliseconds."""
    raw = event.get("timestamp")
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not text.isdigit():
        return text, None
    try:
        return text, datetime.fromtimestamp(int(text) / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        return text, None


class RecentReplies:
    """Submissions whose tracking code this process already sent back (bounded)."""

    def __init__(self, size: int = REPLIES_REMEMBERED) -> None:
        self.size = size
        self._seen: OrderedDict[UUID, None] = OrderedDict()

    def first_time(self, submission_id: UUID) -> bool:
        if submission_id in self._seen:
            return False
        self._seen[submission_id] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def placement_of(org: Organisation, oa: ZaloOaEntry) -> Placement | None:
    place, _, _ = resolve_place(org, [oa.unit_id], oa.unit_id, oa.counter_id)
    return place


def token_source(services: WebServices) -> AccessTokens:
    """The OA tokens in the platform's PostgreSQL (shared with the notifier, renewed
    single-flight); in memory for an app without a database."""
    pool = getattr(services.queries, "pool", None)
    if isinstance(pool, ConnectionPool) and isinstance(pool.conninfo, str):
        return PostgresZaloTokens(pool.conninfo, services.settings.personal_data_master)
    return MemoryZaloTokens()


def zalo_routes(services: WebServices) -> APIRouter:
    """The webhook; the OAs are read and checked now (a bad configuration stops the start)."""
    oas = load_zalo_oas(services.settings.zalo_oas)
    unknown = [oa.unit_id for oa in oas.by_oa_id.values()
               if oa.unit_id not in services.organisation.units]  # fmt: skip
    if unknown:
        raise ZaloConfigError(f"Zalo OA configuration: unknown unit(s) {', '.join(unknown)}")
    max_age = timedelta(seconds=services.settings.zalo_webhook_max_age_s)
    replies = RecentReplies()
    refreshing = any(oa.refreshes for oa in oas.by_oa_id.values())
    tokens = token_source(services) if refreshing else None
    router = APIRouter(tags=["zalo"])

    @router.get(ROUTE, include_in_schema=False)
    async def webhook_check() -> JSONResponse:
        """A URL check: the endpoint is there (events are POSTed)."""
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    @router.post(ROUTE, include_in_schema=False)
    async def webhook(request: Request) -> JSONResponse:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return problem(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return problem(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return problem(400, "invalid_json", "the body is not JSON")
        if not isinstance(event, dict):
            return problem(400, "invalid_json", "the body is not a JSON object")
        if "event_name" not in event:
            return JSONResponse({"status": "ok"}, headers=NO_STORE)  # the console's URL check
        oa = oa_of(event, oas)
        if oa is None:
            log.warning("zalo webhook: event for an OA that is not configured")
            return problem(404, "unknown_oa", "no configured Zalo OA for this event")
        timestamp, at = event_time(event)
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header or not signature_valid(oa, body, timestamp, header):
            log.warning("zalo webhook: bad signature for OA %s", oa.oa_id)
            return problem(401, "bad_signature", f"{SIGNATURE_HEADER} does not match the body")
        now = services.clock()
        if at is None or abs(now - at) > max_age:
            log.warning("zalo webhook: stale or undated event for OA %s", oa.oa_id)
            return problem(401, "stale", "the event's timestamp is too old (or in the future)")
        name = str(event.get("event_name"))
        if name != TEXT_EVENT:
            log.info("zalo webhook: %s from OA %s ignored", name[:40], oa.oa_id)
            return JSONResponse({"status": "ignored"}, headers=NO_STORE)
        return await _text_message(event, oa, at)

    async def _text_message(event: dict[str, Any], oa: ZaloOaEntry, at: datetime) -> JSONResponse:
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        assert isinstance(message, dict)
        follower, msg_id = _id(event, "sender"), str(message.get("msg_id") or "")
        text = clean_text(str(message.get("text") or "")).strip()
        if not follower or not msg_id or len(msg_id) > 128:
            return problem(422, "invalid_event", "sender.id and message.msg_id are required")
        if not text:
            log.info("zalo webhook: empty text from OA %s ignored", oa.oa_id)
            return JSONResponse({"status": "ignored"}, headers=NO_STORE)
        if len(text) > MAX_DESCRIPTION_CHARS:
            return problem(
                422, "too_long", f"the text has more than {MAX_DESCRIPTION_CHARS} characters"
            )
        place = placement_of(services.organisation, oa)
        if place is None:
            log.error("zalo webhook: unit %s of OA %s has no open counter", oa.unit_id, oa.oa_id)
            return problem(
                503,
                "unavailable",
                "the ward of this OA takes no submissions now",
                **{"Retry-After": "3600"},
            )
        submission_id = submission_id_for(oa.oa_id, msg_id)
        try:
            submission = IntakeSubmission(
                submission_id=submission_id, channel=Channel.ZALO, unit_id=place.unit_id,
                office_id=place.office_id, counter_id=place.counter_id, submitted_at=at,
                rating=None, description=text, contact_zalo=f"{oa.oa_id}:{follower}",
                wants_updates=True,
            )  # fmt: skip
        except IntakeError as exc:
            return problem(422, "invalid_event", f"not accepted: {exc.code}")
        if not await _publish(submission):
            return problem(
                503,
                "unavailable",
                "the intake log did not acknowledge: send again",
                **{"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        code = tracking_code_for(submission_id)
        reply = None
        if replies.first_time(submission_id):
            reply = BackgroundTask(_reply, oa, follower, code)
        return JSONResponse({"status": "accepted", "tracking_code": code},
                            headers=NO_STORE, background=reply)  # fmt: skip

    async def _publish(submission: IntakeSubmission) -> bool:
        try:
            with anyio.fail_after(PUBLISH_TIMEOUT_SECONDS):
                await services.publisher.publish(submission)
        except Exception:
            log.exception("publishing Zalo message %s failed", submission.submission_id)
            return False
        return True

    async def _reply(oa: ZaloOaEntry, follower: str, code: str) -> None:
        unit = services.organisation.units.get(oa.unit_id)
        text = received_text(
            unit.name_vi if unit else oa.unit_id, code, services.settings.public_base_url
        )
        try:
            await send_text(oa, follower, text, tokens=tokens)
        except Exception as exc:  # the case is stored; the first notice carries the code too
            log.warning("zalo webhook: reply through OA %s failed: %s", oa.oa_id, exc)

    return router
