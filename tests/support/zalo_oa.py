"""A local stand-in for the Zalo OA Open API, speaking its documented formats, and helpers
to sign webhook events as Zalo does (tests only).

``POST /v3.0/oa/message/cs`` checks the ``access_token`` header and the body
``{"recipient": {"user_id": ...}, "message": {"text": ...}}`` and answers HTTP 200 with
``{"error": 0, "message": "Success", "data": {"message_id": ..., "user_id": ...}}``, or with
the API's error replies: -216 (access token invalid), -201 (parameters invalid), -213 (the
user does not follow the OA); ``fail_next`` queues replies such as -32 (rate limit) or an
HTTP 503 for the next requests.

``POST /v4/oa/access_token`` is the OAuth server's refresh: header ``secret_key`` (the app
secret), form fields ``refresh_token``, ``app_id``, ``grant_type=refresh_token``; it answers
``{"access_token", "refresh_token", "expires_in"}`` with a new pair, spends the refresh token
(a second use is refused, as Zalo does) and records every request in ``token_requests``.
Access tokens it issues expire after ``access_ttl_s``; ``expire_access_tokens()`` ends them
all now. An expired or unknown access token gets -216.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

from web.zalo_webhook import signature_for

OA_ID = "3662729599332560487"
APP_ID = "2553928453557884079"
SECRET = "oa-secret-nhat-tan-2026"
TOKEN = "oa-access-token-nhat-tan"
FOLLOWER = "6142494823556677889"
APP_SECRET = "app-secret-nhat-tan-2026"
REFRESH_TOKEN = "oa-refresh-token-nhat-tan-0"  # the first one, from authorising the app
TOKEN_PATH = "/v4/oa/access_token"


@dataclass
class ZaloApi:
    """What the server received and how it answers next."""

    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    not_followers: set[str] = field(default_factory=set)
    received: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    requests: int = 0
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    # the OAuth side: live refresh tokens, spent ones, issued access tokens' deadlines
    refresh_tokens: set[str] = field(default_factory=lambda: {REFRESH_TOKEN})
    spent_refresh_tokens: set[str] = field(default_factory=set)
    token_deadlines: dict[str, float] = field(default_factory=dict)  # time.monotonic()
    token_requests: list[dict[str, str]] = field(default_factory=list)
    access_ttl_s: int = 90_000
    token_delay_s: float = 0.0  # widens the window two refreshers could race in
    issued: int = 0

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.token_deadlines = {token: 0.0 for token in self.token_deadlines}

    def _token_valid(self, token: str) -> bool:
        if token in self.token_deadlines:
            return time.monotonic() < self.token_deadlines[token]
        return token in self.tokens

    def refresh(self, secret_key: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The documented refresh; a spent or unknown refresh token is refused."""
        if self.token_delay_s:
            time.sleep(self.token_delay_s)
        with self.lock:
            self.token_requests.append(dict(form))
            if secret_key != APP_SECRET or form.get("app_id") != APP_ID:
                return 200, {"error": -14002, "error_name": "Invalid app",
                             "error_description": "app_id or secret_key is invalid"}  # fmt: skip
            if form.get("grant_type") != "refresh_token":
                return 200, {"error": -14003, "error_name": "Invalid grant_type"}
            presented = form.get("refresh_token", "")
            if presented not in self.refresh_tokens:
                why = "used already" if presented in self.spent_refresh_tokens else "unknown"
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": why}  # fmt: skip
            self.refresh_tokens.discard(presented)
            self.spent_refresh_tokens.add(presented)
            self.issued += 1
            access, refresh = f"oa-access-{self.issued}", f"oa-refresh-{self.issued}"
            self.refresh_tokens.add(refresh)
            self.token_deadlines[access] = time.monotonic() + self.access_ttl_s
            return 200, {"access_token": access, "refresh_token": refresh,
                         "expires_in": str(self.access_ttl_s)}  # fmt: skip

    def answer(self, token: str, body: Any) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests += 1
            if self.fail_next:
                return self.fail_next.pop(0)
            if not self._token_valid(token):
                return 200, {"error": -216, "message": "Access token is invalid"}
            recipient = body.get("recipient") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
            text = message.get("text") if isinstance(message, dict) else None
            if not isinstance(user_id, str) or not isinstance(text, str) or not text:
                return 200, {"error": -201, "message": "Parameters invalid"}
            if user_id in self.not_followers:
                return 200, {"error": -213, "message": "User has not followed OA"}
            self.received.append({"token": token, "user_id": user_id, "text": text})
            data = {"message_id": uuid4().hex, "user_id": user_id}
            return 200, {"error": 0, "message": "Success", "data": data}


def _handler(api: ZaloApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == TOKEN_PATH:
                fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self._reply(*api.refresh(self.headers.get("secret_key", ""), fields))
                return
            if self.path != "/v3.0/oa/message/cs":
                self._reply(404, {"error": 404, "message": "not found"})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            self._reply(*api.answer(self.headers.get("access_token", ""), body))

        def _reply(self, status: int, data: dict[str, Any]) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def zalo_api_server() -> Iterator[ZaloApi]:
    api = ZaloApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="zalo-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def oa_config(base_url: str, unit_id: str = "nhat-tan", refreshing: bool = False) -> str:
    """FEEDBACK_ZALO_OAS for one OA of ``unit_id`` whose API (and, ``refreshing``, whose
    OAuth server, the token then renewing itself) is at ``base_url``."""
    entry: dict[str, str] = {
        "unit_id": unit_id, "oa_id": OA_ID, "app_id": APP_ID, "secret_key": SECRET,
        "access_token": TOKEN, "api_base_url": base_url,
    }  # fmt: skip
    if refreshing:
        del entry["access_token"]
        entry |= {"app_secret": APP_SECRET, "refresh_token": REFRESH_TOKEN,
                  "oauth_base_url": base_url}  # fmt: skip
    return json.dumps([entry])


def text_event(
    text: str,
    msg_id: str,
    timestamp_ms: int,
    follower: str = FOLLOWER,
    oa_id: str = OA_ID,
    event_name: str = "user_send_text",
) -> bytes:
    """A follower's text message as Zalo posts it."""
    return json.dumps({
        "app_id": APP_ID, "user_id_by_app": "979122185046046317", "event_name": event_name,
        "sender": {"id": follower}, "recipient": {"id": oa_id},
        "message": {"text": text, "msg_id": msg_id}, "timestamp": str(timestamp_ms),
    }, ensure_ascii=False).encode()  # fmt: skip


def signed_headers(body: bytes, secret: str = SECRET, app_id: str = APP_ID) -> dict[str, str]:
    timestamp = str(json.loads(body)["timestamp"])
    return {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": signature_for(app_id, body, timestamp, secret),
    }
