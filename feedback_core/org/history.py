"""The recorded history of a unit, counter or staff member: what changed, from when, who
recorded it and why. Password hashes and TOTP secrets are never shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from feedback_core.org.errors import NotFound
from feedback_core.org.rules import counter_aggregate_id, staff_aggregate_id, unit_aggregate_id

HIDDEN = "(hidden)"
_SECRET_FIELDS = frozenset({"password_hash", "secret"})
_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "actor", "reason",
     "effective_on"}
)


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    change: str  # the event's name: Created, Renamed, MergedInto, HeadAppointed, ...
    effective_on: date | None  # None for changes without a date (password, second factor)
    recorded_at: datetime
    actor: str
    reason: str
    details: dict[str, Any]

    def describe(self) -> str:
        """One line: ``2025-07-01  MergedInto  successor_id=tay-ho  by system: NQ 1656``."""
        when = self.effective_on.isoformat() if self.effective_on else "-"
        fields = "  ".join(f"{key}={value}" for key, value in self.details.items())
        why = f": {self.reason}" if self.reason else ""
        return f"{when}  {self.change:<18} {fields}  by {self.actor}{why}".rstrip()


class EventReader(Protocol):
    def events_of(self, aggregate_id: UUID) -> list[Any]: ...


def unit_history(app: EventReader, unit_id: str) -> list[HistoryEntry]:
    return _history(app, unit_aggregate_id(unit_id), "unit", unit_id)


def counter_history(app: EventReader, counter_id: str) -> list[HistoryEntry]:
    return _history(app, counter_aggregate_id(counter_id), "counter", counter_id)


def staff_history(app: EventReader, username: str) -> list[HistoryEntry]:
    return _history(app, staff_aggregate_id(username), "staff member", username)


def _history(app: EventReader, aggregate_id: UUID, kind: str, ident: str) -> list[HistoryEntry]:
    events = app.events_of(aggregate_id)
    if not events:
        raise NotFound(kind, ident)
    return [_entry(e) for e in events]


def _entry(domain_event: Any) -> HistoryEntry:
    state = vars(domain_event)
    details = {
        key: HIDDEN if key in _SECRET_FIELDS else value
        for key, value in state.items()
        if key not in _ENVELOPE
    }
    return HistoryEntry(
        version=domain_event.originator_version,
        change=type(domain_event).__name__,
        effective_on=state.get("effective_on"),
        recorded_at=domain_event.timestamp,
        actor=state.get("actor", ""),
        reason=state.get("reason", ""),
        details=details,
    )
