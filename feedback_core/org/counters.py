"""The Counter aggregate: a counter (quầy) of a one-stop office, where its QR code is posted."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.org.errors import InvalidChange
from feedback_core.org.lifetime import DatedLifetime
from feedback_core.org.rules import (
    check_actor,
    check_id,
    check_names,
    check_not_before,
    check_reason,
    counter_aggregate_id,
)
from feedback_core.org.timeline import Timeline, record

if TYPE_CHECKING:
    from feedback_core.org.units import Unit


class Counter(DatedLifetime, Aggregate):
    """A counter (quầy) of a one-stop office: where the citizen's QR code is posted."""

    class Created(Aggregate.Created):
        counter_id: str
        office_id: str
        name_vi: str
        name_en: str
        effective_on: date
        actor: str
        reason: str

    class Renamed(Aggregate.Event):
        name_vi: str
        name_en: str
        effective_on: date
        actor: str
        reason: str

    class Closed(Aggregate.Event):
        effective_on: date
        actor: str
        reason: str

    @staticmethod
    def create_id(counter_id: str, **_: object) -> UUID:
        return counter_aggregate_id(counter_id)

    @classmethod
    def create(  # noqa: PLR0913
        cls,
        *,
        counter_id: str,
        office: Unit,
        name_vi: str,
        name_en: str,
        effective_on: date,
        actor: str,
        reason: str = "",
    ) -> Counter:
        check_id("counter", counter_id)
        check_names(name_vi, name_en)
        check_actor(actor)
        if not office.is_office:
            raise InvalidChange(
                f"counter {counter_id!r} belongs to an office; {office.unit_id!r} is a "
                f"{office.level}"
            )
        office.check_open_on(effective_on, f"hold counter {counter_id!r}")
        return cls(
            counter_id=counter_id,
            office_id=office.unit_id,
            name_vi=name_vi.strip(),
            name_en=name_en.strip(),
            effective_on=effective_on,
            actor=actor,
            reason=reason,
        )

    @event(Created)
    def __init__(  # noqa: PLR0913
        self,
        *,
        counter_id: str,
        office_id: str,
        name_vi: str,
        name_en: str,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.counter_id = counter_id
        self.office_id = office_id
        self.opened_on = effective_on
        self.names: Timeline[tuple[str, str]] = [(effective_on, (name_vi, name_en))]
        self.closed_on: date | None = None
        self.last_effective_on = effective_on

    def _check_change(self, on: date, actor: str, what: str) -> None:
        check_actor(actor)
        if self.is_closed:
            raise InvalidChange(f"counter {self.counter_id!r} is closed: cannot {what}")
        check_not_before(on, self.last_effective_on, f"{what} of counter {self.counter_id!r}")

    def rename(
        self, name_vi: str, name_en: str, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        check_names(name_vi, name_en)
        self._check_change(effective_on, actor, "rename")
        self._renamed(
            name_vi=name_vi.strip(), name_en=name_en.strip(), effective_on=effective_on,
            actor=actor, reason=reason,
        )

    def close(self, effective_on: date, actor: str, reason: str) -> None:
        self._check_change(effective_on, actor, "close")
        check_reason(reason, "closing a counter")
        self._closed(effective_on=effective_on, actor=actor, reason=reason)

    @event(Renamed)
    def _renamed(
        self, *, name_vi: str, name_en: str, effective_on: date, actor: str, reason: str
    ) -> None:
        record(self.names, effective_on, (name_vi, name_en))
        self.last_effective_on = effective_on

    @event(Closed)
    def _closed(self, *, effective_on: date, actor: str, reason: str) -> None:
        self.closed_on = effective_on
        self.last_effective_on = effective_on
