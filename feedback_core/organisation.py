"""The organisation tree as the spine needs it: units, offices, counters and staff."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unit:
    id: str
    name_vi: str
    name_en: str
    level: str
    parent_id: str | None
    closed: bool = False  # closed or merged on the date the organisation is read as of
    successor_id: str | None = None  # the unit it was merged into, if any
    head: str | None = None  # username of the head of the unit on that date


@dataclass(frozen=True)
class Office:
    id: str
    unit_id: str
    name_vi: str
    name_en: str
    closed: bool = False


@dataclass(frozen=True)
class Counter:
    id: str
    office_id: str
    name_vi: str
    name_en: str
    closed: bool = False


@dataclass(frozen=True)
class StaffAccount:
    username: str
    display_name: str
    role: str
    unit_id: str
    password_hash: str
    totp_secret: str | None = field(default=None, repr=False)  # base32, when 2FA is on
    active: bool = True  # False once deactivated


class UnknownCounter(LookupError):
    pass


@dataclass(frozen=True)
class Organisation:
    units: Mapping[str, Unit]
    offices: Mapping[str, Office]
    counters: Mapping[str, Counter]
    staff: Mapping[str, StaffAccount]

    def counter(self, counter_id: str) -> Counter:
        try:
            return self.counters[counter_id]
        except KeyError:
            raise UnknownCounter(counter_id) from None

    def office_of(self, counter: Counter) -> Office:
        return self.offices[counter.office_id]

    def unit_of(self, counter: Counter) -> Unit:
        return self.units[self.office_of(counter).unit_id]

    def subtree(self, unit_id: str) -> list[str]:
        """The unit and every unit below it: the scope of a staff member of that unit."""
        found = [unit_id]
        for unit in self.units.values():
            if unit.parent_id == unit_id:
                found.extend(self.subtree(unit.id))
        return found

    def iter_counters(self) -> Iterator[tuple[Unit, Office, Counter]]:
        for counter in self.counters.values():
            yield self.unit_of(counter), self.office_of(counter), counter


def organisation_from_dict(data: Mapping[str, Any]) -> Organisation:
    """Build from the parsed JSON of a data file such as ``data/demo_organisation.json``."""
    return Organisation(
        units={u["id"]: Unit(**u) for u in data["units"]},
        offices={o["id"]: Office(**o) for o in data["offices"]},
        counters={c["id"]: Counter(**c) for c in data["counters"]},
        staff={s["username"]: StaffAccount(**s) for s in data["staff"]},
    )
