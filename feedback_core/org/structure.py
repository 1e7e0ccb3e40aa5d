"""Rules over the whole tree, checked on every date from a change onwards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from feedback_core.org.aggregates import Unit
from feedback_core.org.errors import InvalidChange


def check_tree(units: Mapping[str, Unit], since: date) -> None:
    """Refuse a tree in which, on ``since`` or any later date where it changes, an open unit
    sits under a unit that is missing or closed, or parents form a cycle.

    Future-dated changes already recorded (a merger decided for next month) are taken
    into account: each date on which some unit opens, moves or closes is checked.
    """
    dates = {since}
    for unit in units.values():
        dates |= {d for d in unit.change_dates() | {unit.opened_on} if d > since}
    for on in sorted(dates):
        _check_parents_open(units, on)
        _check_no_cycle(units, on)


def _check_parents_open(units: Mapping[str, Unit], on: date) -> None:
    for unit in units.values():
        if not unit.exists_on(on):
            continue
        parent_id = unit.parent_on(on)
        if parent_id is None:
            continue
        parent = units.get(parent_id)
        if parent is None or not parent.exists_on(on):
            raise InvalidChange(
                f"on {on.isoformat()} {unit.unit_id!r} would still be under {parent_id!r}, "
                f"which does not exist then: move, merge or close {unit.unit_id!r} first"
            )


def _check_no_cycle(units: Mapping[str, Unit], on: date) -> None:
    for start in units.values():
        if not start.exists_on(on):
            continue
        seen = [start.unit_id]
        parent_id = start.parent_on(on)
        while parent_id is not None:
            if parent_id in seen:
                chain = " → ".join([*seen, parent_id])
                raise InvalidChange(f"on {on.isoformat()} the parents form a cycle: {chain}")
            seen.append(parent_id)
            parent = units.get(parent_id)
            parent_id = parent.parent_on(on) if parent is not None else None
