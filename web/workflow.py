"""Which action forms a case page offers, and how a posted form becomes a desk ``Request``.

The state → steps table only says which steps make sense in each state (so a page does not
offer "start" before acceptance); whether *this* actor may take a step is always asked of
``feedback_core.permissions.check`` (through ``StaffPrincipal.may``). The case itself checks
the transition again when the step is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from feedback_core.cases import FINAL, CaseStatus
from feedback_core.handling import Request
from feedback_core.intake import MAX_DESCRIPTION_CHARS
from feedback_core.organisation import Organisation, StaffAccount
from feedback_core.permissions import Action, NotAllowed, check
from feedback_core.roles import Actor, Role
from projections.queries import QueueRow
from web.forms import clean_text
from web.i18n import N_
from web.principal import StaffPrincipal

A = Action
_WORKING = (A.TRANSFER, A.MERGE, A.ESCALATE, A.EXTEND, A.NOTE, A.WITHDRAW)
STEPS_BY_STATE: dict[str, tuple[Action, ...]] = {
    CaseStatus.RECEIVED: (A.ACCEPT, A.REFUSE, *_WORKING),
    CaseStatus.ACCEPTED: (A.CLAIM, A.ASSIGN, A.START, A.ASK_CITIZEN, A.ANSWER, *_WORKING),
    CaseStatus.IN_PROGRESS: (A.CLAIM, A.ASSIGN, A.ASK_CITIZEN, A.ANSWER, *_WORKING),
    CaseStatus.WAITING_FOR_CITIZEN: (A.RECORD_REPLY, A.CLAIM, A.ASSIGN, *_WORKING),
    CaseStatus.ANSWERED: (
        A.RESOLVE, A.ANSWER, A.REOPEN, A.CLAIM, A.ASSIGN, A.ESCALATE, A.NOTE, A.WITHDRAW,
    ),
    CaseStatus.RESOLVED: (A.CLOSE, A.REOPEN, A.NOTE),
    CaseStatus.CLOSED: (A.REOPEN,),
}
# Steps taken from a form field that must not be empty (the domain refuses them too).
TEXT_REQUIRED = frozenset({A.ASK_CITIZEN, A.RECORD_REPLY, A.ANSWER, A.NOTE})
REASON_REQUIRED = frozenset(
    {A.REFUSE, A.TRANSFER, A.RETURN_TRANSFER, A.ESCALATE, A.REOPEN, A.EXTEND, A.MERGE}
)
MAX_EXTENSION_DAYS = 60
# Roles a case can be assigned to: those who may claim one (asked of permissions below).
_WORKER_ROLES = (Role.HANDLER, Role.HEAD)

EMPTY_TEXT = N_("Vui lòng nhập nội dung.")
EMPTY_REASON = N_("Vui lòng nhập lý do.")
TOO_LONG = N_("Nội dung quá dài: tối đa 4.000 ký tự.")
BAD_DAYS = N_("Số ngày gia hạn phải là số nguyên từ 1 đến %(max)s.")
NO_ASSIGNEE = N_("Vui lòng chọn cán bộ được giao.")
BAD_ASSIGNEE = N_("Cán bộ được chọn không phụ trách đơn vị của phản ánh này.")
NO_UNIT = N_("Vui lòng chọn đơn vị nhận.")
BAD_PRIMARY = N_("Không tìm thấy phản ánh có mã theo dõi này.")


class BadForm(ValueError):
    """What was posted cannot become a request; ``message`` is a msgid with ``params``."""

    def __init__(self, message: str, params: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})


@dataclass(frozen=True)
class Offer:
    """An action form on the case page."""

    action: Action
    assignees: list[StaffAccount] = field(default_factory=list)


def steps_for(row: QueueRow, principal: StaffPrincipal) -> list[Action]:
    """The steps this actor may take on this case now: what the state allows, then
    what ``permissions.check`` allows."""
    steps = list(STEPS_BY_STATE.get(row.status, ()))
    if row.pending_transfer and row.status not in FINAL:
        steps = [A.ACCEPT_TRANSFER, A.RETURN_TRANSFER, *(s for s in steps if s is not A.TRANSFER)]
    if row.assignee == principal.username:
        steps = [s for s in steps if s is not A.CLAIM]
    if row.escalated:
        steps = [s for s in steps if s is not A.ESCALATE]
    return [s for s in steps if principal.may(s, row)]


def worker_may_take(org: Organisation, account: StaffAccount, unit_id: str) -> bool:
    """Could this account work a case of ``unit_id`` (claim it) — per permissions.check."""
    if not getattr(account, "active", True):
        return False
    try:
        actor = Actor(account.username, Role(account.role), account.unit_id)
        check(actor, A.CLAIM, unit_id, org.subtree(account.unit_id))
    except (ValueError, NotAllowed):
        return False
    return True


def assignees_for(
    org: Organisation, unit_id: str, exclude: str | None = None
) -> list[StaffAccount]:
    """The accounts a case of ``unit_id`` can be given to, by name."""
    found = [
        a
        for a in org.staff.values()
        if a.role in _WORKER_ROLES and a.username != exclude and worker_may_take(org, a, unit_id)
    ]
    return sorted(found, key=lambda a: (a.display_name, a.username))


def assignees_in_scope(org: Organisation, scope: tuple[str, ...]) -> list[StaffAccount]:
    """For the bulk form: the workers of the units in scope (checked again per case)."""
    found = [
        a
        for a in org.staff.values()
        if a.unit_id in scope and a.role in _WORKER_ROLES and worker_may_take(org, a, a.unit_id)
    ]
    return sorted(found, key=lambda a: (a.display_name, a.username))


def offers(org: Organisation, row: QueueRow, principal: StaffPrincipal) -> list[Offer]:
    found = []
    for step in steps_for(row, principal):
        if step is A.ASSIGN:
            people = assignees_for(org, row.unit_id, exclude=row.assignee)
            if people:
                found.append(Offer(step, people))
        else:
            found.append(Offer(step))
    return found


def text_field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return clean_text(value).strip() if isinstance(value, str) else ""


def build_request(
    action: Action,
    form: Mapping[str, Any],
    org: Organisation,
    row: QueueRow,
    primary_case_id: UUID | None = None,
) -> Request:
    """The desk request of a posted action form; BadForm for what the page can explain."""
    text, reason = text_field(form, "text"), text_field(form, "reason")
    if len(text) > MAX_DESCRIPTION_CHARS or len(reason) > MAX_DESCRIPTION_CHARS:
        raise BadForm(TOO_LONG)
    if action in TEXT_REQUIRED and not text:
        raise BadForm(EMPTY_TEXT)
    if action in REASON_REQUIRED and not reason:
        raise BadForm(EMPTY_REASON)
    fields: dict[str, Any] = {"reason": reason, "text": text}
    if action is A.ASSIGN:
        assignee = text_field(form, "assignee")
        if not assignee:
            raise BadForm(NO_ASSIGNEE)
        account = org.staff.get(assignee)
        if account is None or not worker_may_take(org, account, row.unit_id):
            raise BadForm(BAD_ASSIGNEE)
        fields["assignee"] = assignee
    elif action is A.TRANSFER:
        to_unit = text_field(form, "to_unit")
        if not to_unit:
            raise BadForm(NO_UNIT)
        fields["to_unit"] = to_unit
    elif action is A.EXTEND:
        fields["days"] = _days(text_field(form, "days"))
    elif action is A.MERGE:
        if primary_case_id is None:
            raise BadForm(BAD_PRIMARY)
        fields["primary_case_id"] = primary_case_id
    return Request(action, **fields)


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_EXTENSION_DAYS:
        raise BadForm(BAD_DAYS, {"max": MAX_EXTENSION_DAYS})
    return int(value)


def open_units(org: Organisation, except_unit: str) -> list[Any]:
    """The units a case can be transferred to."""
    return [
        u for u in org.units.values() if u.id != except_unit and not getattr(u, "closed", False)
    ]
