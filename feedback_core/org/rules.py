"""The organisation's vocabulary and the checks on its values (ids, names, levels, roles)."""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID, uuid5

from feedback_core.identity import NAMESPACE
from feedback_core.org.errors import InvalidChange
from feedback_core.roles import SYSTEM, Role

# Rank of each level: a parent's rank is strictly lower than its child's. Hà Nội's two-level
# government (2025) puts wards and communes directly under the city; "office" is a one-stop
# office (Bộ phận Một cửa) inside a unit.
LEVEL_RANK: dict[str, int] = {"city": 0, "district": 1, "ward": 2, "commune": 2, "office": 3}
OFFICE = "office"

# The roles a staff account can have: every Role but the citizen and the platform itself.
STAFF_ROLES: tuple[str, ...] = tuple(
    role.value for role in Role if role not in (Role.CITIZEN, Role.SYSTEM)
)

SYSTEM_ACTOR = SYSTEM.username  # "system": changes made by the platform or a data file

_ID = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")


def unit_aggregate_id(unit_id: str) -> UUID:
    return uuid5(NAMESPACE, f"unit:{unit_id}")


def counter_aggregate_id(counter_id: str) -> UUID:
    return uuid5(NAMESPACE, f"counter:{counter_id}")


def staff_aggregate_id(username: str) -> UUID:
    return uuid5(NAMESPACE, f"staff:{username}")


def check_id(kind: str, ident: str) -> None:
    """Lower-case ASCII letters, digits, '.', '_' and '-', at most 64 characters."""
    if not _ID.match(ident):
        raise InvalidChange(
            f"{kind} id {ident!r} must be 1-64 lower-case ASCII letters, digits, '.', '_' or '-'"
        )


def check_names(name_vi: str, name_en: str) -> None:
    if not name_vi.strip() or not name_en.strip():
        raise InvalidChange("a name is needed in Vietnamese and in English")


def check_level(level: str) -> None:
    if level not in LEVEL_RANK:
        raise InvalidChange(f"unknown level {level!r}; one of {', '.join(LEVEL_RANK)}")


def check_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise InvalidChange(f"unknown role {role!r}; one of {', '.join(STAFF_ROLES)}")


def check_actor(actor: str) -> None:
    if not actor.strip():
        raise InvalidChange("every change names its actor (a username or 'system')")


def check_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InvalidChange(f"{what} needs a reason (e.g. the decision that orders it)")


def check_not_before(effective_on: date, last: date, what: str) -> None:
    """Changes to one aggregate take effect in the order they are recorded."""
    if effective_on < last:
        raise InvalidChange(
            f"{what} cannot take effect on {effective_on.isoformat()}: a change effective "
            f"{last.isoformat()} is already recorded (history is not rewritten)"
        )
