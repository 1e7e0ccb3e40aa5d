"""Rating kiosks at the counters and the paper-card batches typed in by staff, as events.

A kiosk's device token is ``<counter id>.<serial>.<secret>``: the secret is random, shown
once when staff enrol the tablet, and only its SHA-256 is recorded (in the counter's
``CounterKiosks`` aggregate, like ``qr_codes.CounterQrCodes``). Enrolment and revocation
are events with the staff member as the actor, so an audit can tell which tablet rated for
which counter on any date. A token gives no access but posting ratings for its counter.

A ``PaperBatch`` records who entered a batch of paper satisfaction cards and when; its id
is derived from the batch id (``paper_cards.batch_id_for``), so the same cards entered
twice find the first entry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from feedback_core.application import DateAsISO
from feedback_core.identity import NAMESPACE

_SECRET_BYTES = 18  # 24 URL-safe characters, 144 bits


class DeviceError(ValueError):
    """A kiosk command that cannot be done; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_device_token(token: str) -> tuple[str, int] | None:
    """The counter id and serial of a well-formed token (not yet checked against events)."""
    counter_id, dot, rest = token.partition(".")
    serial, dot2, secret = rest.partition(".")
    if not (dot and dot2 and counter_id and serial.isdigit() and len(secret) >= 16):
        return None
    return counter_id, int(serial)


def counter_kiosks_id(counter_id: str) -> UUID:
    return uuid5(NAMESPACE, f"kiosks:{counter_id}")


def paper_batch_aggregate_id(batch_id: str) -> UUID:
    return uuid5(NAMESPACE, f"paper-batch:{batch_id}")


@dataclass(frozen=True)
class Kiosk:
    counter_id: str
    serial: int
    token_sha256: str
    label: str
    officer: str  # username of the officer shown on the kiosk ("" = none)
    enrolled_at: datetime
    enrolled_by: str
    revoked_at: datetime | None = None
    revoked_by: str = ""
    revoke_reason: str = ""

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class CounterKiosks(Aggregate):
    """Every kiosk ever enrolled for one counter."""

    class Opened(Aggregate.Created):
        counter_id: str

    class Enrolled(Aggregate.Event):
        serial: int
        token_sha256: str
        label: str
        officer: str
        at: datetime
        actor: str

        def apply(self, kiosks: Any) -> None:
            kiosks.kiosks[self.serial] = Kiosk(
                kiosks.counter_id, self.serial, self.token_sha256, self.label, self.officer,
                self.at, self.actor,
            )

    class Revoked(Aggregate.Event):
        serial: int
        at: datetime
        actor: str
        reason: str

        def apply(self, kiosks: Any) -> None:
            old: Kiosk = kiosks.kiosks[self.serial]
            kiosks.kiosks[self.serial] = Kiosk(
                old.counter_id, old.serial, old.token_sha256, old.label, old.officer,
                old.enrolled_at, old.enrolled_by, self.at, self.actor, self.reason,
            )

    @staticmethod
    def create_id(counter_id: str) -> UUID:
        return counter_kiosks_id(counter_id)

    @event(Opened)
    def __init__(self, counter_id: str) -> None:
        self.counter_id = counter_id
        self.kiosks: dict[int, Kiosk] = {}

    def enrol(self, label: str, officer: str, at: datetime, actor: str) -> str:
        serial = len(self.kiosks) + 1
        token = f"{self.counter_id}.{serial}.{secrets.token_urlsafe(_SECRET_BYTES)}"
        self.trigger_event(
            CounterKiosks.Enrolled, serial=serial, token_sha256=token_hash(token),
            label=label.strip(), officer=officer, at=at, actor=actor,
        )
        return token

    def revoke(self, serial: int, at: datetime, actor: str, reason: str) -> None:
        kiosk = self.kiosks.get(serial)
        if kiosk is None:
            raise DeviceError(f"kiosk {serial} was never enrolled for {self.counter_id}")
        if not kiosk.active:
            raise DeviceError(f"kiosk {serial} of {self.counter_id} is already revoked")
        if not reason.strip():
            raise DeviceError("to revoke a kiosk, write the reason")
        self.trigger_event(CounterKiosks.Revoked, serial=serial, at=at, actor=actor,
                           reason=reason.strip())


class KioskState(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # a genuine tablet taken out of service
    INVALID = "invalid"  # unknown, edited or forged


@dataclass(frozen=True)
class KioskCheck:
    state: KioskState
    kiosk: Kiosk | None = None


class PaperBatch(Aggregate):
    """One batch of paper cards, entered once."""

    class Entered(Aggregate.Created):
        batch_id: str
        counter_id: str
        day: date
        cards: int
        at: datetime
        actor: str

    @staticmethod
    def create_id(batch_id: str) -> UUID:
        return paper_batch_aggregate_id(batch_id)

    @event(Entered)
    def __init__(self, batch_id: str, counter_id: str, day: date, cards: int, at: datetime,
                 actor: str) -> None:
        self.batch_id = batch_id
        self.counter_id = counter_id
        self.day = day
        self.cards = cards
        self.at = at
        self.actor = actor


class DevicesApplication(Application[UUID]):
    """Kiosks and paper-card batches (table ``devices_events``)."""

    name = "devices"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def kiosks_of(self, counter_id: str) -> CounterKiosks | None:
        try:
            kiosks: CounterKiosks = self.repository.get(counter_kiosks_id(counter_id))
        except AggregateNotFoundError:
            return None
        return kiosks

    def enrol(self, counter_id: str, at: datetime, actor: str, label: str = "",
              officer: str = "") -> str:
        """A new kiosk for the counter; returns its token (never stored, shown once)."""
        kiosks = self.kiosks_of(counter_id) or CounterKiosks(counter_id)
        token = kiosks.enrol(label, officer, at, actor)
        self.save(kiosks)
        return token

    def revoke(self, counter_id: str, serial: int, at: datetime, actor: str,
               reason: str) -> None:
        kiosks = self.kiosks_of(counter_id)
        if kiosks is None:
            raise DeviceError(f"no kiosk was ever enrolled for {counter_id}")
        kiosks.revoke(serial, at, actor, reason)
        self.save(kiosks)

    def check(self, token: str) -> KioskCheck:
        """Is this the token of an enrolled kiosk in service?"""
        parsed = parse_device_token(token)
        kiosks = self.kiosks_of(parsed[0]) if parsed else None
        kiosk = kiosks.kiosks.get(parsed[1]) if kiosks and parsed else None
        if kiosk is None or not hmac.compare_digest(kiosk.token_sha256, token_hash(token)):
            return KioskCheck(KioskState.INVALID)
        return KioskCheck(KioskState.VALID if kiosk.active else KioskState.REVOKED, kiosk)

    def listed(self, counter_ids: list[str]) -> list[Kiosk]:
        """Every kiosk of these counters, in service or not, counter by counter."""
        found: list[Kiosk] = []
        for counter_id in counter_ids:
            kiosks = self.kiosks_of(counter_id)
            if kiosks is not None:
                found.extend(kiosks.kiosks.values())
        return found

    def batch(self, batch_id: str) -> PaperBatch | None:
        """The first entry of a paper-card batch, or None."""
        try:
            batch: PaperBatch = self.repository.get(paper_batch_aggregate_id(batch_id))
        except AggregateNotFoundError:
            return None
        return batch

    def record_batch(self, batch_id: str, counter_id: str, day: date, cards: int,
                     at: datetime, actor: str) -> bool:
        """Record that the batch was entered; False when it already was (nothing changed)."""
        if self.batch(batch_id) is not None:
            return False
        batch = PaperBatch(batch_id, counter_id, day, cards, at, actor)
        try:
            self.save(batch)
        except IntegrityError:  # entered at the same moment elsewhere
            return False
        return True
