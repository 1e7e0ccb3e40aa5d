"""How workflow events change the queue row and the citizen's status, and which of them
the citizen sees on the tracking page's timeline.

Events of one page are folded per case in log order into one patch per case, so the
statements that write them can be grouped by shape without reordering a case's history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from feedback_core.cases import Case, CaseStatus
from feedback_core.local_time import local_date

Patch = dict[str, Any]


@dataclass(frozen=True)
class TimelineEntry:
    """One row of a case's history; ``public`` rows are shown to the citizen."""

    kind: str
    public: bool
    text: Callable[[Any], str] = lambda _e: ""


# Internal notes, assignments, escalations and transfer negotiations stay internal.
TIMELINE: dict[type, TimelineEntry] = {
    Case.Received: TimelineEntry("received", True),
    Case.Accepted: TimelineEntry("accepted", True),
    Case.Refused: TimelineEntry("refused", True),
    Case.Assigned: TimelineEntry("assigned", False, lambda e: f"{e.kind}: {e.assignee}"),
    Case.Started: TimelineEntry("in_progress", True),
    Case.CitizenAsked: TimelineEntry("citizen_asked", True, lambda e: e.question),
    Case.CitizenReplied: TimelineEntry("citizen_replied", True, lambda e: e.reply),
    Case.Answered: TimelineEntry("answered", True, lambda e: e.public_answer),
    Case.Resolved: TimelineEntry("resolved", True),
    Case.Closed: TimelineEntry("closed", True),
    Case.NoteAdded: TimelineEntry("note", False, lambda e: e.text),
    Case.TransferRequested: TimelineEntry("transfer_requested", False, lambda e: e.to_unit),
    Case.TransferAccepted: TimelineEntry("transferred", True, lambda e: e.to_unit),
    Case.TransferReturned: TimelineEntry("transfer_returned", False, lambda e: e.to_unit),
    Case.Escalated: TimelineEntry("escalated", False),
    Case.Withdrawn: TimelineEntry("withdrawn", True),
    Case.Reopened: TimelineEntry("reopened", True),
    Case.CitizenConfirmed: TimelineEntry("citizen_confirmed", True),
    Case.DeadlineExtended: TimelineEntry("extended", True, lambda e: str(e.due_on)),
    Case.MergedInto: TimelineEntry("merged", True, lambda e: e.primary_tracking_code),
    Case.DuplicateAbsorbed: TimelineEntry(
        "absorbed", False, lambda e: e.duplicate_tracking_code
    ),
}

_STATUS_AFTER: dict[type, CaseStatus] = {
    Case.Accepted: CaseStatus.ACCEPTED,
    Case.Refused: CaseStatus.REFUSED,
    Case.Started: CaseStatus.IN_PROGRESS,
    Case.CitizenAsked: CaseStatus.WAITING_FOR_CITIZEN,
    Case.CitizenReplied: CaseStatus.IN_PROGRESS,
    Case.Answered: CaseStatus.ANSWERED,
    Case.Resolved: CaseStatus.RESOLVED,
    Case.Closed: CaseStatus.CLOSED,
    Case.Withdrawn: CaseStatus.WITHDRAWN,
    Case.Reopened: CaseStatus.IN_PROGRESS,
    Case.MergedInto: CaseStatus.MERGED,
}


def queue_patch(event: Any) -> Patch:
    """The columns of the queue row that ``event`` sets (beyond version and time)."""
    patch: Patch = {}
    status = _STATUS_AFTER.get(type(event))
    if status is not None:
        patch["status"] = status.value
    match event:
        case Case.Accepted() | Case.CitizenReplied() | Case.DeadlineExtended():
            patch["due_on"] = event.due_on
    match event:
        case Case.Assigned():
            patch["assignee"] = event.assignee
        case Case.CitizenAsked():
            patch["waiting_since"] = local_date(event.at)
        case Case.CitizenReplied():
            patch["waiting_since"] = None
        case Case.TransferRequested():
            patch["pending_transfer"] = event.to_unit
        case Case.TransferAccepted():
            patch.update(unit_id=event.to_unit, pending_transfer=None, assignee=None)
        case Case.TransferReturned():
            patch["pending_transfer"] = None
        case Case.Escalated():
            patch["escalated"] = True
        case Case.MergedInto():
            patch["merged_into"] = event.primary_id
    return patch


def fold_patches(events: Sequence[Any]) -> dict[UUID, Patch]:
    """One patch per case: later events override earlier ones, in log order."""
    patches: dict[UUID, Patch] = {}
    for event in events:
        if isinstance(event, Case.Step):
            patch = patches.setdefault(event.originator_id, {})
            patch.update(queue_patch(event))
            patch.update(version=event.originator_version, updated_at=event.at)
    return patches


def timeline_row(event: Any) -> dict[str, Any] | None:
    entry = TIMELINE.get(type(event))
    if entry is None:
        return None
    step = isinstance(event, Case.Step)
    return {
        "case_id": event.originator_id,
        "version": event.originator_version,
        "at": event.at if step else event.received_at,
        "kind": entry.kind,
        "actor": event.actor if step else event.channel,
        "actor_role": event.actor_role if step else "citizen",
        "actor_unit": event.actor_unit if step else event.unit_id,
        "reason": event.reason if step else "",
        "text": entry.text(event),
        "public": entry.public,
    }
