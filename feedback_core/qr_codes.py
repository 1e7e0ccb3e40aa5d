"""QR codes of the counters: signed tokens whose whole life is recorded as events.

A token is ``<counter id>.<serial>.<signature>``, e.g. ``nhat-tan-q1.2.k3q9m2xa``: the
signature is 8 base32 characters of HMAC-SHA256 over ``<counter id>.<serial>`` with the
signing key in force when the code was issued. Keys come from configuration
(``FEEDBACK_QR_KEYS``); rotating adds a new signing key and gives the old one a date until
which codes signed with it stay valid (the grace period for replacing printed posters).
Issuing and revoking are events of the counter's ``CounterQrCodes`` aggregate, so an audit
can tell which code pointed where on any date.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Recording

from feedback_core.application import DateAsISO
from feedback_core.identity import NAMESPACE
from feedback_core.local_time import local_date

_SIGNATURE_CHARS = 8


class QrError(ValueError):
    """A QR command that cannot be done; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    secret: bytes = field(repr=False)
    valid_until: date | None = None  # None: in force; a date: retired, accepted until then


@dataclass(frozen=True)
class Keyring:
    """The signing key (first) and the retired keys still accepted."""

    keys: tuple[SigningKey, ...]

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    def get(self, key_id: str, on: date) -> SigningKey | None:
        for key in self.keys:
            if key.key_id == key_id and (key.valid_until is None or on <= key.valid_until):
                return key
        return None


def keyring_from_config(spec: str, fallback_secret: bytes) -> Keyring:
    """``"k2=secret2;k1=secret1@2026-12-31"``: newest first, ``@date`` ends a retired key's
    grace period. Empty: one key ``k1`` derived from the application's secret key."""
    if not spec.strip():
        derived = hmac.new(fallback_secret, b"qr-codes", hashlib.sha256).digest()
        return Keyring((SigningKey("k1", derived),))
    keys = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        key_id, _, rest = part.partition("=")
        secret, _, until = rest.partition("@")
        if not key_id or not secret:
            raise QrError(f"FEEDBACK_QR_KEYS: write key_id=secret[@YYYY-MM-DD], got {part!r}")
        retired = date.fromisoformat(until) if until else None
        keys.append(SigningKey(key_id, secret.encode(), retired))
    if keys[0].valid_until is not None:
        raise QrError("FEEDBACK_QR_KEYS: the first key signs new codes and cannot be retired")
    return Keyring(tuple(keys))


def signature(counter_id: str, serial: int, key: SigningKey) -> str:
    mac = hmac.new(key.secret, f"{counter_id}.{serial}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower()[:_SIGNATURE_CHARS]


def parse_token(token: str) -> tuple[str, int, str] | None:
    counter_id, dot, rest = token.partition(".")
    serial, dot2, sig = rest.partition(".")
    if not (dot and dot2 and counter_id and serial.isdigit() and len(sig) == _SIGNATURE_CHARS):
        return None
    return counter_id, int(serial), sig


def counter_codes_id(counter_id: str) -> UUID:
    return uuid5(NAMESPACE, f"qr-codes:{counter_id}")


@dataclass(frozen=True)
class IssuedCode:
    token: str
    counter_id: str
    serial: int
    key_id: str
    issued_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str = ""

    def active_on(self, at: datetime) -> bool:
        return self.issued_at <= at and (self.revoked_at is None or at < self.revoked_at)


class CounterQrCodes(Aggregate):
    """Every code ever issued for one counter."""

    class Opened(Aggregate.Created):
        counter_id: str

    class Issued(Aggregate.Event):
        token: str
        serial: int
        key_id: str
        at: datetime
        actor: str
        reason: str

        def apply(self, codes: Any) -> None:
            codes.codes[self.token] = IssuedCode(
                self.token, codes.counter_id, self.serial, self.key_id, self.at
            )

    class Revoked(Aggregate.Event):
        token: str
        at: datetime
        actor: str
        reason: str

        def apply(self, codes: Any) -> None:
            old = codes.codes[self.token]
            codes.codes[self.token] = IssuedCode(
                old.token, old.counter_id, old.serial, old.key_id, old.issued_at,
                self.at, self.reason,
            )

    @staticmethod
    def create_id(counter_id: str) -> UUID:
        return counter_codes_id(counter_id)

    @event(Opened)
    def __init__(self, counter_id: str) -> None:
        self.counter_id = counter_id
        self.codes: dict[str, IssuedCode] = {}

    def issue(self, key: SigningKey, at: datetime, actor: str, reason: str) -> str:
        serial = len(self.codes) + 1
        token = f"{self.counter_id}.{serial}.{signature(self.counter_id, serial, key)}"
        self.trigger_event(
            CounterQrCodes.Issued, token=token, serial=serial, key_id=key.key_id, at=at,
            actor=actor, reason=reason,
        )
        return token

    def revoke(self, token: str, at: datetime, actor: str, reason: str) -> None:
        code = self.codes.get(token)
        if code is None:
            raise QrError(f"{token} was never issued for counter {self.counter_id}")
        if code.revoked_at is not None:
            raise QrError(f"{token} is already revoked")
        if not reason.strip():
            raise QrError("to revoke a code, write the reason")
        self.trigger_event(CounterQrCodes.Revoked, token=token, at=at, actor=actor, reason=reason)

    def active(self, at: datetime) -> list[IssuedCode]:
        return [c for c in self.codes.values() if c.active_on(at)]


class TokenState(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # a genuine code taken out of service: show a clear page
    EXPIRED = "expired"  # signed with a retired key past its grace period
    INVALID = "invalid"  # unknown, edited or forged


@dataclass(frozen=True)
class TokenCheck:
    state: TokenState
    counter_id: str | None = None


def check_token(
    codes: CounterQrCodes | None, token: str, keyring: Keyring, at: datetime
) -> TokenCheck:
    """The state of ``token`` at ``at``, given its counter's codes (None: no such counter).
    Pure: a cache of the aggregates (web.qr_cache) checks with the same rules."""
    parsed = parse_token(token)
    code = codes.codes.get(token) if codes and parsed else None
    if parsed is None or code is None:
        return TokenCheck(TokenState.INVALID)
    key = keyring.get(code.key_id, local_date(at))
    if key is None:
        known = any(k.key_id == code.key_id for k in keyring.keys)
        return TokenCheck(TokenState.EXPIRED if known else TokenState.INVALID, code.counter_id)
    if not hmac.compare_digest(parsed[2], signature(parsed[0], parsed[1], key)):
        return TokenCheck(TokenState.INVALID)
    if not code.active_on(at):
        return TokenCheck(TokenState.REVOKED, code.counter_id)
    return TokenCheck(TokenState.VALID, code.counter_id)


class QrCodesApplication(Application[UUID]):
    name = "qrcodes"
    # Saves through this instance, counted so that a reader's cache in the same process
    # (web.qr_cache) drops what it holds at once; other processes' saves show through the
    # log position.
    saves_here: int = 0

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        self.saves_here += 1

    def max_notification_id(self) -> int:
        """The position of the last QR event in the log (0 when none): one cheap query."""
        return self.recorder.max_notification_id() or 0

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def codes_of(self, counter_id: str) -> CounterQrCodes | None:
        try:
            codes: CounterQrCodes = self.repository.get(counter_codes_id(counter_id))
        except AggregateNotFoundError:
            return None
        return codes

    def issue(self, counter_id: str, keyring: Keyring, at: datetime, actor: str,
              reason: str = "") -> str:
        codes = self.codes_of(counter_id) or CounterQrCodes(counter_id)
        token = codes.issue(keyring.current, at, actor, reason)
        self.save(codes)
        return token

    def revoke(self, token: str, at: datetime, actor: str, reason: str) -> None:
        parsed = parse_token(token)
        codes = self.codes_of(parsed[0]) if parsed else None
        if codes is None:
            raise QrError(f"{token} is not a code of any counter")
        codes.revoke(token, at, actor, reason)
        self.save(codes)

    def ensure_codes(self, counter_ids: Iterable[str], keyring: Keyring, at: datetime,
                     actor: str = "system") -> dict[str, str]:
        """A code in service for every counter (issuing where none is); idempotent."""
        tokens = {}
        for counter_id in counter_ids:
            codes = self.codes_of(counter_id)
            active = codes.active(at) if codes else []
            current = [c for c in active if c.key_id == keyring.current.key_id]
            tokens[counter_id] = (
                current[-1].token if current
                else self.issue(counter_id, keyring, at, actor, "first code of the counter")
            )
        return tokens

    def check(self, token: str, keyring: Keyring, at: datetime) -> TokenCheck:
        """Is this a code in service now? Checked against the events, then the signature."""
        parsed = parse_token(token)
        return check_token(self.codes_of(parsed[0]) if parsed else None, token, keyring, at)

    def history(self, counter_id: str) -> list[Mapping[str, Any]]:
        """Every issue and revocation of a counter's codes, in order (for audits)."""
        rows: list[Mapping[str, Any]] = []
        for e in self.events.get(counter_codes_id(counter_id)):
            if isinstance(e, CounterQrCodes.Issued | CounterQrCodes.Revoked):
                rows.append({"event": type(e).__name__, "token": e.token, "at": e.at,
                             "actor": e.actor, "reason": e.reason})
        return rows
