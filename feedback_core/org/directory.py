"""Questions about the tree on a date: the directory the web app reads, successors, heads.

``directory_as_of`` builds the read model ``feedback_core.organisation.Organisation`` as the
tree stood on a date. By default it holds what was in service that day: open units, offices
and counters, active staff. So code that knows nothing of closures (the QR page, the login)
cannot accept a closed counter or a deactivated account. With ``include_retired=True`` it
also holds units, offices and counters closed by then (``closed=True``) and deactivated
staff (``active=False``): for names on old cases and for the admin pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from feedback_core.org.aggregates import Unit
from feedback_core.org.history import HistoryEntry, staff_history, unit_history
from feedback_core.org.state import OrgState
from feedback_core.org.timeline import today
from feedback_core.organisation import Counter, Office, Organisation, StaffAccount
from feedback_core.organisation import Unit as UnitView

__all__ = [
    "HistoryEntry", "OrgReader", "directory_as_of", "directory_from_state", "head_of",
    "responsible_unit", "staff_history", "successor_of", "unit_history",
]


class OrgReader(Protocol):
    """What these queries need from the application (``OrganisationApplication``)."""

    def state(self) -> OrgState: ...

    def unit(self, unit_id: str) -> Unit: ...

    def open_totp_secret(self, username: str, stored: str) -> str: ...


def directory_as_of(
    app: OrgReader, on: date | None = None, *, include_retired: bool = False
) -> Organisation:
    """The organisation on ``on`` (default: today in Hà Nội)."""
    return directory_from_state(
        app.state(), on or today(), include_retired=include_retired,
        open_secret=app.open_totp_secret,
    )


def directory_from_state(
    state: OrgState, on: date, *, include_retired: bool = False,
    open_secret: Callable[[str, str], str] | None = None,
) -> Organisation:
    """As ``directory_as_of``, from aggregates already read; ``open_secret`` reads a sealed
    TOTP secret (the directory holds it in clear, in memory only)."""

    def shown(existed: bool, in_service: bool) -> bool:
        return existed and (in_service or include_retired)

    units: dict[str, UnitView] = {}
    offices: dict[str, Office] = {}
    for unit in state.units.values():
        if not shown(unit.existed_by(on), unit.exists_on(on)):
            continue
        name_vi, name_en = unit.names_on(on)
        closed = not unit.exists_on(on)
        if unit.is_office:
            parent_id = unit.parent_on(on)
            assert parent_id is not None  # an office always belongs to a unit
            offices[unit.unit_id] = Office(unit.unit_id, parent_id, name_vi, name_en, closed)
        else:
            units[unit.unit_id] = UnitView(
                id=unit.unit_id, name_vi=name_vi, name_en=name_en, level=unit.level,
                parent_id=unit.parent_on(on), closed=closed,
                successor_id=unit.successor_id if closed else None, head=unit.head_on(on),
            )
    counters: dict[str, Counter] = {}
    for counter in state.counters.values():
        if shown(counter.existed_by(on), counter.exists_on(on)) and counter.office_id in offices:
            name_vi, name_en = counter.names_on(on)
            counters[counter.counter_id] = Counter(
                counter.counter_id, counter.office_id, name_vi, name_en,
                closed=not counter.exists_on(on),
            )
    staff: dict[str, StaffAccount] = {}
    for member in state.staff.values():
        if shown(member.registered_on <= on, member.active_on(on)):
            staff[member.username] = StaffAccount(
                username=member.username, display_name=member.display_name,
                role=member.role_on(on), unit_id=member.unit_on(on),
                password_hash=member.password_hash,
                totp_secret=(
                    open_secret(member.username, member.totp_secret)
                    if open_secret and member.totp_secret else member.totp_secret
                ),
                active=member.active_on(on),
            )
    return Organisation(units=units, offices=offices, counters=counters, staff=staff)


def successor_of(app: OrgReader, unit_id: str, on: date | None = None) -> str | None:
    """The unit that answers for ``unit_id`` after mergers effective on or before ``on``
    (default: today), following chains (A into B, then B into C: C); None when the unit
    was not merged by then. Raises ``NotFound`` for an unknown unit."""
    on = on or today()
    unit = app.unit(unit_id)
    successor: str | None = None
    seen = {unit_id}
    while unit.successor_id is not None and unit.closed_on is not None and unit.closed_on <= on:
        successor = unit.successor_id
        if successor in seen:  # cannot happen: a unit merges only into an open one
            break
        seen.add(successor)
        unit = app.unit(successor)
    return successor


def responsible_unit(app: OrgReader, unit_id: str, on: date | None = None) -> str | None:
    """The unit in service on ``on`` that answers for ``unit_id``: itself while open, else
    its successor; None before it existed or after a closure without successor."""
    on = on or today()
    unit = app.unit(unit_id)
    if unit.exists_on(on):
        return unit_id
    if not unit.existed_by(on):
        return None
    successor = successor_of(app, unit_id, on)
    if successor is None or not app.unit(successor).exists_on(on):
        return None
    return successor


def head_of(app: OrgReader, unit_id: str, on: date | None = None) -> str | None:
    """Username of the head of ``unit_id`` on ``on`` (default: today); None when the post
    was vacant or the unit was not in service that day."""
    return app.unit(unit_id).head_on(on or today())
