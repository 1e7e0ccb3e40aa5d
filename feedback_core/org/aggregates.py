"""The organisation's aggregates: units, counters and staff members (one module each)."""

from __future__ import annotations

from feedback_core.org.counters import Counter
from feedback_core.org.staff import StaffMember
from feedback_core.org.units import Unit

__all__ = ["Counter", "StaffMember", "Unit"]
