"""A batch of organisation commands, checked together and saved in one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from feedback_core.org.aggregates import Counter, StaffMember, Unit
from feedback_core.org.errors import AlreadyExists, InvalidChange, NotFound, OrganisationError
from feedback_core.org.rules import check_actor
from feedback_core.org.state import read_state
from feedback_core.org.structure import check_tree
from feedback_core.org.totp import verify_totp

if TYPE_CHECKING:
    from feedback_core.org.application import OrganisationApplication


class ConflictingChange(OrganisationError):
    """Someone else changed the same aggregates at the same time: read again and retry."""


P = ParamSpec("P")
R = TypeVar("R")


def _command(
    method: Callable[Concatenate[OrgChanges, P], R],
) -> Callable[Concatenate[OrgChanges, P], R]:
    """All or nothing: once a command of the batch is refused, the batch saves nothing
    (a refused command may have changed some aggregates in memory before it failed)."""

    @functools.wraps(method)
    def run(self: OrgChanges, *args: P.args, **kwargs: P.kwargs) -> R:
        self._check_not_failed()
        try:
            return method(self, *args, **kwargs)
        except BaseException as error:
            self._failed = error
            raise

    return run


class OrgChanges:
    """Commands by one actor against one view of the tree; ``commit()`` checks the tree and
    saves every changed aggregate at once (all or nothing).

    Use it through ``OrganisationApplication.changes(actor)``, a context manager that
    commits when the block ends without an exception.
    """

    def __init__(self, app: OrganisationApplication, actor: str) -> None:
        check_actor(actor)
        self._app = app
        self.actor = actor
        self._units: dict[str, Unit] = {}
        self._counters: dict[str, Counter] = {}
        self._staff: dict[str, StaffMember] = {}
        self._all_units_read = False
        self._all_counters_read = False
        self._all_staff_read = False
        self._failed: BaseException | None = None
        self._changed: dict[UUID, Aggregate] = {}
        self._tree_changed_on: date | None = None

    # -- reading, with this batch's changes -----------------------------------------------

    def unit(self, unit_id: str) -> Unit:
        if unit_id not in self._units:
            if self._all_units_read:
                raise NotFound("unit", unit_id)
            self._units[unit_id] = self._app.unit(unit_id)
        return self._units[unit_id]

    def counter(self, counter_id: str) -> Counter:
        if counter_id not in self._counters:
            if self._all_counters_read:
                raise NotFound("counter", counter_id)
            self._counters[counter_id] = self._app.counter(counter_id)
        return self._counters[counter_id]

    def staff_member(self, username: str) -> StaffMember:
        if username not in self._staff:
            if self._all_staff_read:
                raise NotFound("staff member", username)
            self._staff[username] = self._app.staff_member(username)
        return self._staff[username]

    def has_unit(self, unit_id: str) -> bool:
        return self._has(self.unit, unit_id)

    def has_counter(self, counter_id: str) -> bool:
        return self._has(self.counter, counter_id)

    def has_staff(self, username: str) -> bool:
        return self._has(self.staff_member, username)

    def all_units(self) -> dict[str, Unit]:
        """Every unit, read once per batch; the ones this batch touched are kept as they are."""
        if not self._all_units_read:
            for unit_id, unit in read_state(self._app, (Unit,)).units.items():
                self._units.setdefault(unit_id, unit)
            self._all_units_read = True
        return self._units

    def read_everything(self) -> None:
        """Read the whole tree once, so later lookups (``has_unit``...) need no query:
        worth it before many commands, as when loading a file."""
        state = read_state(self._app)
        for unit_id, unit in state.units.items():
            self._units.setdefault(unit_id, unit)
        for counter_id, counter in state.counters.items():
            self._counters.setdefault(counter_id, counter)
        for username, member in state.staff.items():
            self._staff.setdefault(username, member)
        self._all_units_read = self._all_counters_read = self._all_staff_read = True

    def all_counters(self) -> dict[str, Counter]:
        """Every counter, read once per batch, like ``all_units``."""
        if not self._all_counters_read:
            for counter_id, counter in read_state(self._app, (Counter,)).counters.items():
                self._counters.setdefault(counter_id, counter)
            self._all_counters_read = True
        return self._counters

    # -- units ----------------------------------------------------------------------------

    @_command
    def create_unit(  # noqa: PLR0913
        self, unit_id: str, *, name_vi: str, name_en: str, level: str, parent_id: str | None,
        effective_on: date, reason: str = "",
    ) -> Unit:
        if self.has_unit(unit_id):
            raise AlreadyExists("unit", unit_id)
        unit = Unit.create(
            unit_id=unit_id, name_vi=name_vi, name_en=name_en, level=level,
            parent=self.unit(parent_id) if parent_id is not None else None,
            effective_on=effective_on, actor=self.actor, reason=reason,
        )
        self._units[unit_id] = unit
        self._tree_change(unit, effective_on)
        return unit

    @_command
    def rename_unit(
        self, unit_id: str, *, name_vi: str, name_en: str, effective_on: date, reason: str = ""
    ) -> None:
        unit = self.unit(unit_id)
        unit.rename(name_vi, name_en, effective_on, self.actor, reason)
        self._touch(unit)

    @_command
    def move_unit(
        self, unit_id: str, *, parent_id: str | None, effective_on: date, reason: str
    ) -> None:
        unit = self.unit(unit_id)
        parent = self.unit(parent_id) if parent_id is not None else None
        unit.move_to(parent, effective_on, self.actor, reason)
        self._tree_change(unit, effective_on)

    @_command
    def merge_unit(self, unit_id: str, *, into: str, effective_on: date, reason: str) -> None:
        """Merge ``unit_id`` into ``into``: its offices and their counters close with it; its
        open cases pass to the successor (see ``directory.successor_of``)."""
        unit = self.unit(unit_id)
        unit.merge_into(self.unit(into), effective_on, self.actor, reason)
        self._tree_change(unit, effective_on)
        self._close_offices_of(unit, effective_on, f"{unit_id} merged into {into}: {reason}")

    @_command
    def close_unit(self, unit_id: str, *, effective_on: date, reason: str) -> None:
        """Abolish a unit without successor; its offices and counters close with it. Units
        still under it must be moved, merged or closed first."""
        unit = self.unit(unit_id)
        unit.close(effective_on, self.actor, reason)
        self._tree_change(unit, effective_on)
        self._close_offices_of(unit, effective_on, f"{unit_id} closed: {reason}")

    @_command
    def appoint_head(
        self, unit_id: str, *, username: str, effective_on: date, reason: str = ""
    ) -> None:
        unit = self.unit(unit_id)
        unit.appoint_head(self.staff_member(username), effective_on, self.actor, reason)
        self._touch(unit)

    @_command
    def vacate_head(self, unit_id: str, *, effective_on: date, reason: str) -> None:
        unit = self.unit(unit_id)
        unit.vacate_head(effective_on, self.actor, reason)
        self._touch(unit)

    def _close_offices_of(self, unit: Unit, on: date, reason: str) -> None:
        offices = [unit] if unit.is_office else [
            u for u in self.all_units().values()
            if u.is_office and u.parent_id == unit.unit_id and not u.is_closed
        ]
        for office in offices:
            if office is not unit:
                office.close(on, self.actor, reason)
                self._touch(office)
            for counter in self._open_counters_of(office.unit_id):
                counter.close(on, self.actor, reason)
                self._touch(counter)

    def _open_counters_of(self, office_id: str) -> list[Counter]:
        return [
            c for c in self.all_counters().values() if c.office_id == office_id and not c.is_closed
        ]

    # -- counters --------------------------------------------------------------------------

    @_command
    def create_counter(  # noqa: PLR0913
        self, counter_id: str, *, office_id: str, name_vi: str, name_en: str,
        effective_on: date, reason: str = "",
    ) -> Counter:
        if self.has_counter(counter_id):
            raise AlreadyExists("counter", counter_id)
        counter = Counter.create(
            counter_id=counter_id, office=self.unit(office_id), name_vi=name_vi,
            name_en=name_en, effective_on=effective_on, actor=self.actor, reason=reason,
        )
        self._counters[counter_id] = counter
        self._touch(counter)
        return counter

    @_command
    def rename_counter(
        self, counter_id: str, *, name_vi: str, name_en: str, effective_on: date, reason: str = ""
    ) -> None:
        counter = self.counter(counter_id)
        counter.rename(name_vi, name_en, effective_on, self.actor, reason)
        self._touch(counter)

    @_command
    def close_counter(self, counter_id: str, *, effective_on: date, reason: str) -> None:
        counter = self.counter(counter_id)
        counter.close(effective_on, self.actor, reason)
        self._touch(counter)

    # -- staff -----------------------------------------------------------------------------

    @_command
    def register_staff(  # noqa: PLR0913
        self, username: str, *, display_name: str, role: str, unit_id: str, password_hash: str,
        effective_on: date, reason: str = "",
    ) -> StaffMember:
        if self.has_staff(username):
            raise AlreadyExists("staff member", username)
        member = StaffMember.register(
            username=username, display_name=display_name, role=role, unit=self.unit(unit_id),
            password_hash=password_hash, effective_on=effective_on, actor=self.actor,
            reason=reason,
        )
        self._staff[username] = member
        self._touch(member)
        return member

    @_command
    def change_display_name(self, username: str, *, display_name: str) -> None:
        member = self.staff_member(username)
        member.change_display_name(display_name, self.actor)
        self._touch(member)

    @_command
    def change_role(self, username: str, *, role: str, effective_on: date, reason: str) -> None:
        member = self.staff_member(username)
        member.change_role(role, effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def move_staff(self, username: str, *, unit_id: str, effective_on: date, reason: str) -> None:
        member = self.staff_member(username)
        member.move_to_unit(self.unit(unit_id), effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def set_password(self, username: str, *, password_hash: str) -> None:
        member = self.staff_member(username)
        member.change_password(password_hash, self.actor)
        self._touch(member)

    @_command
    def enable_totp(
        self, username: str, *, secret: str, code: str, at: datetime | None = None
    ) -> None:
        """Turn on the second factor once the member shows a code from their authenticator."""
        if not verify_totp(secret, code, at or datetime.now(UTC)):
            raise InvalidChange("the code does not match the secret: the second factor stays off")
        member = self.staff_member(username)
        member.enable_totp(self._app.seal_totp_secret(username, secret), self.actor)
        self._touch(member)

    @_command
    def disable_totp(self, username: str, *, reason: str) -> None:
        member = self.staff_member(username)
        member.disable_totp(self.actor, reason)
        self._touch(member)

    @_command
    def deactivate_staff(self, username: str, *, effective_on: date, reason: str) -> None:
        member = self.staff_member(username)
        member.deactivate(effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def reactivate_staff(self, username: str, *, effective_on: date, reason: str) -> None:
        member = self.staff_member(username)
        member.reactivate(effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def set_staff_photo(
        self, username: str, *, sha256: str, effective_on: date, reason: str = ""
    ) -> None:
        member = self.staff_member(username)
        member.set_photo(sha256, effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def remove_staff_photo(self, username: str, *, effective_on: date, reason: str = "") -> None:
        member = self.staff_member(username)
        member.remove_photo(effective_on, self.actor, reason)
        self._touch(member)

    @_command
    def set_kiosk_photos(
        self, unit_id: str, *, show: bool, effective_on: date, reason: str = ""
    ) -> None:
        unit = self.unit(unit_id)
        unit.set_kiosk_photos(show, effective_on, self.actor, reason)
        self._touch(unit)

    # -- saving ----------------------------------------------------------------------------

    @property
    def changed(self) -> list[Aggregate]:
        return list(self._changed.values())

    def commit(self) -> int:
        """Check the tree from the earliest date this batch changed it, then save everything
        in one transaction. Returns the number of aggregates saved."""
        self._check_not_failed()
        if self._tree_changed_on is not None:
            check_tree(self.all_units(), self._tree_changed_on)
        if not self._changed:
            return 0
        try:
            self._app.save(*self._changed.values())
        except IntegrityError as error:
            raise ConflictingChange(
                "the organisation changed while this change was prepared; please try again"
            ) from error
        count = len(self._changed)
        self._changed.clear()
        return count

    # -- helpers ---------------------------------------------------------------------------

    def _check_not_failed(self) -> None:
        if self._failed is not None:
            raise InvalidChange(
                f"this batch saves nothing: a command in it was refused ({self._failed})"
            ) from self._failed

    def _touch(self, aggregate: Aggregate) -> None:
        self._changed[aggregate.id] = aggregate

    def _tree_change(self, unit: Unit, on: date) -> None:
        self._touch(unit)
        if self._tree_changed_on is None or on < self._tree_changed_on:
            self._tree_changed_on = on

    @staticmethod
    def _has(lookup: Callable[[str], object], ident: str) -> bool:
        try:
            lookup(ident)
        except NotFound:
            return False
        return True
