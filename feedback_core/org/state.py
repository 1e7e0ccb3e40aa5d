"""All the organisation's aggregates at once, rebuilt from the application's event log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from feedback_core.org.aggregates import Counter, StaffMember, Unit

PAGE_SIZE = 1000


@dataclass
class OrgState:
    """Units by unit id, counters by counter id, staff members by username."""

    units: dict[str, Unit] = field(default_factory=dict)
    counters: dict[str, Counter] = field(default_factory=dict)
    staff: dict[str, StaffMember] = field(default_factory=dict)


def read_state(app: Application[UUID], wanted: tuple[type, ...] = (Unit, Counter, StaffMember)
               ) -> OrgState:
    """Replay the application's log once, page by page, into the aggregates of the wanted
    types (one scan instead of one query per aggregate; the log holds only this tree)."""
    prefixes = tuple(get_topic(cls) + "." for cls in wanted)
    aggregates: dict[UUID, Any] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start, PAGE_SIZE)
        for notification in page:
            if notification.topic.startswith(prefixes):
                domain_event: Any = app.mapper.to_domain_event(notification)
                aggregates[domain_event.originator_id] = domain_event.mutate(
                    aggregates.get(domain_event.originator_id)
                )
        if len(page) < PAGE_SIZE:
            break
        start = page[-1].id + 1
    state = OrgState()
    for aggregate in aggregates.values():
        if isinstance(aggregate, Unit):
            state.units[aggregate.unit_id] = aggregate
        elif isinstance(aggregate, Counter):
            state.counters[aggregate.counter_id] = aggregate
        elif isinstance(aggregate, StaffMember):
            state.staff[aggregate.username] = aggregate
    return state
