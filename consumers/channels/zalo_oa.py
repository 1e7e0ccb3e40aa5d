"""Answers to a ward's Zalo OA followers through the OA's send-message API (docs/zalo.md).

A recipient's ``zalo`` address is ``"<OA id>:<follower id>"`` (the OA the citizen wrote to,
from the webhook): the message goes out through that OA, with its access token, as a
customer-service message (``tin tư vấn``)::

    POST <api_base_url>/v3.0/oa/message/cs
    access_token: <the OA's access token>
    Content-Type: application/json

    {"recipient": {"user_id": "<follower id>"}, "message": {"text": "..."}}

The API answers HTTP 200 with ``{"error": 0, "message": "Success", "data": {...}}`` when the
message is accepted and with a negative ``error`` code when it is not. A refused send is
permanent unless the code says "try later" (``RETRIED_ERRORS``); HTTP 408/425/429/5xx and no
answer at all are retried; an invalid or expired access token (``TOKEN_ERRORS``) is renewed
and the message sent once more. The notifier de-duplicates by (notice, address, channel) as for
the other channels: the API has no idempotency key.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from consumers import zalo_tokens  # a module: zalo_tokens imports channels.base
from consumers.channels.base import ChannelError, PermanentChannelError
from consumers.notices import Message, Recipient
from feedback_core.zalo_config import ZaloOaEntry, ZaloOas

if TYPE_CHECKING:
    from consumers.zalo_tokens import AccessTokens

log = logging.getLogger(__name__)

SEND_PATH = "/v3.0/oa/message/cs"
MAX_TEXT_CHARS = 2000  # the API's limit on a text message
RETRIED_STATUSES = frozenset({408, 425, 429})
# Codes worth another try: the request rate limit and Zalo's own internal/unknown errors.
# Everything else (invalid token, not a follower, out of the reply window, invalid user id,
# OA not found...) stays refused however often it is sent: recorded in outbound.failed.
RETRIED_ERRORS = frozenset({-32, -11, -14, -100})
# "Access token invalid" (-216) and "access token expired" (-124): renewed, sent once more.
TOKEN_ERRORS = frozenset({-216, -124})


def zalo_address(oa_id: str, user_id: str) -> str:
    return f"{oa_id}:{user_id}"


def split_address(address: str) -> tuple[str, str]:
    """("<OA id>", "<follower id>") of an address; ("", "") when it is not one."""
    oa_id, sep, user_id = address.partition(":")
    return (oa_id, user_id) if sep and oa_id and user_id else ("", "")


def fitted_text(message: Message) -> str:
    """The whole notice when it fits one Zalo text message, else the short form."""
    return message.body if len(message.body) <= MAX_TEXT_CHARS else message.short


class TokenRejected(PermanentChannelError):
    """The API called the access token invalid or expired (``TOKEN_ERRORS``)."""


async def send_text(
    oa: ZaloOaEntry,
    user_id: str,
    text: str,
    timeout_s: float = 15.0,
    tokens: AccessTokens | None = None,
) -> dict[str, Any]:
    """Send one text message to a follower of ``oa``; the API's ``data`` when accepted.

    The access token comes from ``tokens`` (the configured fixed one without); when the API
    calls it invalid or expired, the token is renewed and the message sent once more.
    Raises ``PermanentChannelError`` or ``ChannelError`` (retry) as the answer says."""
    source: AccessTokens = tokens if tokens is not None else zalo_tokens.FixedTokens()
    token = await source.current(oa)
    try:
        return await _post_text(oa, token, user_id, text, timeout_s)
    except TokenRejected:
        if not oa.refreshes:
            raise
        log.info("Zalo OA %s: access token refused, renewing it", oa.oa_id)
    return await _post_text(oa, await source.renewed(oa, token), user_id, text, timeout_s)


async def _post_text(
    oa: ZaloOaEntry, token: str, user_id: str, text: str, timeout_s: float
) -> dict[str, Any]:
    body = {"recipient": {"user_id": user_id}, "message": {"text": text[:MAX_TEXT_CHARS]}}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(
                oa.api_base_url + SEND_PATH, json=body, headers={"access_token": token}
            )
    except httpx.HTTPError as exc:
        raise ChannelError(f"Zalo OA {oa.oa_id}: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status != 200:
        text_of = f"Zalo OA {oa.oa_id} replied HTTP {status}: {response.text[:200]}"
        if 400 <= status < 500 and status not in RETRIED_STATUSES:
            raise PermanentChannelError(text_of)
        raise ChannelError(text_of)
    try:
        reply = response.json()
        code = int(reply.get("error", -1))
    except (ValueError, TypeError, AttributeError) as exc:
        unreadable = f"Zalo OA {oa.oa_id}: unreadable answer {response.text[:200]!r}"
        raise ChannelError(unreadable) from exc
    if code == 0:
        data = reply.get("data")
        return data if isinstance(data, dict) else {}
    problem = f"Zalo OA {oa.oa_id} refused the message: error {code} {reply.get('message', '')!r}"
    if code in RETRIED_ERRORS:
        raise ChannelError(problem)
    if code in TOKEN_ERRORS:
        raise TokenRejected(problem)
    raise PermanentChannelError(problem)


class ZaloOaChannel:
    """The notifier's channel for followers of the configured OAs."""

    name = "zalo_oa"

    def __init__(
        self, oas: ZaloOas, timeout_s: float = 15.0, tokens: AccessTokens | None = None
    ) -> None:
        self.oas = oas
        self.timeout_s = timeout_s
        # None: the fixed tokens of the configuration; OAs that renew theirs need a store
        # (feedback_cli.notifications gives the notifier the PostgreSQL one).
        self.tokens = tokens

    def can_reach(self, recipient: Recipient) -> bool:
        oa_id, _ = split_address(recipient.zalo)
        return self.oas.get(oa_id) is not None

    def address(self, recipient: Recipient) -> str:
        return recipient.zalo

    async def send(self, recipient: Recipient, message: Message) -> None:
        oa_id, user_id = split_address(recipient.zalo)
        oa = self.oas.get(oa_id)
        if oa is None:  # the OA was removed from the configuration since
            raise PermanentChannelError(f"Zalo OA {oa_id!r} is not configured")
        await send_text(oa, user_id, fitted_text(message), self.timeout_s, self.tokens)
