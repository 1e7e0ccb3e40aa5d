"""Who may do what to a case: roles × actions, scoped to a subtree of the organisation.

This is the one place where staff access is decided; web pages and commands ask it and
never filter after the fact.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from feedback_core.roles import Actor, Role


class Action(StrEnum):
    VIEW = "view"
    ACCEPT = "accept"
    REFUSE = "refuse"
    ASSIGN = "assign"
    CLAIM = "claim"
    START = "start"
    ASK_CITIZEN = "ask_citizen"
    RECORD_REPLY = "record_reply"
    ANSWER = "answer"
    RESOLVE = "resolve"
    CLOSE = "close"
    NOTE = "note"
    TRANSFER = "transfer"
    ACCEPT_TRANSFER = "accept_transfer"
    RETURN_TRANSFER = "return_transfer"
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    EXTEND = "extend"
    MERGE = "merge"


_CASE_WORKERS = frozenset({Role.HANDLER, Role.HEAD})
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW: frozenset({Role.HANDLER, Role.HEAD, Role.INSPECTOR, Role.OPERATOR}),
    Action.EXTEND: frozenset({Role.HEAD}),
    Action.ESCALATE: frozenset({Role.HANDLER}),
    # A citizen withdraws or reopens through the tracking page, or asks staff to by phone.
    Action.WITHDRAW: frozenset({Role.HANDLER, Role.HEAD, Role.OPERATOR, Role.CITIZEN}),
    Action.REOPEN: frozenset({Role.HANDLER, Role.HEAD, Role.OPERATOR, Role.CITIZEN}),
    Action.RECORD_REPLY: frozenset({Role.HANDLER, Role.HEAD, Role.CITIZEN}),
}
for _action in Action:
    ALLOWED.setdefault(_action, _CASE_WORKERS)

# A handler works only the cases assigned to them; a head may act on any case in scope.
ASSIGNEE_ONLY = frozenset(
    {Action.START, Action.ASK_CITIZEN, Action.ANSWER, Action.RESOLVE, Action.CLOSE}
)
# Acting on a transfer is the receiving unit's business.
RECEIVER_ACTIONS = frozenset({Action.ACCEPT_TRANSFER, Action.RETURN_TRANSFER})


class NotAllowed(PermissionError):
    """The actor's role or scope does not allow this; the message says which."""


class UnitAction(StrEnum):
    """What staff do for a unit rather than to a case (the case matrix stays ``Action``)."""

    ENROL_KIOSK = "enrol_kiosk"  # enrol or revoke the rating kiosk of a counter
    ENTER_PAPER_CARDS = "enter_paper_cards"  # type in the paper satisfaction cards
    ERASE_PERSONAL_DATA = "erase_personal_data"  # a lawful erasure request (docs/privacy.md)
    SET_STAFF_PHOTO = "set_staff_photo"  # set or remove a staff member's photo (kiosks)
    SET_KIOSK_PHOTOS = "set_kiosk_photos"  # whether the unit's kiosks show officers' photos


UNIT_ALLOWED: dict[UnitAction, frozenset[Role]] = {
    UnitAction.ENROL_KIOSK: frozenset({Role.ADMIN, Role.HEAD}),
    UnitAction.ENTER_PAPER_CARDS: frozenset({Role.HANDLER, Role.HEAD, Role.OPERATOR}),
    UnitAction.ERASE_PERSONAL_DATA: frozenset({Role.ADMIN}),
    UnitAction.SET_STAFF_PHOTO: frozenset({Role.ADMIN}),
    UnitAction.SET_KIOSK_PHOTOS: frozenset({Role.ADMIN}),
}


def check_unit(actor: Actor, action: UnitAction, unit: str, scope: Collection[str]) -> None:
    """Raise NotAllowed unless ``actor`` may do ``action`` for ``unit`` (in their subtree)."""
    if actor.role not in UNIT_ALLOWED[action]:
        raise NotAllowed(f"the role {actor.role.value} may not {action.value}")
    if unit not in scope:
        raise NotAllowed(f"{actor.username} does not cover unit {unit}")


def check(
    actor: Actor,
    action: Action,
    case_unit: str,
    scope: Collection[str],
    assignee: str | None = None,
    pending_transfer: str | None = None,
) -> None:
    """Raise NotAllowed unless ``actor`` may do ``action`` to a case of ``case_unit``.

    ``scope`` is the set of units the actor covers (their unit's subtree); citizens are
    authorised by their tracking code before they get here, so scope does not apply.
    """
    if actor.role not in ALLOWED[action]:
        raise NotAllowed(f"the role {actor.role.value} may not {action.value} a case")
    if actor.role is Role.CITIZEN:
        return
    unit = (pending_transfer or case_unit) if action in RECEIVER_ACTIONS else case_unit
    if unit not in scope:
        raise NotAllowed(f"{actor.username} does not cover unit {unit}")
    if action in ASSIGNEE_ONLY and actor.role is Role.HANDLER and assignee != actor.username:
        raise NotAllowed(f"claim the case before you {action.value.replace('_', ' ')} it")
