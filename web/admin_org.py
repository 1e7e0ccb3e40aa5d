"""The organisation admin pages: the tree as of a date, the forms that change it, and the
recorded history of a unit. For administrators only, within their own subtree.

Every change goes through ``OrganisationApplication`` (one transaction, actor = the signed-in
administrator, effective from the date in the form, today by default); the domain's refusal
(an ``OrganisationError``) is shown with its message (422). After a change the web's
directory is read again (``WebServices.refresh_organisation``); after a merger the open cases
of the merged unit pass to its successor (``WebServices.pass_cases``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of, unit_history
from feedback_core.org.errors import NotFound, OrganisationError
from feedback_core.org.history import HistoryEntry
from feedback_core.org.passwords import hash_password
from feedback_core.org.rules import LEVEL_RANK, STAFF_ROLES
from feedback_core.organisation import Counter, Office, Organisation, StaffAccount, Unit
from web import csrf
from web.admin import (
    BAD_DATE,
    MISSING_FIELDS,
    OUT_OF_SCOPE,
    field,
    org_app_of,
    parse_day,
    refused,
    refused_change,
)
from web.admin_kiosk_photos import PHOTO_CHANGE_LABELS, kiosk_photos_shown
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.labels import UNIT_CHANGE_LABELS
from web.principal import Admin, StaffPrincipal
from web.qr_views import counters_of_unit, current_tokens, history_of
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

log = logging.getLogger(__name__)

ORG = "/admin/org"
UNIT_NOT_FOUND = N_("Không tìm thấy đơn vị, hoặc đơn vị không thuộc phạm vi quản trị của bạn.")
MERGED = N_("Đã sáp nhập %(unit)s vào %(into)s. Số phản ánh đang mở đã chuyển sang: %(n)s.")
MERGED_CASES_LATER = N_(
    "Đã sáp nhập %(unit)s vào %(into)s, nhưng chưa chuyển được các phản ánh đang mở. "
    "Vui lòng báo bộ phận kỹ thuật chạy lệnh feedback pass-cases."
)
MERGED_NO_CASES = N_("Đã sáp nhập %(unit)s vào %(into)s.")

Fields = Mapping[str, str]


@dataclass(frozen=True)
class Scope:
    """What an administrator may change: the units of its subtree, their one-stop offices,
    the offices' counters and the staff of those units (as of today, retired included)."""

    org: Organisation
    units: frozenset[str]

    @classmethod
    def of(cls, org: Organisation, unit_id: str) -> Scope:
        return cls(org, frozenset(org.subtree(unit_id)) if unit_id in org.units else frozenset())

    def has(self, kind: str, ident: str) -> bool:
        if kind == "unit":  # a unit, or a one-stop office (offices are units in the store)
            return ident in self.units or self.has("office", ident)
        if kind == "office":
            office = self.org.offices.get(ident)
            return office is not None and office.unit_id in self.units
        if kind == "counter":
            counter = self.org.counters.get(ident)
            return counter is not None and self.has("office", counter.office_id)
        if kind == "staff":
            account = self.org.staff.get(ident)
            return account is not None and account.unit_id in self.units
        raise ValueError(f"unknown kind {kind!r}")


@dataclass(frozen=True)
class Command:
    """One form: its required fields, the fields naming things that must be in scope (with
    their kind), and what it asks of the application."""

    required: tuple[str, ...]
    in_scope: tuple[tuple[str, str], ...]
    run: Callable[[OrganisationApplication, Fields, str, date], None]
    done: str  # msgid, formatted with ``params``
    params: Callable[[Fields], dict[str, str]]


def _register(app: OrganisationApplication, f: Fields, actor: str, on: date) -> None:
    app.register_staff(
        f["username"], display_name=f["display_name"], role=f["role"], unit_id=f["unit_id"],
        password_hash=hash_password(f["password"]), effective_on=on, actor=actor,
        reason=f["reason"],
    )


COMMANDS: dict[str, Command] = {
    "create-unit": Command(
        ("unit_id", "name_vi", "name_en", "level", "parent_id"), (("parent_id", "unit"),),
        lambda app, f, actor, on: app.create_unit(
            f["unit_id"], name_vi=f["name_vi"], name_en=f["name_en"], level=f["level"],
            parent_id=f["parent_id"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã tạo đơn vị %(name)s."), lambda f: {"name": f["name_vi"]},
    ),
    "rename-unit": Command(
        ("unit_id", "name_vi", "name_en"), (("unit_id", "unit"),),
        lambda app, f, actor, on: app.rename_unit(
            f["unit_id"], name_vi=f["name_vi"], name_en=f["name_en"], effective_on=on,
            actor=actor, reason=f["reason"]),
        N_("Đã đổi tên đơn vị thành %(name)s."), lambda f: {"name": f["name_vi"]},
    ),
    "merge-unit": Command(
        ("unit_id", "into", "reason"), (("unit_id", "unit"), ("into", "unit")),
        lambda app, f, actor, on: app.merge_unit(
            f["unit_id"], into=f["into"], effective_on=on, actor=actor, reason=f["reason"]),
        MERGED_NO_CASES, lambda f: {"unit": f["unit_id"], "into": f["into"]},
    ),
    "close-unit": Command(
        ("unit_id", "reason"), (("unit_id", "unit"),),
        lambda app, f, actor, on: app.close_unit(
            f["unit_id"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã ghi nhận giải thể đơn vị %(unit)s."), lambda f: {"unit": f["unit_id"]},
    ),
    "appoint-head": Command(
        ("unit_id", "username"), (("unit_id", "unit"), ("username", "staff")),
        lambda app, f, actor, on: app.appoint_head(
            f["unit_id"], username=f["username"], effective_on=on, actor=actor,
            reason=f["reason"]),
        N_("Đã giao %(username)s đứng đầu đơn vị %(unit)s."),
        lambda f: {"username": f["username"], "unit": f["unit_id"]},
    ),
    "create-counter": Command(
        ("counter_id", "office_id", "name_vi", "name_en"), (("office_id", "office"),),
        lambda app, f, actor, on: app.create_counter(
            f["counter_id"], office_id=f["office_id"], name_vi=f["name_vi"],
            name_en=f["name_en"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã tạo quầy %(name)s."), lambda f: {"name": f["name_vi"]},
    ),
    "rename-counter": Command(
        ("counter_id", "name_vi", "name_en"), (("counter_id", "counter"),),
        lambda app, f, actor, on: app.rename_counter(
            f["counter_id"], name_vi=f["name_vi"], name_en=f["name_en"], effective_on=on,
            actor=actor, reason=f["reason"]),
        N_("Đã đổi tên quầy thành %(name)s."), lambda f: {"name": f["name_vi"]},
    ),
    "close-counter": Command(
        ("counter_id", "reason"), (("counter_id", "counter"),),
        lambda app, f, actor, on: app.close_counter(
            f["counter_id"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã đóng quầy %(counter)s."), lambda f: {"counter": f["counter_id"]},
    ),
    "register-staff": Command(
        ("username", "display_name", "role", "unit_id", "password"), (("unit_id", "unit"),),
        _register,
        N_("Đã tạo tài khoản %(username)s."), lambda f: {"username": f["username"]},
    ),
    "change-role": Command(
        ("username", "role", "reason"), (("username", "staff"),),
        lambda app, f, actor, on: app.change_role(
            f["username"], role=f["role"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã đổi vai trò của %(username)s."), lambda f: {"username": f["username"]},
    ),
    "move-staff": Command(
        ("username", "unit_id", "reason"), (("username", "staff"), ("unit_id", "unit")),
        lambda app, f, actor, on: app.move_staff(
            f["username"], unit_id=f["unit_id"], effective_on=on, actor=actor,
            reason=f["reason"]),
        N_("Đã chuyển %(username)s sang đơn vị %(unit)s."),
        lambda f: {"username": f["username"], "unit": f["unit_id"]},
    ),
    "deactivate-staff": Command(
        ("username", "reason"), (("username", "staff"),),
        lambda app, f, actor, on: app.deactivate_staff(
            f["username"], effective_on=on, actor=actor, reason=f["reason"]),
        N_("Đã khóa tài khoản %(username)s."), lambda f: {"username": f["username"]},
    ),
    "reset-password": Command(
        ("username", "password"), (("username", "staff"),),
        lambda app, f, actor, on: app.set_password(
            f["username"], password_hash=hash_password(f["password"]), actor=actor),
        N_("Đã đặt lại mật khẩu cho %(username)s."), lambda f: {"username": f["username"]},
    ),
}
FIELDS = ("unit_id", "name_vi", "name_en", "level", "parent_id", "into", "reason", "username",
          "counter_id", "office_id", "display_name", "role")


@dataclass(frozen=True)
class TreeNode:
    unit: Unit
    offices: list[tuple[Office, list[Counter]]]
    staff: list[StaffAccount]
    children: list[TreeNode]


def build_tree(org: Organisation, unit_id: str) -> TreeNode | None:
    """The unit and everything under it, as the directory holds them (closed ones too)."""
    unit = org.units.get(unit_id)
    if unit is None:
        return None
    offices = [
        (office, sorted((c for c in org.counters.values() if c.office_id == office.id),
                        key=lambda c: c.id))
        for office in sorted(org.offices.values(), key=lambda o: o.id)
        if office.unit_id == unit_id
    ]
    staff = sorted((a for a in org.staff.values() if a.unit_id == unit_id),
                   key=lambda a: a.username)
    children = [
        node for child in sorted(org.units.values(), key=lambda u: u.id)
        if child.parent_id == unit_id and (node := build_tree(org, child.id)) is not None
    ]
    return TreeNode(unit, offices, staff, children)


def flatten(node: TreeNode | None, depth: int = 0) -> list[tuple[int, TreeNode]]:
    if node is None:
        return []
    found = [(depth, node)]
    for child in node.children:
        found += flatten(child, depth + 1)
    return found


def choices(org: Organisation, root_id: str) -> dict[str, Any]:
    """What the forms' lists offer: what is in service today under ``root_id`` (the
    administrator's unit), units in tree order with their depth."""
    nodes = [(depth, node) for depth, node in flatten(build_tree(org, root_id))
             if not node.unit.closed]
    offices = [office for _, node in nodes for office, _ in node.offices if not office.closed]
    return {
        "open_units": [(depth, node.unit) for depth, node in nodes],
        "open_offices": offices,
        "open_counters": [
            (office, counter) for _, node in nodes for office, counters in node.offices
            for counter in counters if not counter.closed and not office.closed
        ],
        "people": [a for _, node in nodes for a in node.staff if a.active],
        "roles": list(STAFF_ROLES),
        "levels": [level for level in LEVEL_RANK if level != "city"],
    }


def org_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def today() -> date:
        return services.today()

    async def directory(on: date) -> Organisation:
        app = org_app_of(services)
        return await anyio.to_thread.run_sync(
            lambda: directory_as_of(app, on, include_retired=True)
        )

    @router.get("/admin")
    async def admin_home(principal: Admin) -> Response:
        return RedirectResponse(ORG, status_code=303)

    @router.get(ORG)
    async def org_page(request: Request, principal: Admin, as_of: str = "") -> Response:
        on = parse_day(as_of.strip(), today())
        if on is None:
            return refused(renderer, request, 400, BAD_DATE, ORG)
        now = today()
        current = await directory(now)
        shown = current if on == now else await directory(on)
        tree = build_tree(shown, principal.actor.unit_id)
        in_service = [
            current.counters[c.id] for _, node in flatten(tree) for _, counters in node.offices
            for c in counters if c.id in current.counters and not current.counters[c.id].closed
        ]
        context = {
            **staff_context(request, principal),
            "as_of": on,
            "today": now,
            "tree": tree,
            "people_shown": shown.staff,
            "qr_tokens": await anyio.to_thread.run_sync(current_tokens, services, in_service),
            **choices(current, principal.actor.unit_id),
        }
        return no_store(renderer.render(request, "admin_org.html", context))

    @router.get(ORG + "/units/{unit_id}")
    async def unit_page(request: Request, unit_id: str, principal: Admin) -> Response:
        app = org_app_of(services)
        current = await directory(today())
        if not Scope.of(current, principal.actor.unit_id).has("unit", unit_id):
            return not_found(request)
        try:
            entries: list[HistoryEntry] = await anyio.to_thread.run_sync(
                unit_history, app, unit_id
            )
        except NotFound:
            return not_found(request)
        context = {
            **staff_context(request, principal),
            "unit": current.units.get(unit_id) or current.offices.get(unit_id),
            "unit_id": unit_id,
            "entries": [(e, UNIT_CHANGE_LABELS.get(e.change) or PHOTO_CHANGE_LABELS.get(
                e.change, e.change)) for e in entries],
            "qr_history": await anyio.to_thread.run_sync(
                history_of, services, counters_of_unit(current, unit_id)
            ),
            "kiosk_photos": await anyio.to_thread.run_sync(kiosk_photos_shown, app, unit_id),
            "today": today(),
        }
        return no_store(renderer.render(request, "admin_unit.html", context))

    def not_found(request: Request) -> Response:
        return no_store(
            error_page(renderer, request, 404, UNIT_NOT_FOUND, back_url=ORG,
                       back_label=N_("Về trang tổ chức"))
        )

    @router.post(ORG + "/{name}")
    async def change(request: Request, name: str, principal: Admin) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        command = COMMANDS.get(name)
        if command is None:
            return error_page(renderer, request, 404)
        app = org_app_of(services)
        fields = {key: field(form, key) for key in FIELDS}
        password = form.get("password")
        fields["password"] = password if isinstance(password, str) else ""
        on = parse_day(field(form, "effective_on"), today())
        if on is None:
            return refused(renderer, request, 422, BAD_DATE, ORG)
        if any(not fields[key] for key in command.required):
            return refused(renderer, request, 422, MISSING_FIELDS, ORG)
        scope = Scope.of(await directory(today()), principal.actor.unit_id)
        if not all(scope.has(kind, fields[key]) for key, kind in command.in_scope):
            return refused(renderer, request, 403, OUT_OF_SCOPE, ORG)
        actor = principal.username
        try:
            await anyio.to_thread.run_sync(lambda: command.run(app, fields, actor, on))
        except OrganisationError as error:
            return refused_change(renderer, request, error, ORG)
        await anyio.to_thread.run_sync(services.refresh_organisation)
        message, kind = command.done, "ok"
        params: dict[str, str | int] = dict(command.params(fields))
        if name == "merge-unit":
            message, kind, params = await _pass_cases(services, principal, params)
        flash(request, message, kind=kind, params=params)
        return RedirectResponse(ORG, status_code=303)

    return router


async def _pass_cases(
    services: WebServices, principal: StaffPrincipal, params: dict[str, str | int]
) -> tuple[str, str, dict[str, str | int]]:
    """After a merger: move the open cases of units merged by today (none yet when the
    merger takes effect later; ``feedback pass-cases`` then moves them on the day)."""
    if services.pass_cases is None:
        return MERGED_NO_CASES, "ok", dict(params)
    pass_cases = services.pass_cases
    on = services.today()
    try:
        moved = await anyio.to_thread.run_sync(lambda: pass_cases(on))
    except Exception:
        log.exception("passing the cases of merged units failed (merger by %s)",
                      principal.username)
        return MERGED_CASES_LATER, "error", dict(params)
    return MERGED, "ok", {**params, "n": sum(moved.values())}
