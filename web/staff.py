"""Staff pages: the unit queue, my cases, transfers into the scope, and bulk assignment
(signing in and out: ``web.signin``). Every page takes ``Staff`` (web.principal): role and
scope in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import anyio
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.cases import InvalidTransition
from feedback_core.handling import CaseChanged, CaseDesk, UnknownCase
from feedback_core.handling import Request as DeskRequest
from feedback_core.organisation import Counter, Organisation, StaffAccount, Unit
from feedback_core.permissions import Action, NotAllowed
from feedback_core.roles import Role
from projections.queries import UNASSIGNED, QueueFilters, QueuePage, QueueRow
from web import auth, csrf
from web.badges import Badge, WorkingDays, badges
from web.errors import error_page
from web.flash import Notice, flash, pop_flash
from web.i18n import N_
from web.labels import CATEGORY_LABELS, CHANNEL_LABELS, OPEN_STATES
from web.principal import SignInRequired, Staff, StaffForbidden, StaffPrincipal
from web.rendering import LOCAL_ZONE, Renderer
from web.services import WebServices
from web.workflow import assignees_in_scope, worker_may_take

NO_CASES_ROLE = N_("Tài khoản của bạn không có quyền xem phản ánh.")
QUEUE_TITLE = N_("Phản ánh đang chờ xử lý")
MY_TITLE = N_("Phản ánh tôi đang xử lý")
PAGE_SIZE = 50
MAX_SEARCH_CHARS = 200

ASSIGNED_ALL = N_("Đã giao %(n)s phản ánh cho %(name)s.")
NOTHING_CHOSEN = N_("Chưa chọn phản ánh nào.")
CHOOSE_ASSIGNEE = N_("Vui lòng chọn cán bộ được giao.")
NOT_YET_SHOWN = N_(
    "Đã lưu. Danh sách có thể chưa hiển thị thay đổi mới nhất; vui lòng tải lại sau giây lát."
)
# Why one case of a bulk assignment failed.
FAILED_CHANGED = N_("Có người vừa thay đổi phản ánh này. Vui lòng tải lại trang.")
FAILED_NOT_ALLOWED = N_("Bạn không có quyền giao phản ánh này.")
FAILED_INVALID = N_("Trạng thái phản ánh không cho phép giao.")
FAILED_UNKNOWN = N_("Không tìm thấy phản ánh.")
FAILED_ASSIGNEE = N_("Cán bộ được chọn không phụ trách đơn vị của phản ánh này.")


@dataclass(frozen=True)
class QueueItem:
    row: QueueRow
    unit: Unit | None
    counter: Counter | None
    badges: list[Badge] = field(default_factory=list)
    assignee: StaffAccount | None = None

    @property
    def overdue(self) -> bool:
        return any(b.kind == "overdue" for b in self.badges)


def queue_items(
    org: Organisation, rows: list[QueueRow], today: date, days: WorkingDays
) -> list[QueueItem]:
    return [
        QueueItem(
            row,
            org.units.get(row.unit_id),
            org.counters.get(row.counter_id),
            badges(row, today, days),
            org.staff.get(row.assignee) if row.assignee else None,
        )
        for row in rows
    ]


def login_redirect(request: Request) -> RedirectResponse:
    path = request.url.path
    if request.method == "GET":
        target = path + (f"?{request.url.query}" if request.url.query else "")
    elif path.startswith("/staff/cases/"):
        target = path.rsplit("/", 1)[0]  # back to the case, not to a POST path
    elif path.startswith("/staff/account/"):
        target = path
    elif path.startswith("/admin/calendar"):
        target = "/admin/calendar"
    elif path.startswith("/admin"):
        target = "/admin/org"
    else:
        target = "/staff/queue"
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def no_store(response: Response) -> Response:
    """Staff pages hold case text: keep them out of shared caches and the back-button cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def install_staff_errors(app: FastAPI, renderer: Renderer) -> None:
    """What ``Staff`` raises: the login page for strangers, 403 for roles without cases."""

    async def sign_in(request: Request, exc: Exception) -> Response:
        return login_redirect(request)

    async def forbidden(request: Request, exc: Exception) -> Response:
        message = exc.message if isinstance(exc, StaffForbidden) else None
        return no_store(error_page(renderer, request, 403, message or NO_CASES_ROLE))

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(StaffForbidden, forbidden)


def staff_path(target: str, default: str) -> str:
    """A page of the staff area to return to after a form (never elsewhere)."""
    safe = auth.safe_next(target, default)
    return safe if safe.startswith("/staff/") else default


def today_in(services: WebServices) -> date:
    return services.clock().astimezone(LOCAL_ZONE).date()


@dataclass(frozen=True)
class FilterForm:
    """The queue's filters as typed (GET parameters), and what they mean for the query."""

    state: str = ""
    category: str = ""
    channel: str = ""
    assignee: str = ""
    overdue: bool = False
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str], org: Organisation) -> FilterForm:
        def pick(name: str, allowed: Any) -> str:
            value = params.get(name, "")
            return value if value in allowed else ""

        page = params.get("page", "1")
        assignees = {UNASSIGNED, *org.staff}
        return cls(
            state=pick("state", {str(s) for s in OPEN_STATES}),
            category=pick("category", CATEGORY_LABELS),
            channel=pick("channel", CHANNEL_LABELS),
            assignee=pick("assignee", assignees),
            overdue=params.get("overdue") == "1",
            q=params.get("q", "").strip()[:MAX_SEARCH_CHARS],
            page=int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1,
        )

    def filters(self, today: date, assignee: str = "") -> QueueFilters:
        return QueueFilters(
            state=self.state,
            category=self.category,
            channel=self.channel,
            assignee=assignee or self.assignee,
            overdue_on=today if self.overdue else None,
            text=self.q,
        )

    def query(self, page: int | None = None) -> str:
        """The query string of these filters (and a page), for links and redirects."""
        params: dict[str, Any] = {
            k: v
            for k, v in (
                ("state", self.state),
                ("category", self.category),
                ("channel", self.channel),
                ("assignee", self.assignee),
                ("overdue", "1" if self.overdue else ""),
                ("q", self.q),
            )
            if v
        }
        if page and page > 1:
            params["page"] = page
        return urlencode(params)

    @property
    def active(self) -> bool:
        return bool(self.query())


@dataclass(frozen=True)
class BulkOutcome:
    tracking_code: str
    case_id: UUID | None
    ok: bool
    reason: str = ""  # msgid
    detail: str = ""  # the domain's message, shown as it is


def staff_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    async def render_queue(
        request: Request, principal: StaffPrincipal, mine: bool
    ) -> Response:
        org = services.organisation  # read per request: admin changes replace it
        form = FilterForm.from_query(request.query_params, org)
        today = today_in(services)
        filters = form.filters(today, assignee=principal.username if mine else "")
        found: QueuePage = await anyio.to_thread.run_sync(
            lambda: services.queries.search_queue(
                list(principal.scope), filters, form.page, PAGE_SIZE
            )
        )
        days = WorkingDays(services.calendar())
        path = request.url.path
        can_assign = principal.may_in_scope(Action.ASSIGN)
        context = {
            **staff_context(request, principal),
            "title": MY_TITLE if mine else QUEUE_TITLE,
            "mine": mine,
            "scope": org.units.get(principal.actor.unit_id),
            "form": form,
            "found": found,
            "items": queue_items(org, found.rows, today, days),
            "states": [str(s) for s in OPEN_STATES],
            "categories": list(CATEGORY_LABELS.items()),
            "channels": list(CHANNEL_LABELS.items()),
            "filter_assignees": _staff_in(org, principal.scope),
            "unassigned": UNASSIGNED,
            "can_assign": can_assign,
            "bulk_assignees": assignees_in_scope(org, principal.scope) if can_assign else [],
            "return_to": f"{path}?{form.query(form.page)}" if form.query(form.page) else path,
            "prev_url": f"{path}?{form.query(form.page - 1)}" if form.page > 1 else "",
            "next_url": f"{path}?{form.query(form.page + 1)}" if found.has_next else "",
        }
        return no_store(renderer.render(request, "queue.html", context))

    @router.get("/staff/queue")
    async def queue(request: Request, principal: Staff) -> Response:
        return await render_queue(request, principal, mine=False)

    @router.get("/staff/my")
    async def my_cases(request: Request, principal: Staff) -> Response:
        return await render_queue(request, principal, mine=True)

    @router.get("/staff/transfers")
    async def transfers(request: Request, principal: Staff) -> Response:
        rows = await anyio.to_thread.run_sync(
            services.queries.incoming_transfers, list(principal.scope)
        )
        visible = [row for row in rows if principal.may_see(row)]
        org = services.organisation
        today = today_in(services)
        days = WorkingDays(services.calendar())
        reasons = await anyio.to_thread.run_sync(lambda: _transfer_reasons(services, visible))
        context = {
            **staff_context(request, principal),
            "items": [
                (
                    item,
                    org.units.get(item.row.pending_transfer or ""),
                    reasons.get(item.row.case_id, ""),
                    principal.may(Action.ACCEPT_TRANSFER, item.row),
                    principal.may(Action.RETURN_TRANSFER, item.row),
                )
                for item in queue_items(org, visible, today, days)
            ],
        }
        return no_store(renderer.render(request, "transfers.html", context))

    @router.post("/staff/queue/assign")
    async def bulk_assign(request: Request, principal: Staff) -> Response:
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return error_page(renderer, request, 403)
        if not principal.may_in_scope(Action.ASSIGN):
            return no_store(error_page(renderer, request, 403, FAILED_NOT_ALLOWED))
        back = staff_path(_text(form, "return_to"), "/staff/queue")
        chosen = [v for v in form.getlist("case") if isinstance(v, str)]
        assignee = services.organisation.staff.get(_text(form, "assignee"))
        if not chosen:
            flash(request, NOTHING_CHOSEN, kind="error")
            return RedirectResponse(back, status_code=303)
        if assignee is None:
            flash(request, CHOOSE_ASSIGNEE, kind="error")
            return RedirectResponse(back, status_code=303)
        desk = require_desk(services)
        outcomes, last = await anyio.to_thread.run_sync(
            lambda: _assign_all(services, desk, principal, assignee, chosen)
        )
        shown = True
        if last:
            shown = await anyio.to_thread.run_sync(services.queries.wait_for, last)
        if all(o.ok for o in outcomes):
            message = ASSIGNED_ALL if shown else NOT_YET_SHOWN
            params: dict[str, str | int] = {"n": len(outcomes), "name": assignee.display_name}
            flash(request, message, params=params)
            return RedirectResponse(back, status_code=303)
        context = {
            **staff_context(request, principal),
            "assignee": assignee,
            "outcomes": outcomes,
            "assigned": sum(o.ok for o in outcomes),
            "back": back,
        }
        return no_store(renderer.render(request, "bulk_result.html", context))

    return router


def require_desk(services: WebServices) -> CaseDesk:
    if services.desk is None:
        raise RuntimeError("this web app was started without the case desk")
    return services.desk


def _assign_all(
    services: WebServices,
    desk: CaseDesk,
    principal: StaffPrincipal,
    assignee: StaffAccount,
    chosen: list[str],
) -> tuple[list[BulkOutcome], int]:
    """Each case through the desk with the version the page showed; one outcome each."""
    outcomes: list[BulkOutcome] = []
    last = 0
    for value in chosen:
        case_text, _, version_text = value.partition(":")
        try:
            case_id, version = UUID(case_text), int(version_text)
        except ValueError:
            outcomes.append(BulkOutcome(value[:40], None, False, FAILED_UNKNOWN))
            continue
        row = services.queries.case(case_id)
        if row is None or not principal.may_see(row):
            outcomes.append(BulkOutcome(str(case_id), None, False, FAILED_UNKNOWN))
            continue
        code = row.tracking_code
        if not worker_may_take(services.organisation, assignee, row.unit_id):
            outcomes.append(BulkOutcome(code, case_id, False, FAILED_ASSIGNEE))
            continue
        request = DeskRequest(Action.ASSIGN, assignee=assignee.username)
        try:
            last = max(
                last,
                desk.act(case_id, version, principal.actor, request, services.clock()),
            )
        except CaseChanged:
            outcomes.append(BulkOutcome(code, case_id, False, FAILED_CHANGED))
        except NotAllowed as exc:
            outcomes.append(BulkOutcome(code, case_id, False, FAILED_NOT_ALLOWED, str(exc)))
        except InvalidTransition as exc:
            outcomes.append(BulkOutcome(code, case_id, False, FAILED_INVALID, str(exc)))
        except UnknownCase:
            outcomes.append(BulkOutcome(code, case_id, False, FAILED_UNKNOWN))
        else:
            outcomes.append(BulkOutcome(code, case_id, True))
    return outcomes, last


def _transfer_reasons(services: WebServices, rows: list[QueueRow]) -> dict[UUID, str]:
    """Why each case is being sent: the reason of its latest transfer request."""
    found: dict[UUID, str] = {}
    for row in rows:
        asks = [t for t in services.queries.timeline(row.case_id, False)
                if t.kind == "transfer_requested"]
        if asks:
            found[row.case_id] = asks[-1].reason
    return found


def _staff_in(org: Organisation, scope: tuple[str, ...]) -> list[StaffAccount]:
    found = [a for a in org.staff.values() if a.unit_id in scope and a.role in ("handler", "head")]
    return sorted(found, key=lambda a: (a.display_name, a.username))


def staff_context(request: Request, principal: StaffPrincipal) -> dict[str, Any]:
    """What the staff header needs: who is signed in, the logout token, the flash message,
    and which parts of the staff area the role opens (cases, or the admin pages)."""
    notice: Notice | None = pop_flash(request)
    return {
        "account": principal.account,
        "principal": principal,
        "csrf": csrf.csrf_token(request),
        "notice": notice,
        "nav": request.url.path,
        "sees_cases": principal.may_in_scope(Action.VIEW),
        "is_admin": principal.actor.role is Role.ADMIN,
    }


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
