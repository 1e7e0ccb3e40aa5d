"""The Organisation application: the event store of units, counters and staff.

Each command method is one transaction by one actor (a username, or ``"system"``). For
several changes at once (loading a file, a reorganisation decree) use ``changes(actor)``:
the block's commands are checked together and saved all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder

from feedback_core.application import DateAsISO
from feedback_core.org.aggregates import Counter, StaffMember, Unit
from feedback_core.org.changes import OrgChanges
from feedback_core.org.errors import NotFound
from feedback_core.org.rules import counter_aggregate_id, staff_aggregate_id, unit_aggregate_id
from feedback_core.org.state import OrgState, read_state
from feedback_core.privacy.staff_secrets import StaffSecretBox, open_staff_secret

A = TypeVar("A", Unit, Counter, StaffMember)


class OrganisationApplication(Application[UUID]):
    """``name`` scopes its environment (``ORGANISATION_*``) and its table
    (``organisation_events``)."""

    name = "organisation"

    def __init__(
        self, env: dict[str, str] | None = None, *, staff_secrets: StaffSecretBox | None = None
    ) -> None:
        """``staff_secrets`` seals TOTP secrets in the events (docs/privacy.md); without it
        (in-memory tests) they are stored as given."""
        self.staff_secrets = staff_secrets
        super().__init__(env=env)

    def seal_totp_secret(self, username: str, secret: str) -> str:
        return self.staff_secrets.seal(username, secret) if self.staff_secrets else secret

    def open_totp_secret(self, username: str, stored: str) -> str:
        return open_staff_secret(self.staff_secrets, username, stored)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- batches ---------------------------------------------------------------------------

    @contextmanager
    def changes(self, actor: str) -> Iterator[OrgChanges]:
        """``with app.changes("admin.tayho") as c: c.merge_unit(...); c.move_staff(...)``:
        saved in one transaction when the block ends, nothing saved if it raises."""
        batch = OrgChanges(self, actor)
        yield batch
        batch.commit()

    # -- units -----------------------------------------------------------------------------

    def create_unit(  # noqa: PLR0913
        self, unit_id: str, *, name_vi: str, name_en: str, level: str,
        parent_id: str | None, effective_on: date, actor: str, reason: str = "",
    ) -> None:
        with self.changes(actor) as c:
            c.create_unit(unit_id, name_vi=name_vi, name_en=name_en, level=level,
                          parent_id=parent_id, effective_on=effective_on, reason=reason)

    def rename_unit(  # noqa: PLR0913
        self, unit_id: str, *, name_vi: str, name_en: str, effective_on: date, actor: str,
        reason: str = "",
    ) -> None:
        with self.changes(actor) as c:
            c.rename_unit(unit_id, name_vi=name_vi, name_en=name_en,
                          effective_on=effective_on, reason=reason)

    def move_unit(
        self, unit_id: str, *, parent_id: str | None, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.move_unit(unit_id, parent_id=parent_id, effective_on=effective_on, reason=reason)

    def merge_unit(
        self, unit_id: str, *, into: str, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.merge_unit(unit_id, into=into, effective_on=effective_on, reason=reason)

    def close_unit(self, unit_id: str, *, effective_on: date, actor: str, reason: str) -> None:
        with self.changes(actor) as c:
            c.close_unit(unit_id, effective_on=effective_on, reason=reason)

    def appoint_head(
        self, unit_id: str, *, username: str, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        with self.changes(actor) as c:
            c.appoint_head(unit_id, username=username, effective_on=effective_on, reason=reason)

    def vacate_head(self, unit_id: str, *, effective_on: date, actor: str, reason: str) -> None:
        with self.changes(actor) as c:
            c.vacate_head(unit_id, effective_on=effective_on, reason=reason)

    # -- counters --------------------------------------------------------------------------

    def create_counter(  # noqa: PLR0913
        self, counter_id: str, *, office_id: str, name_vi: str, name_en: str,
        effective_on: date, actor: str, reason: str = "",
    ) -> None:
        with self.changes(actor) as c:
            c.create_counter(counter_id, office_id=office_id, name_vi=name_vi, name_en=name_en,
                             effective_on=effective_on, reason=reason)

    def rename_counter(  # noqa: PLR0913
        self, counter_id: str, *, name_vi: str, name_en: str, effective_on: date, actor: str,
        reason: str = "",
    ) -> None:
        with self.changes(actor) as c:
            c.rename_counter(counter_id, name_vi=name_vi, name_en=name_en,
                             effective_on=effective_on, reason=reason)

    def close_counter(
        self, counter_id: str, *, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.close_counter(counter_id, effective_on=effective_on, reason=reason)

    # -- staff -----------------------------------------------------------------------------

    def register_staff(  # noqa: PLR0913
        self, username: str, *, display_name: str, role: str, unit_id: str,
        password_hash: str, effective_on: date, actor: str, reason: str = "",
    ) -> None:
        """``password_hash`` from ``feedback_core.org.passwords.hash_password``."""
        with self.changes(actor) as c:
            c.register_staff(username, display_name=display_name, role=role, unit_id=unit_id,
                             password_hash=password_hash, effective_on=effective_on,
                             reason=reason)

    def change_display_name(self, username: str, *, display_name: str, actor: str) -> None:
        with self.changes(actor) as c:
            c.change_display_name(username, display_name=display_name)

    def change_role(
        self, username: str, *, role: str, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.change_role(username, role=role, effective_on=effective_on, reason=reason)

    def move_staff(
        self, username: str, *, unit_id: str, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.move_staff(username, unit_id=unit_id, effective_on=effective_on, reason=reason)

    def set_password(self, username: str, *, password_hash: str, actor: str) -> None:
        with self.changes(actor) as c:
            c.set_password(username, password_hash=password_hash)

    def enable_totp(
        self, username: str, *, secret: str, code: str, actor: str, at: datetime | None = None
    ) -> None:
        """``secret`` from ``totp.new_totp_secret()``; ``code`` read from the member's app."""
        with self.changes(actor) as c:
            c.enable_totp(username, secret=secret, code=code, at=at)

    def disable_totp(self, username: str, *, actor: str, reason: str) -> None:
        with self.changes(actor) as c:
            c.disable_totp(username, reason=reason)

    def deactivate_staff(
        self, username: str, *, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.deactivate_staff(username, effective_on=effective_on, reason=reason)

    def reactivate_staff(
        self, username: str, *, effective_on: date, actor: str, reason: str
    ) -> None:
        with self.changes(actor) as c:
            c.reactivate_staff(username, effective_on=effective_on, reason=reason)

    def set_staff_photo(  # noqa: PLR0913
        self, username: str, *, sha256: str, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        """``sha256`` of a photo already in the photo store (web/media.py)."""
        with self.changes(actor) as c:
            c.set_staff_photo(username, sha256=sha256, effective_on=effective_on, reason=reason)

    def remove_staff_photo(
        self, username: str, *, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        with self.changes(actor) as c:
            c.remove_staff_photo(username, effective_on=effective_on, reason=reason)

    def set_kiosk_photos(  # noqa: PLR0913
        self, unit_id: str, *, show: bool, effective_on: date, actor: str, reason: str = ""
    ) -> None:
        """Whether the unit's kiosks show the counter officer's photo (off by default)."""
        with self.changes(actor) as c:
            c.set_kiosk_photos(unit_id, show=show, effective_on=effective_on, reason=reason)

    # -- reading ---------------------------------------------------------------------------

    def unit(self, unit_id: str) -> Unit:
        return self._get(Unit, unit_aggregate_id(unit_id), "unit", unit_id)

    def counter(self, counter_id: str) -> Counter:
        return self._get(Counter, counter_aggregate_id(counter_id), "counter", counter_id)

    def staff_member(self, username: str) -> StaffMember:
        return self._get(StaffMember, staff_aggregate_id(username), "staff member", username)

    def state(self) -> OrgState:
        """Every unit, counter and staff member, as recorded now (one scan of the log)."""
        return read_state(self)

    def events_of(self, aggregate_id: UUID) -> list[DomainEventProtocol[UUID]]:
        return list(self.events.get(aggregate_id))

    def _get(self, cls: type[A], aggregate_id: UUID, kind: str, ident: str) -> A:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(kind, ident) from None
        if not isinstance(aggregate, cls):
            raise NotFound(kind, ident)
        return aggregate
