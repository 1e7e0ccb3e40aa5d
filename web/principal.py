"""Who is asking: the signed-in staff account as a domain Actor with its scope.

Every staff route takes ``Staff`` (a FastAPI dependency): it signs in, checks that the role
may see cases at all, and carries the scope, so no route decides access on its own. What an
actor may do to one case is always asked of ``feedback_core.permissions.check``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from feedback_core.organisation import Organisation, StaffAccount
from feedback_core.permissions import (
    RECEIVER_ACTIONS,
    Action,
    NotAllowed,
    UnitAction,
    check,
    check_unit,
)
from feedback_core.roles import Actor, Role
from projections.queries import QueueRow
from web import auth
from web.i18n import N_


class SignInRequired(Exception):
    """No (or no longer a valid) staff session: the login page, then back."""


class StaffForbidden(Exception):
    """Signed in, but the role may not see cases (an administrator, say), or, with a
    ``message`` (a msgid), may not use the page for another reason (not an administrator)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


@dataclass(frozen=True)
class StaffPrincipal:
    account: StaffAccount
    actor: Actor
    scope: tuple[str, ...]  # the account's unit and every unit below it

    @property
    def username(self) -> str:
        return self.account.username

    def may(self, action: Action, row: QueueRow) -> bool:
        """May this actor do ``action`` to the case of ``row``, now? (permissions.check)"""
        try:
            check(self.actor, action, row.unit_id, self.scope, row.assignee, row.pending_transfer)
        except NotAllowed:
            return False
        return True

    def may_see(self, row: QueueRow) -> bool:
        """Cases of the scope, and cases another unit asks the scope to take over."""
        return self.may(Action.VIEW, row) or (
            row.pending_transfer is not None
            and any(self.may(action, row) for action in RECEIVER_ACTIONS)
        )

    def may_in_scope(self, action: Action) -> bool:
        """Does the role allow ``action`` on the cases of the actor's own unit at all?"""
        try:
            check(self.actor, action, self.actor.unit_id, self.scope)
        except NotAllowed:
            return False
        return True


def principal_for(org: Organisation, account: StaffAccount) -> StaffPrincipal:
    """The principal of an account; StaffForbidden for a role this version does not know."""
    try:
        role = Role(account.role)
    except ValueError:
        raise StaffForbidden() from None
    actor = Actor(account.username, role, account.unit_id)
    return StaffPrincipal(account, actor, tuple(org.subtree(account.unit_id)))


def require_signed_in(request: Request) -> StaffPrincipal:
    """Any signed-in account of a known role (its own account page, say)."""
    org: Organisation = request.app.state.services.organisation
    account = auth.current_account(request, org)
    if account is None:
        raise SignInRequired()
    return principal_for(org, account)


def require_staff(request: Request) -> StaffPrincipal:
    """The dependency of every staff page and command."""
    principal = require_signed_in(request)
    if not principal.may_in_scope(Action.VIEW):
        raise StaffForbidden()
    return principal


ADMIN_ONLY = N_("Chỉ quản trị viên hệ thống được sử dụng trang này.")


def require_admin(request: Request) -> StaffPrincipal:
    """The dependency of the admin pages: the administrator role, scoped to its subtree."""
    principal = require_signed_in(request)
    if principal.actor.role is not Role.ADMIN:
        raise StaffForbidden(ADMIN_ONLY)
    return principal


def require_unit_action(
    action: UnitAction, refusal: str
) -> Callable[[Request], StaffPrincipal]:
    """A dependency for the pages of one unit-level ``action`` (kiosks, paper cards): a role
    that may do it in its own unit at all, else ``refusal`` (a msgid). The unit a request
    names is still checked per request."""

    def require(request: Request) -> StaffPrincipal:
        principal = require_signed_in(request)
        try:
            check_unit(principal.actor, action, principal.actor.unit_id, principal.scope)
        except NotAllowed:
            raise StaffForbidden(refusal) from None
        return principal

    return require


Staff = Annotated[StaffPrincipal, Depends(require_staff)]
SignedIn = Annotated[StaffPrincipal, Depends(require_signed_in)]
Admin = Annotated[StaffPrincipal, Depends(require_admin)]
