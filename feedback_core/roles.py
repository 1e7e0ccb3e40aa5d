"""Who acts: staff roles, citizens and the system, with the unit they act for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    OPERATOR = "operator"  # hotline 1022: records complaints on behalf of callers
    HANDLER = "handler"  # works the case queue of a unit
    HEAD = "head"  # head of agency: accountable, extends deadlines, sees the subtree
    INSPECTOR = "inspector"  # reads and replays, never changes a case
    ADMIN = "admin"  # manages the organisation and the calendar, not cases
    CITIZEN = "citizen"  # acts through the tracking code
    SYSTEM = "system"  # the platform itself (e.g. a unit merger moves its cases)


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    unit_id: str

    def stamp(self, at: datetime, reason: str) -> dict[str, Any]:
        """The fields every workflow event carries."""
        return {
            "actor": self.username,
            "actor_role": self.role.value,
            "actor_unit": self.unit_id,
            "at": at,
            "reason": reason,
        }


CITIZEN = Actor("citizen", Role.CITIZEN, "")
SYSTEM = Actor("system", Role.SYSTEM, "")
