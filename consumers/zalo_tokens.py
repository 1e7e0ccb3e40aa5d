"""Zalo OA access tokens that refresh themselves (docs/zalo.md, "Access tokens").

An OA access token lasts about 25 hours; its refresh token (about 3 months) gets a new pair
once and only once::

    POST <oauth_base_url>/v4/oa/access_token
    secret_key: <the app's secret key>
    Content-Type: application/x-www-form-urlencoded

    refresh_token=<refresh token>&app_id=<app id>&grant_type=refresh_token

    → {"access_token": "...", "refresh_token": "...", "expires_in": "90000"}

The current pair of each OA lives in PostgreSQL (``zalo.oa_tokens``), both tokens sealed
with a key derived from the personal-data master key. A pair is renewed shortly before it
expires (``REFRESH_MARGIN``) and when the API calls its access token invalid. Because a
refresh token is single-use, renewing is single-flight across processes: under a PostgreSQL
advisory lock on the OA, the process reads the stored pair again and renews only when it is
still the stale one; a second process waiting on the lock then finds the new pair. The new
pair is committed straight after Zalo's answer (the only window in which it can be lost).

``MemoryZaloTokens`` does the same within one process, for apps without a database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import AsyncConnection, sql

from consumers.channels.base import ChannelError, PermanentChannelError
from feedback_core.privacy.keyed import derived_key
from feedback_core.zalo_config import ZaloOaEntry

log = logging.getLogger(__name__)

TOKEN_PATH = "/v4/oa/access_token"
REFRESH_MARGIN = timedelta(minutes=10)  # renew this long before the access token expires
DEFAULT_EXPIRES_IN_S = 90_000  # 25 hours, when an answer leaves expires_in out
DEFAULT_SCHEMA = "zalo"
SEAL_PURPOSE = b"feedback zalo oa token v1"
SEED_PURPOSE = b"feedback zalo oa token seed v1"
SEAL_PREFIX = "zt1:"
NONCE_BYTES = 12
_DDL_LOCK = int.from_bytes(hashlib.sha256(b"zalo-oa-tokens-ddl").digest()[:8], "big", signed=True)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime


class AccessTokens(Protocol):
    """Where the send path gets an OA's access token."""

    async def current(self, oa: ZaloOaEntry) -> str: ...

    async def renewed(self, oa: ZaloOaEntry, rejected: str) -> str:
        """A token other than ``rejected`` (which the API called invalid or expired)."""
        ...


class FixedTokens:
    """The configured ``access_token`` as it is (OAs without a refresh token)."""

    async def current(self, oa: ZaloOaEntry) -> str:
        if oa.refreshes:
            raise PermanentChannelError(
                f"Zalo OA {oa.oa_id} renews its token but this process has no token store"
            )
        return oa.access_token

    async def renewed(self, oa: ZaloOaEntry, rejected: str) -> str:
        raise PermanentChannelError(
            f"Zalo OA {oa.oa_id}: the fixed access token was refused; configure "
            "refresh_token and app_secret so that it renews itself"
        )


async def request_new_pair(
    oa: ZaloOaEntry, refresh_token: str, now: datetime, timeout_s: float = 15.0
) -> TokenPair:
    """Spend ``refresh_token`` on a new pair. ``ChannelError`` when Zalo could not be asked
    (try later), ``PermanentChannelError`` when it refused (the OA must be authorised again)."""
    form = {"refresh_token": refresh_token, "app_id": oa.app_id, "grant_type": "refresh_token"}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(
                oa.oauth_base_url + TOKEN_PATH, data=form, headers={"secret_key": oa.app_secret}
            )
    except httpx.HTTPError as exc:
        raise ChannelError(f"Zalo OA {oa.oa_id} token refresh: {type(exc).__name__}") from exc
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise ChannelError(f"Zalo OA {oa.oa_id} token refresh: HTTP {response.status_code}")
    try:
        answer: Any = response.json()
    except ValueError as exc:
        raise ChannelError(f"Zalo OA {oa.oa_id} token refresh: unreadable answer") from exc
    access = answer.get("access_token") if isinstance(answer, dict) else None
    refresh = answer.get("refresh_token") if isinstance(answer, dict) else None
    if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
        reason = (
            {k: answer.get(k) for k in ("error", "error_name", "error_description")}
            if isinstance(answer, dict)
            else {}
        )
        raise PermanentChannelError(
            f"Zalo OA {oa.oa_id}: the refresh token was refused ({reason}, HTTP "
            f"{response.status_code}); authorise the app on the OA again and configure the "
            "new refresh_token"
        )
    try:
        seconds = int(answer.get("expires_in") or DEFAULT_EXPIRES_IN_S)
    except (TypeError, ValueError):
        seconds = DEFAULT_EXPIRES_IN_S
    return TokenPair(access, refresh, now + timedelta(seconds=seconds))


class TokenBox:
    """Tokens sealed as ``zt1:<base64url(nonce ‖ AES-256-GCM)>``, bound to OA and field."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(derived_key(master_key, SEAL_PURPOSE))
        self._seed_key = derived_key(master_key, SEED_PURPOSE)

    def seal(self, oa_id: str, field: str, token: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, token.encode(), f"{oa_id}:{field}".encode())
        return SEAL_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, oa_id: str, field: str, stored: str) -> str | None:
        """The token; None when this key does not open it (the master key changed)."""
        if not stored.startswith(SEAL_PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(stored[len(SEAL_PREFIX) :])
            clear = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{oa_id}:{field}".encode()
            )
        except (InvalidTag, ValueError):
            return None
        return clear.decode()

    def seed(self, oa: ZaloOaEntry) -> str:
        """A keyed hash of the configured refresh token: a new one in the configuration (the
        OA authorised again) replaces the stored pair."""
        return hmac.new(self._seed_key, oa.refresh_token.encode(), hashlib.sha256).hexdigest()


class Slot(Protocol):
    """One OA's stored pair, held under that OA's lock."""

    stored: TokenPair | None

    async def save(self, pair: TokenPair) -> None: ...


class RefreshingTokens:
    """Current tokens from a store; renewal single-flight under the store's per-OA lock."""

    def __init__(
        self,
        clock: Callable[[], datetime] = _utc_now,
        margin: timedelta = REFRESH_MARGIN,
        timeout_s: float = 15.0,
    ) -> None:
        self.clock = clock
        self.margin = margin
        self.timeout_s = timeout_s
        self._cache: dict[str, TokenPair] = {}
        self.refreshes = 0  # refresh tokens this instance spent

    def locked(self, oa: ZaloOaEntry) -> AbstractAsyncContextManager[Slot]:
        raise NotImplementedError

    def _due(self, pair: TokenPair) -> bool:
        return pair.expires_at - self.margin <= self.clock()

    async def current(self, oa: ZaloOaEntry) -> str:
        if not oa.refreshes:
            return oa.access_token
        pair = self._cache.get(oa.oa_id)
        if pair is None or self._due(pair):
            pair = await self._renew(oa, rejected=None)
        return pair.access_token

    async def renewed(self, oa: ZaloOaEntry, rejected: str) -> str:
        if not oa.refreshes:
            return await FixedTokens().renewed(oa, rejected)
        return (await self._renew(oa, rejected)).access_token

    async def _renew(self, oa: ZaloOaEntry, rejected: str | None) -> TokenPair:
        async with self.locked(oa) as slot:
            stored = slot.stored
            # Another process (or task) may have renewed while this one waited on the lock.
            if stored is not None and not self._due(stored) and stored.access_token != rejected:
                self._cache[oa.oa_id] = stored
                return stored
            refresh_token = stored.refresh_token if stored is not None else oa.refresh_token
            pair = await request_new_pair(oa, refresh_token, self.clock(), self.timeout_s)
            self.refreshes += 1
            await slot.save(pair)
        log.info("Zalo OA %s: access token renewed, valid until %s", oa.oa_id, pair.expires_at)
        self._cache[oa.oa_id] = pair
        return pair


class PostgresZaloTokens(RefreshingTokens):
    """The pairs in ``<schema>.oa_tokens``, sealed; the lock is a transaction-level
    advisory lock per OA, so it is released however the renewing process ends."""

    def __init__(
        self, conninfo: str, master_key: bytes, schema: str = DEFAULT_SCHEMA, **options: Any
    ) -> None:
        super().__init__(**options)
        self.conninfo = conninfo
        self.schema = schema
        self.box = TokenBox(master_key)
        self._table = sql.Identifier(schema, "oa_tokens")
        self._ready = False

    async def _ensure_table(self, conn: AsyncConnection[Any]) -> None:
        if self._ready:
            return
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
            await conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            await conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (oa_id text PRIMARY KEY, seed text NOT NULL,"
                    " access_token text NOT NULL, refresh_token text NOT NULL,"
                    " expires_at timestamptz NOT NULL, renewed_at timestamptz NOT NULL,"
                    " renewals bigint NOT NULL DEFAULT 1)"
                ).format(self._table)
            )
        self._ready = True

    @asynccontextmanager
    async def locked(self, oa: ZaloOaEntry) -> AsyncIterator[Slot]:
        key = int.from_bytes(
            hashlib.sha256(f"zalo-oa-token:{oa.oa_id}".encode()).digest()[:8], "big", signed=True
        )
        async with await AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            await self._ensure_table(conn)
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                yield _PostgresSlot(self, conn, oa, await self._read(conn, oa))

    async def _read(self, conn: AsyncConnection[Any], oa: ZaloOaEntry) -> TokenPair | None:
        query = sql.SQL(
            "SELECT seed, access_token, refresh_token, expires_at FROM {} WHERE oa_id = %s"
        ).format(self._table)
        row = await (await conn.execute(query, (oa.oa_id,))).fetchone()
        if row is None or row[0] != self.box.seed(oa):
            return None  # none yet, or the configuration holds a newer refresh token
        access = self.box.open(oa.oa_id, "access", row[1])
        refresh = self.box.open(oa.oa_id, "refresh", row[2])
        if access is None or refresh is None:
            log.error("Zalo OA %s: stored tokens do not open with this master key", oa.oa_id)
            return None
        return TokenPair(access, refresh, row[3])

    async def write(self, conn: AsyncConnection[Any], oa: ZaloOaEntry, pair: TokenPair) -> None:
        query = sql.SQL(
            "INSERT INTO {} (oa_id, seed, access_token, refresh_token, expires_at, renewed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (oa_id) DO UPDATE SET"
            " seed = EXCLUDED.seed, access_token = EXCLUDED.access_token,"
            " refresh_token = EXCLUDED.refresh_token, expires_at = EXCLUDED.expires_at,"
            " renewed_at = EXCLUDED.renewed_at, renewals = {}.renewals + 1"
        ).format(self._table, sql.Identifier("oa_tokens"))
        await conn.execute(query, (
            oa.oa_id, self.box.seed(oa), self.box.seal(oa.oa_id, "access", pair.access_token),
            self.box.seal(oa.oa_id, "refresh", pair.refresh_token), pair.expires_at,
            self.clock(),
        ))  # fmt: skip


@dataclass
class _PostgresSlot:
    store: PostgresZaloTokens
    conn: AsyncConnection[Any]
    oa: ZaloOaEntry
    stored: TokenPair | None

    async def save(self, pair: TokenPair) -> None:
        await self.store.write(self.conn, self.oa, pair)


class MemoryZaloTokens(RefreshingTokens):
    """The pairs in this process only (apps without a database: tests, demos). A restart
    starts again from the configured refresh token, which Zalo then refuses if spent."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pairs: dict[str, TokenPair] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    @asynccontextmanager
    async def locked(self, oa: ZaloOaEntry) -> AsyncIterator[Slot]:
        key = (id(asyncio.get_running_loop()), oa.oa_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield _MemorySlot(self, oa.oa_id, self.pairs.get(oa.oa_id))


@dataclass
class _MemorySlot:
    store: MemoryZaloTokens
    oa_id: str
    stored: TokenPair | None

    async def save(self, pair: TokenPair) -> None:
        self.store.pairs[self.oa_id] = pair
