"""A case's history as the pages show it: staff see who acted; citizens never do."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from feedback_core.organisation import Organisation, Unit
from feedback_core.roles import Role
from projections.queries import TimelineRow
from web.i18n import N_
from web.labels import ASSIGNMENT_LABELS, label

# The reasons a citizen reads: a refusal must give its reasons, an extension says why, and
# a reopening quotes the citizen. Other reasons are the officers' working notes.
PUBLIC_REASONS = frozenset({"refused", "extended", "reopened", "withdrawn"})
CITIZEN = N_("Công dân")
SYSTEM = N_("Hệ thống")


@dataclass(frozen=True)
class TimelineItem:
    """A timeline row with what a page shows for it."""

    row: TimelineRow
    who: str  # a display name, or "" when ``who_label`` (a msgid) says who
    who_label: str = ""
    unit: Unit | None = None  # transfers: the unit named by the row
    code: str = ""  # merges: the other case's tracking code
    due: date | None = None  # extensions: the new due date
    assignment: str = ""  # assignments: msgid of assigned / claimed / reassigned
    text: str = ""  # question, reply, answer, note, or the assignee's name
    reason: str = ""  # why (staff see every reason; citizens those written for them)


def describe(org: Organisation, row: TimelineRow, public: bool = False) -> TimelineItem:
    """``public``: for the citizen, without the officers' names (nor any internal row)."""
    who, who_label = ("", "") if public else _who(org, row)
    text = row.text
    unit = code = assignment = ""
    due = None
    if row.kind in ("transfer_requested", "transferred", "transfer_returned"):
        unit, text = row.text, ""
    elif row.kind in ("merged", "absorbed"):
        code, text = row.text, ""
    elif row.kind == "extended":
        with contextlib.suppress(ValueError):
            due, text = date.fromisoformat(row.text), ""
    elif row.kind == "assigned":
        kind, _, username = row.text.partition(": ")
        assignment = label(ASSIGNMENT_LABELS, kind)
        account = org.staff.get(username)
        text = account.display_name if account else username
    reason = row.reason if not public or row.kind in PUBLIC_REASONS else ""
    return TimelineItem(
        row, who, who_label, org.units.get(unit) if unit else None, code, due, assignment, text,
        reason,
    )


def _who(org: Organisation, row: TimelineRow) -> tuple[str, str]:
    if row.actor_role == Role.CITIZEN:
        return "", CITIZEN
    if row.actor_role == Role.SYSTEM:
        return "", SYSTEM
    account = org.staff.get(row.actor)
    return (account.display_name if account else row.actor), ""


