"""The Unit aggregate: a city, district, ward or commune, or a one-stop office in a unit.

Every change carries the date it takes effect (``effective_on``), the actor who recorded it
and, where it matters, a reason. The unit keeps timelines of its names, parents and heads,
so its state on any past date can be read back ("rõ người, rõ trách nhiệm"). Changes take
effect in the order they are recorded: history is added to, never rewritten.

Commands check their arguments, then trigger an event through a private method decorated
with ``@event``; only that method's body runs again when the aggregate is rebuilt.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.org.errors import InvalidChange
from feedback_core.org.lifetime import DatedLifetime
from feedback_core.org.rules import (
    LEVEL_RANK,
    OFFICE,
    check_actor,
    check_id,
    check_level,
    check_names,
    check_not_before,
    check_reason,
    unit_aggregate_id,
)
from feedback_core.org.timeline import Timeline, change_dates, record, value_on

if TYPE_CHECKING:
    from feedback_core.org.staff import StaffMember


class Unit(DatedLifetime, Aggregate):
    """A unit of the administration: city, district, ward or commune, or a one-stop office."""

    class Created(Aggregate.Created):
        unit_id: str
        name_vi: str
        name_en: str
        level: str
        parent_id: str | None
        effective_on: date
        actor: str
        reason: str

    class Renamed(Aggregate.Event):
        name_vi: str
        name_en: str
        effective_on: date
        actor: str
        reason: str

    class Moved(Aggregate.Event):
        parent_id: str | None
        effective_on: date
        actor: str
        reason: str

    class HeadAppointed(Aggregate.Event):
        username: str
        effective_on: date
        actor: str
        reason: str

    class HeadVacated(Aggregate.Event):
        effective_on: date
        actor: str
        reason: str

    class MergedInto(Aggregate.Event):
        # Open cases of unit_id pass to successor_id from effective_on. unit_id is repeated
        # in this event and in Closed so that a consumer of the log needs no lookup.
        unit_id: str
        successor_id: str
        effective_on: date
        actor: str
        reason: str

    class Closed(Aggregate.Event):
        unit_id: str
        effective_on: date
        actor: str
        reason: str

    class KioskPhotosChanged(Aggregate.Event):
        # Whether the unit's rating kiosks show the counter officer's photo (off by default).
        show: bool
        effective_on: date
        actor: str
        reason: str

    @staticmethod
    def create_id(unit_id: str, **_: object) -> UUID:
        return unit_aggregate_id(unit_id)

    @classmethod
    def create(  # noqa: PLR0913 - the created event carries the whole description
        cls,
        *,
        unit_id: str,
        name_vi: str,
        name_en: str,
        level: str,
        parent: Unit | None,
        effective_on: date,
        actor: str,
        reason: str = "",
    ) -> Unit:
        """A new unit; ``parent`` must exist on ``effective_on``, be open and rank above."""
        check_id("unit", unit_id)
        check_names(name_vi, name_en)
        check_level(level)
        check_actor(actor)
        if parent is None and level == OFFICE:
            raise InvalidChange(f"office {unit_id!r} must belong to a unit")
        if parent is not None:
            parent.check_can_hold(level, effective_on, child=unit_id)
        return cls(
            unit_id=unit_id,
            name_vi=name_vi.strip(),
            name_en=name_en.strip(),
            level=level,
            parent_id=parent.unit_id if parent else None,
            effective_on=effective_on,
            actor=actor,
            reason=reason,
        )

    @event(Created)
    def __init__(  # noqa: PLR0913
        self,
        *,
        unit_id: str,
        name_vi: str,
        name_en: str,
        level: str,
        parent_id: str | None,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.unit_id = unit_id
        self.level = level
        self.opened_on = effective_on
        self.names: Timeline[tuple[str, str]] = [(effective_on, (name_vi, name_en))]
        self.parents: Timeline[str | None] = [(effective_on, parent_id)]
        self.heads: Timeline[str | None] = []
        self.closed_on: date | None = None
        self.successor_id: str | None = None
        self.kiosk_photos: Timeline[bool] = []  # logs before the setting existed: off
        self.last_effective_on = effective_on

    # -- reading ---------------------------------------------------------------------------

    @property
    def name_vi(self) -> str:
        return self.names[-1][1][0]

    @property
    def name_en(self) -> str:
        return self.names[-1][1][1]

    @property
    def parent_id(self) -> str | None:
        return self.parents[-1][1]

    @property
    def head(self) -> str | None:
        return self.heads[-1][1] if self.heads else None

    @property
    def is_office(self) -> bool:
        return self.level == OFFICE

    def parent_on(self, on: date) -> str | None:
        return value_on(self.parents, on) if on >= self.opened_on else self.parents[0][1]

    def head_on(self, on: date) -> str | None:
        """The head on ``on``; None before the first appointment and after the unit closed."""
        return value_on(self.heads, on) if self.exists_on(on) else None

    @property
    def shows_kiosk_photos(self) -> bool:
        return bool(self.kiosk_photos) and self.kiosk_photos[-1][1]

    def shows_kiosk_photos_on(self, on: date) -> bool:
        """Whether the kiosks of this unit showed officers' photos on ``on`` (default off)."""
        return value_on(self.kiosk_photos, on) is True

    def change_dates(self) -> set[date]:
        ends = {self.closed_on} if self.closed_on else set()
        return change_dates(self.parents) | ends

    # -- checks used by other commands -----------------------------------------------------

    def check_open_on(self, on: date, purpose: str) -> None:
        """Refuse when this unit does not exist on ``on`` or has a closure recorded."""
        if self.is_closed:
            raise InvalidChange(f"unit {self.unit_id!r} is closed: cannot {purpose}")
        if on < self.opened_on:
            raise InvalidChange(
                f"unit {self.unit_id!r} exists only from {self.opened_on.isoformat()}: "
                f"cannot {purpose} on {on.isoformat()}"
            )

    def check_can_hold(self, child_level: str, on: date, child: str) -> None:
        """This unit may be the parent of a unit of ``child_level`` from ``on``."""
        self.check_open_on(on, f"hold {child!r}")
        if self.is_office:
            raise InvalidChange(f"{self.unit_id!r} is an office: it holds counters, not units")
        if LEVEL_RANK[self.level] >= LEVEL_RANK[child_level]:
            raise InvalidChange(
                f"a {self.level} ({self.unit_id!r}) cannot hold a {child_level} ({child!r})"
            )

    def _check_change(self, on: date, actor: str, what: str) -> None:
        check_actor(actor)
        self.check_open_on(on, what)
        check_not_before(on, self.last_effective_on, f"{what} of {self.unit_id!r}")

    # -- commands --------------------------------------------------------------------------

    def rename(
        self, name_vi: str, name_en: str, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        check_names(name_vi, name_en)
        self._check_change(effective_on, actor, "rename")
        if (name_vi.strip(), name_en.strip()) == self.names[-1][1]:
            raise InvalidChange(f"unit {self.unit_id!r} already has these names")
        self._renamed(
            name_vi=name_vi.strip(), name_en=name_en.strip(), effective_on=effective_on,
            actor=actor, reason=reason,
        )

    def move_to(self, parent: Unit | None, effective_on: date, actor: str, reason: str) -> None:
        """Put the unit under another parent (None: a top-level unit). Cycles are checked by
        the application, which sees the whole tree."""
        self._check_change(effective_on, actor, "move")
        check_reason(reason, "moving a unit")
        if parent is None:
            if self.is_office:
                raise InvalidChange(f"office {self.unit_id!r} must belong to a unit")
        else:
            if parent.unit_id == self.unit_id:
                raise InvalidChange(f"unit {self.unit_id!r} cannot be its own parent")
            parent.check_can_hold(self.level, effective_on, child=self.unit_id)
        parent_id = parent.unit_id if parent else None
        if parent_id == self.parent_id:
            raise InvalidChange(f"unit {self.unit_id!r} is already under {parent_id!r}")
        self._moved(parent_id=parent_id, effective_on=effective_on, actor=actor, reason=reason)

    def appoint_head(
        self, staff: StaffMember, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        """The staff member is head of the unit from ``effective_on`` (replacing any head)."""
        self._check_change(effective_on, actor, "appoint a head")
        if self.is_office:
            raise InvalidChange(f"{self.unit_id!r} is an office; its unit has the head")
        staff.check_active_on(effective_on, f"head {self.unit_id!r}")
        if self.head == staff.username:
            raise InvalidChange(f"{staff.username!r} is already head of {self.unit_id!r}")
        self._head_appointed(
            username=staff.username, effective_on=effective_on, actor=actor, reason=reason
        )

    def vacate_head(self, effective_on: date, actor: str, reason: str) -> None:
        self._check_change(effective_on, actor, "vacate the head")
        check_reason(reason, "vacating the head of a unit")
        if self.head is None:
            raise InvalidChange(f"unit {self.unit_id!r} has no head")
        self._head_vacated(effective_on=effective_on, actor=actor, reason=reason)

    def merge_into(self, successor: Unit, effective_on: date, actor: str, reason: str) -> None:
        """From ``effective_on`` this unit is closed and ``successor`` answers for it."""
        self._check_change(effective_on, actor, "merge")
        check_reason(reason, "a merger")
        if successor.unit_id == self.unit_id:
            raise InvalidChange(f"unit {self.unit_id!r} cannot be merged into itself")
        successor.check_open_on(effective_on, f"take over {self.unit_id!r}")
        if successor.is_office != self.is_office:
            raise InvalidChange(
                f"a {self.level} ({self.unit_id!r}) cannot be merged into "
                f"a {successor.level} ({successor.unit_id!r})"
            )
        self._merged_into(
            unit_id=self.unit_id, successor_id=successor.unit_id, effective_on=effective_on,
            actor=actor, reason=reason,
        )

    def close(self, effective_on: date, actor: str, reason: str) -> None:
        """The unit is abolished from ``effective_on``, without a successor."""
        self._check_change(effective_on, actor, "close")
        check_reason(reason, "closing a unit")
        self._closed(unit_id=self.unit_id, effective_on=effective_on, actor=actor, reason=reason)

    def set_kiosk_photos(self, show: bool, effective_on: date, actor: str, reason: str = ""
                         ) -> None:
        """Show (or stop showing) the counter officer's photo on this unit's kiosks."""
        self._check_change(effective_on, actor, "change the kiosk setting")
        if self.is_office:
            raise InvalidChange(f"{self.unit_id!r} is an office; the setting is its unit's")
        if show == self.shows_kiosk_photos:
            raise InvalidChange(f"unit {self.unit_id!r} already has this kiosk setting")
        self._kiosk_photos_changed(show=show, effective_on=effective_on, actor=actor,
                                   reason=reason)

    # -- events ----------------------------------------------------------------------------

    @event(Renamed)
    def _renamed(
        self, *, name_vi: str, name_en: str, effective_on: date, actor: str, reason: str
    ) -> None:
        record(self.names, effective_on, (name_vi, name_en))
        self.last_effective_on = effective_on

    @event(Moved)
    def _moved(self, *, parent_id: str | None, effective_on: date, actor: str, reason: str) -> None:
        record(self.parents, effective_on, parent_id)
        self.last_effective_on = effective_on

    @event(HeadAppointed)
    def _head_appointed(
        self, *, username: str, effective_on: date, actor: str, reason: str
    ) -> None:
        record(self.heads, effective_on, username)
        self.last_effective_on = effective_on

    @event(HeadVacated)
    def _head_vacated(self, *, effective_on: date, actor: str, reason: str) -> None:
        record(self.heads, effective_on, None)
        self.last_effective_on = effective_on

    @event(MergedInto)
    def _merged_into(
        self, *, unit_id: str, successor_id: str, effective_on: date, actor: str, reason: str
    ) -> None:
        self.successor_id = successor_id
        self.closed_on = effective_on
        self.last_effective_on = effective_on

    @event(Closed)
    def _closed(self, *, unit_id: str, effective_on: date, actor: str, reason: str) -> None:
        self.closed_on = effective_on
        self.last_effective_on = effective_on

    @event(KioskPhotosChanged)
    def _kiosk_photos_changed(
        self, *, show: bool, effective_on: date, actor: str, reason: str
    ) -> None:
        record(self.kiosk_photos, effective_on, show)
        self.last_effective_on = effective_on
