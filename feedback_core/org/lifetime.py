"""What units and counters read alike: open from one date, closed from another (or not),
named on dates. Their events set the fields; this mixin only reads them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from feedback_core.org.timeline import Timeline, value_on


class DatedLifetime:
    """``opened_on``, ``closed_on`` (None while open, set once a closure is recorded, even
    one effective in the future) and the ``names`` timeline of (name_vi, name_en)."""

    if TYPE_CHECKING:  # set by the aggregate's events; no class annotations at run time
        opened_on: date
        closed_on: date | None
        names: Timeline[tuple[str, str]]

    @property
    def is_closed(self) -> bool:
        """True once a closure or merger is recorded, even one effective in the future."""
        return self.closed_on is not None

    def existed_by(self, on: date) -> bool:
        """Created on or before ``on`` (closed or not)."""
        return self.opened_on <= on

    def exists_on(self, on: date) -> bool:
        """Open on ``on``: created on or before it and not closed or merged by then."""
        return self.opened_on <= on and (self.closed_on is None or on < self.closed_on)

    def names_on(self, on: date) -> tuple[str, str]:
        """(name_vi, name_en) in force on ``on``; the first names before it existed."""
        return value_on(self.names, on) or self.names[0][1]
