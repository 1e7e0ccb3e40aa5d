"""``/staff/paper-cards``: staff type in the paper satisfaction cards from a counter's box.

Keyboard only: the counter and the date are fixed for the batch, one card per line
(``feedback_core.paper_cards``). "Xem lại" shows a summary (counts, mean, the lines with
errors pointed out); "Xác nhận gửi" publishes each card as an intake event (channel paper,
the batch id, ids derived from the batch id and the card's number) and then records the
batch. The same batch entered again is caught before anything is published; if it slips
through (two people at once), the derived ids make the core store each card once.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from feedback_core.devices import DevicesApplication, PaperBatch
from feedback_core.intake import Channel, IntakeSubmission
from feedback_core.local_time import LOCAL_ZONE, local_date
from feedback_core.paper_cards import (
    MAX_CARDS,
    LineProblem,
    ParsedBatch,
    batch_id_for,
    card_submission_id,
    parse_batch,
)
from feedback_core.permissions import UnitAction
from web import csrf
from web.admin import NotConfigured, field
from web.errors import error_page
from web.flash import flash
from web.i18n import N_
from web.kiosk_admin import counter_in_scope
from web.posters import counters_under
from web.principal import StaffPrincipal, require_unit_action
from web.rendering import Renderer
from web.services import WebServices
from web.staff import no_store, staff_context

log = logging.getLogger(__name__)

PAPER = "/staff/paper-cards"
PUBLISH_TIMEOUT_SECONDS = 60
MAX_BATCH_TEXT = 40_000

PAPER_ROLES_ONLY = N_("Chỉ cán bộ tiếp nhận, xử lý và lãnh đạo đơn vị được nhập phiếu giấy.")
LINE_PROBLEMS = {
    LineProblem.RATING: N_("Số đầu tiên phải là mức hài lòng chung từ 1 đến 5."),
    LineProblem.COMPONENT_COUNT: N_(
        "Sau mức chung, ghi đủ 5 điểm thành phần hoặc không ghi điểm thành phần nào."
    ),
    LineProblem.COMPONENT_VALUE: N_("Điểm thành phần phải từ 1 đến 5."),
    LineProblem.DOSSIER: N_("Mã hồ sơ không hợp lệ."),
    LineProblem.TOO_MANY: N_("Quá 500 phiếu: vui lòng chia thành nhiều đợt."),
}
NO_CARDS = N_("Chưa có phiếu nào: ghi mỗi phiếu một dòng.")
FIX_LINES = N_("Có dòng chưa đúng: vui lòng sửa các dòng được chỉ ra bên dưới.")
BAD_DAY = N_("Ngày trên phiếu không hợp lệ: không được sau hôm nay.")
NO_COUNTER = N_("Vui lòng chọn quầy của đơn vị bạn.")
TOO_LONG = N_("Nội dung quá dài: vui lòng chia thành nhiều đợt.")
NOT_SENT = N_(
    "Chưa gửi xong các phiếu. Nội dung vẫn còn bên dưới — vui lòng gửi lại sau ít phút: "
    "các phiếu đã gửi sẽ không bị tính hai lần."
)
SENT = N_("Đã gửi %(n)s phiếu của đợt %(batch)s.")


require_paper_clerk = require_unit_action(UnitAction.ENTER_PAPER_CARDS, PAPER_ROLES_ONLY)


Clerk = Annotated[StaffPrincipal, Depends(require_paper_clerk)]


def received_at(day: date, now: datetime) -> datetime:
    """When a card of ``day`` counts as given: noon that day, or now for today's cards."""
    if day >= local_date(now):
        return now
    return datetime.combine(day, time(12), tzinfo=LOCAL_ZONE)


def paper_routes(services: WebServices, renderer: Renderer) -> APIRouter:
    router = APIRouter()

    def devices() -> DevicesApplication:
        if services.devices is None:
            raise NotConfigured("devices")
        return services.devices

    def render_form(request: Request, principal: StaffPrincipal, *, counter_id: str = "",
                    day: str = "", text: str = "", parsed: ParsedBatch | None = None,
                    notice: str = "", status_code: int = 200) -> Response:
        context = {
            **staff_context(request, principal),
            "rows": counters_under(services.organisation, principal.actor.unit_id),
            "counter_id": counter_id,
            "day": day or services.today().isoformat(),
            "today": services.today().isoformat(),
            "text": text,
            "errors": parsed.errors if parsed else [],
            "problems": LINE_PROBLEMS,
            "form_notice": notice,
            "max_cards": MAX_CARDS,
        }
        return no_store(renderer.render(request, "paper_cards.html", context, status_code))

    def render_duplicate(request: Request, principal: StaffPrincipal,
                         batch: PaperBatch) -> Response:
        entered_by = services.organisation.staff.get(batch.actor)
        context = {
            **staff_context(request, principal),
            "batch": batch,
            "entered_by": entered_by.display_name if entered_by else batch.actor,
            "counter": services.organisation.counters.get(batch.counter_id),
        }
        return no_store(renderer.render(request, "paper_duplicate.html", context, 409))

    async def read_batch(request: Request, principal: StaffPrincipal) -> (
        tuple[Any, Response | None]
    ):
        """The batch as posted and checked, or the page to show instead."""
        if _too_large(request):
            return None, error_page(renderer, request, 413, TOO_LONG, back_url=PAPER)
        form = await request.form()
        if not csrf.csrf_ok(request, form.get(csrf.FIELD)):
            return None, no_store(error_page(renderer, request, 403))
        counter_id, day_text, text = (field(form, n) for n in ("counter_id", "day", "cards"))
        again: dict[str, Any] = {"counter_id": counter_id, "day": day_text, "text": text}
        row = counter_in_scope(services.organisation, principal, counter_id,
                               UnitAction.ENTER_PAPER_CARDS)
        if row is None:  # 403 for another unit's counter, 422 for no counter at all
            known = counter_id in services.organisation.counters
            return None, render_form(request, principal, **again, notice=NO_COUNTER,
                                     status_code=403 if known else 422)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            day = None
        if day is None or day > services.today():
            return None, render_form(request, principal, **again, notice=BAD_DAY,
                                     status_code=422)
        parsed = parse_batch(text)
        if parsed.errors or not parsed.cards:
            notice = FIX_LINES if parsed.errors else NO_CARDS
            return None, render_form(request, principal, **again, parsed=parsed,
                                     notice=notice, status_code=422)
        batch_id = batch_id_for(counter_id, day, parsed.cards)
        earlier = await anyio.to_thread.run_sync(devices().batch, batch_id)
        if earlier is not None:
            return None, render_duplicate(request, principal, earlier)
        return (row, day, text, parsed, batch_id), None

    @router.get(PAPER)
    async def paper_form(request: Request, principal: Clerk) -> Response:
        return render_form(request, principal)

    @router.post(PAPER + "/review")
    async def review(request: Request, principal: Clerk) -> Response:
        batch, page = await read_batch(request, principal)
        if page is not None:
            return page
        row, day, text, parsed, batch_id = batch
        context = {
            **staff_context(request, principal),
            "unit": row[0], "office": row[1], "counter": row[2],
            "day": day, "text": text, "parsed": parsed, "batch_id": batch_id,
            "counts": parsed.counts(), "mean": parsed.mean,
            "with_components": sum(1 for c in parsed.cards if c.components),
            "with_dossier": sum(1 for c in parsed.cards if c.dossier_code),
            "form_notice": "",
        }
        return no_store(renderer.render(request, "paper_confirm.html", context))

    @router.post(PAPER + "/confirm")
    async def confirm(request: Request, principal: Clerk) -> Response:
        batch, page = await read_batch(request, principal)
        if page is not None:
            return page
        row, day, text, parsed, batch_id = batch
        unit, office, counter = row
        at = received_at(day, services.clock())
        submissions = [
            IntakeSubmission(
                submission_id=card_submission_id(batch_id, card.number),
                channel=Channel.PAPER,
                unit_id=unit.id,
                office_id=office.id,
                counter_id=counter.id,
                submitted_at=at,
                rating=card.rating,
                components=dict(card.components),
                dossier_code=card.dossier_code,
                reported_by=principal.username,
                batch_id=batch_id,
            )
            for card in parsed.cards
        ]
        try:
            with anyio.fail_after(PUBLISH_TIMEOUT_SECONDS):
                for submission in submissions:
                    await services.publisher.publish(submission)
        except Exception:
            log.exception("publishing paper batch %s failed", batch_id)
            return render_form(request, principal, counter_id=counter.id,
                               day=day.isoformat(), text=text, notice=NOT_SENT,
                               status_code=503)
        now = services.clock()
        await anyio.to_thread.run_sync(
            lambda: devices().record_batch(batch_id, counter.id, day, len(submissions), now,
                                           principal.username)
        )
        flash(request, SENT, params={"n": len(submissions), "batch": batch_id})
        return RedirectResponse(PAPER, status_code=303)

    return router


def _too_large(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > MAX_BATCH_TEXT * 4
