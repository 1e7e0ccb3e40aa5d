"""The StaffMember aggregate: a staff account with its role and unit over time."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from feedback_core.org.errors import InvalidChange
from feedback_core.org.passwords import check_password_hash
from feedback_core.org.rules import (
    check_actor,
    check_id,
    check_not_before,
    check_reason,
    check_role,
    staff_aggregate_id,
)
from feedback_core.org.timeline import Timeline, record, value_on

if TYPE_CHECKING:
    from feedback_core.org.units import Unit

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StaffMember(Aggregate):
    """A staff account: role and unit over time (scope = the unit's subtree), argon2 password
    hash, optional TOTP secret, active or deactivated."""

    class Registered(Aggregate.Created):
        username: str
        display_name: str
        role: str
        unit_id: str
        password_hash: str
        effective_on: date
        actor: str
        reason: str

    class DisplayNameChanged(Aggregate.Event):
        display_name: str
        actor: str

    class RoleChanged(Aggregate.Event):
        role: str
        effective_on: date
        actor: str
        reason: str

    class MovedToUnit(Aggregate.Event):
        unit_id: str
        effective_on: date
        actor: str
        reason: str

    class PasswordChanged(Aggregate.Event):
        password_hash: str
        actor: str

    class TotpEnabled(Aggregate.Event):
        secret: str
        actor: str

    class TotpDisabled(Aggregate.Event):
        actor: str
        reason: str

    class Deactivated(Aggregate.Event):
        effective_on: date
        actor: str
        reason: str

    class Reactivated(Aggregate.Event):
        effective_on: date
        actor: str
        reason: str

    class PhotoSet(Aggregate.Event):
        # The SHA-256 of the photo in media.photos: the audit can tell which photo a kiosk
        # showed on a day.
        sha256: str
        effective_on: date
        actor: str
        reason: str

    class PhotoRemoved(Aggregate.Event):
        effective_on: date
        actor: str
        reason: str

    @staticmethod
    def create_id(username: str, **_: object) -> UUID:
        return staff_aggregate_id(username)

    @classmethod
    def register(  # noqa: PLR0913
        cls,
        *,
        username: str,
        display_name: str,
        role: str,
        unit: Unit,
        password_hash: str,
        effective_on: date,
        actor: str,
        reason: str = "",
    ) -> StaffMember:
        check_id("staff", username)
        if not display_name.strip():
            raise InvalidChange("a staff member needs a display name")
        check_role(role)
        check_password_hash(password_hash)
        check_actor(actor)
        _check_staff_unit(unit, effective_on, username)
        return cls(
            username=username,
            display_name=display_name.strip(),
            role=role,
            unit_id=unit.unit_id,
            password_hash=password_hash,
            effective_on=effective_on,
            actor=actor,
            reason=reason,
        )

    @event(Registered)
    def __init__(  # noqa: PLR0913
        self,
        *,
        username: str,
        display_name: str,
        role: str,
        unit_id: str,
        password_hash: str,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.username = username
        self.display_name = display_name
        self.registered_on = effective_on
        self.roles: Timeline[str] = [(effective_on, role)]
        self.units: Timeline[str] = [(effective_on, unit_id)]
        self.active: Timeline[bool] = [(effective_on, True)]
        self.password_hash = password_hash
        self.totp_secret: str | None = None
        self.photos: Timeline[str | None] = []  # logs before photos existed: none
        self.last_effective_on = effective_on

    @property
    def role(self) -> str:
        return self.roles[-1][1]

    @property
    def unit_id(self) -> str:
        return self.units[-1][1]

    @property
    def is_active(self) -> bool:
        return self.active[-1][1]

    @property
    def photo(self) -> str | None:
        """The SHA-256 of the current photo, None without one."""
        return self.photos[-1][1] if self.photos else None

    def photo_on(self, on: date) -> str | None:
        return value_on(self.photos, on)

    def role_on(self, on: date) -> str:
        return value_on(self.roles, on) or self.roles[0][1]

    def unit_on(self, on: date) -> str:
        return value_on(self.units, on) or self.units[0][1]

    def active_on(self, on: date) -> bool:
        active: bool | None = value_on(self.active, on)
        return active is True

    def check_active_on(self, on: date, purpose: str) -> None:
        if not self.is_active or not self.active_on(on):
            raise InvalidChange(
                f"{self.username!r} is not an active staff member on {on.isoformat()}: "
                f"cannot {purpose}"
            )

    def _check_change(self, on: date, actor: str, what: str) -> None:
        check_actor(actor)
        check_not_before(on, self.last_effective_on, f"{what} of {self.username!r}")

    # -- commands --------------------------------------------------------------------------

    def change_display_name(self, display_name: str, actor: str) -> None:
        check_actor(actor)
        if not display_name.strip():
            raise InvalidChange("a staff member needs a display name")
        self._display_name_changed(display_name=display_name.strip(), actor=actor)

    def change_role(self, role: str, effective_on: date, actor: str, reason: str) -> None:
        check_role(role)
        self._check_change(effective_on, actor, "change the role")
        self.check_active_on(effective_on, "change role")
        if role == self.role:
            raise InvalidChange(f"{self.username!r} already has the role {role!r}")
        self._role_changed(role=role, effective_on=effective_on, actor=actor, reason=reason)

    def move_to_unit(self, unit: Unit, effective_on: date, actor: str, reason: str) -> None:
        self._check_change(effective_on, actor, "move")
        self.check_active_on(effective_on, "move to another unit")
        _check_staff_unit(unit, effective_on, self.username)
        if unit.unit_id == self.unit_id:
            raise InvalidChange(f"{self.username!r} is already in {unit.unit_id!r}")
        self._moved_to_unit(
            unit_id=unit.unit_id, effective_on=effective_on, actor=actor, reason=reason
        )

    def change_password(self, password_hash: str, actor: str) -> None:
        check_actor(actor)
        check_password_hash(password_hash)
        self._password_changed(password_hash=password_hash, actor=actor)

    def enable_totp(self, secret: str, actor: str) -> None:
        """Record a TOTP secret (base32, sealed by the application when it has the master
        key: docs/privacy.md); the application checks a code first."""
        check_actor(actor)
        if self.totp_secret is not None:
            raise InvalidChange(f"{self.username!r} already has a second factor; disable it first")
        self._totp_enabled(secret=secret, actor=actor)

    def disable_totp(self, actor: str, reason: str) -> None:
        check_actor(actor)
        check_reason(reason, "removing a second factor")
        if self.totp_secret is None:
            raise InvalidChange(f"{self.username!r} has no second factor")
        self._totp_disabled(actor=actor, reason=reason)

    def deactivate(self, effective_on: date, actor: str, reason: str) -> None:
        self._check_change(effective_on, actor, "deactivate")
        check_reason(reason, "deactivating an account")
        if not self.is_active:
            raise InvalidChange(f"{self.username!r} is already deactivated")
        self._deactivated(effective_on=effective_on, actor=actor, reason=reason)

    def reactivate(self, effective_on: date, actor: str, reason: str) -> None:
        self._check_change(effective_on, actor, "reactivate")
        check_reason(reason, "reactivating an account")
        if self.is_active:
            raise InvalidChange(f"{self.username!r} is active")
        self._reactivated(effective_on=effective_on, actor=actor, reason=reason)

    def set_photo(self, sha256: str, effective_on: date, actor: str, reason: str = "") -> None:
        """``sha256`` names a photo already stored (web/media.py checks and stores it)."""
        if not _SHA256.match(sha256):
            raise InvalidChange("a staff photo is named by its SHA-256 (64 hex digits)")
        self._check_change(effective_on, actor, "set the photo")
        self.check_active_on(effective_on, "set a photo")
        if sha256 == self.photo:
            raise InvalidChange(f"{self.username!r} already has this photo")
        self._photo_set(sha256=sha256, effective_on=effective_on, actor=actor, reason=reason)

    def remove_photo(self, effective_on: date, actor: str, reason: str = "") -> None:
        self._check_change(effective_on, actor, "remove the photo")
        if self.photo is None:
            raise InvalidChange(f"{self.username!r} has no photo")
        self._photo_removed(effective_on=effective_on, actor=actor, reason=reason)

    # -- events ----------------------------------------------------------------------------

    @event(DisplayNameChanged)
    def _display_name_changed(self, *, display_name: str, actor: str) -> None:
        self.display_name = display_name

    @event(RoleChanged)
    def _role_changed(self, *, role: str, effective_on: date, actor: str, reason: str) -> None:
        record(self.roles, effective_on, role)
        self.last_effective_on = effective_on

    @event(MovedToUnit)
    def _moved_to_unit(self, *, unit_id: str, effective_on: date, actor: str, reason: str) -> None:
        record(self.units, effective_on, unit_id)
        self.last_effective_on = effective_on

    @event(PasswordChanged)
    def _password_changed(self, *, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash

    @event(TotpEnabled)
    def _totp_enabled(self, *, secret: str, actor: str) -> None:
        self.totp_secret = secret

    @event(TotpDisabled)
    def _totp_disabled(self, *, actor: str, reason: str) -> None:
        self.totp_secret = None

    @event(Deactivated)
    def _deactivated(self, *, effective_on: date, actor: str, reason: str) -> None:
        record(self.active, effective_on, False)
        self.last_effective_on = effective_on

    @event(Reactivated)
    def _reactivated(self, *, effective_on: date, actor: str, reason: str) -> None:
        record(self.active, effective_on, True)
        self.last_effective_on = effective_on

    @event(PhotoSet)
    def _photo_set(self, *, sha256: str, effective_on: date, actor: str, reason: str) -> None:
        record(self.photos, effective_on, sha256)
        self.last_effective_on = effective_on

    @event(PhotoRemoved)
    def _photo_removed(self, *, effective_on: date, actor: str, reason: str) -> None:
        record(self.photos, effective_on, None)
        self.last_effective_on = effective_on


def _check_staff_unit(unit: Unit, on: date, username: str) -> None:
    """Staff belong to a unit (scope = its subtree), not to an office."""
    if unit.is_office:
        raise InvalidChange(
            f"{username!r} must belong to a unit, not to the office {unit.unit_id!r} "
            "(scopes are subtrees of units)"
        )
    unit.check_open_on(on, f"take staff member {username!r}")
