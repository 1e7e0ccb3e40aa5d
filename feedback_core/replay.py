"""Replay of one case for an inspector (pure: the events and a way to load a version are
given). For each stored event: when (the business time ``at`` the actor gave, and the
store's recording time ``timestamp``), who (actor, role, unit), what (the event's kind),
why (the reason), through which channel, and the case's state *after* that step, as the
library rebuilds it (``repository.get(case_id, version=v)``). ``as_of`` picks the case as it
stood at a moment: the last version whose business time is not after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from feedback_core.cases import Case


@dataclass(frozen=True)
class CaseState:
    """What an inspector compares from step to step."""

    version: int
    status: str
    unit_id: str
    assignee: str | None
    due_on: date
    pending_transfer: str | None
    escalated: bool
    merged_into: UUID | None
    duplicates: tuple[UUID, ...]

    @classmethod
    def of(cls, case: Case) -> CaseState:
        return cls(
            version=case.version,
            status=str(case.status.value),
            unit_id=case.unit_id,
            assignee=case.assignee,
            due_on=case.due_on,
            pending_transfer=case.pending_transfer,
            escalated=case.escalated,
            merged_into=case.merged_into,
            duplicates=tuple(case.duplicates),
        )


@dataclass(frozen=True)
class Link:
    """Another case or unit a step points to."""

    kind: str  # merged_into | absorbed | transfer_requested | transferred | transfer_returned
    case_id: UUID | None = None
    tracking_code: str = ""
    from_unit: str = ""
    to_unit: str = ""


@dataclass(frozen=True)
class ReplayStep:
    version: int
    event: Any  # the domain event, as the store decoded it
    event_type: str  # e.g. "Accepted"
    at: datetime  # business time (the Received event: when the citizen submitted)
    recorded_at: datetime  # the event's ``timestamp``: when the store got it
    actor: str
    actor_role: str
    actor_unit: str
    reason: str
    channel: str  # of the case (how it came in)
    state: CaseState  # the case after this step
    links: tuple[Link, ...]


def _links(event: Any) -> tuple[Link, ...]:
    if isinstance(event, Case.MergedInto):
        return (Link("merged_into", event.primary_id, event.primary_tracking_code),)
    if isinstance(event, Case.DuplicateAbsorbed):
        return (Link("absorbed", event.duplicate_id, event.duplicate_tracking_code),)
    if isinstance(event, Case.TransferRequested):
        return (Link("transfer_requested", from_unit=event.actor_unit, to_unit=event.to_unit),)
    if isinstance(event, Case.TransferAccepted):
        return (Link("transferred", from_unit=event.from_unit, to_unit=event.to_unit),)
    if isinstance(event, Case.TransferReturned):
        return (Link("transfer_returned", to_unit=event.to_unit),)
    return ()


def replay(events: Sequence[Any], load: Callable[[int], Case]) -> list[ReplayStep]:
    """The steps of a case; ``events`` in version order (``app.events.get(case_id)``),
    ``load(v)`` the case at version ``v`` (``app.repository.get(case_id, version=v)``)."""
    steps: list[ReplayStep] = []
    channel = ""
    for event in events:
        version = int(event.originator_version)
        if isinstance(event, Case.Received):
            channel = event.channel
            # A hotline operator records a call on the caller's behalf (``reported_by``).
            who = (
                (event.reported_by, "operator", event.unit_id)
                if event.reported_by
                else ("citizen", "citizen", "")
            )
            at, reason = event.received_at, ""
        else:
            who = (event.actor, event.actor_role, event.actor_unit)
            at, reason = event.at, event.reason
        steps.append(
            ReplayStep(
                version=version,
                event=event,
                event_type=type(event).__name__,
                at=at,
                recorded_at=event.timestamp,
                actor=who[0],
                actor_role=who[1],
                actor_unit=who[2],
                reason=reason,
                channel=channel,
                state=CaseState.of(load(version)),
                links=_links(event),
            )
        )
    return steps


def as_of(steps: Sequence[ReplayStep], moment: datetime) -> ReplayStep | None:
    """The last step whose business time is not after ``moment`` (None: not yet received).

    Business times only grow along a case (each step is stamped by the desk's clock when
    it is taken), so this is the state an observer would have seen at ``moment``."""
    found = None
    for step in steps:
        if step.at <= moment:
            found = step
        else:
            break
    return found


def related_cases(steps: Sequence[ReplayStep]) -> list[Link]:
    """Every case this one was merged into or absorbed, in order, once each."""
    seen: dict[UUID, Link] = {}
    for step in steps:
        for link in step.links:
            if link.case_id is not None and link.case_id not in seen:
                seen[link.case_id] = link
    return list(seen.values())
