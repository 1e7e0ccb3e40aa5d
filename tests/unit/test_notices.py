"""Case notices, on the library's in-memory store: which steps a citizen hears about, who
hears (a merged case tells every citizen on it), what they read (never an internal note,
a reason other than a refusal's, or an officer's name), in Vietnamese or English."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid5

import pytest

from consumers.notices import (
    NOTICE_NAMESPACE,
    CaseNotice,
    NoticeError,
    NoticeKind,
    Recipient,
    from_json,
    notice_for,
    render,
    to_json,
    tracking_url,
    unique_recipients,
    unit_names_from,
)
from consumers.outbound import notices_for
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.permissions import Action
from feedback_core.roles import CITIZEN, Actor, Role
from tests.unit.test_intake import submission

LAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
MINH = Actor("canbo.quangan", Role.HANDLER, "quang-an")
HEAD = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
SECRET = "NỘI-BỘ-KHÔNG-CÔNG-KHAI"  # in every internal note and every non-public reason
BASE = "https://phananh.example.vn"
UNITS = {
    "nhat-tan": SimpleNamespace(name_vi="UBND phường Nhật Tân", name_en="Nhat Tan Ward"),
    "quang-an": SimpleNamespace(name_vi="UBND phường Quảng An", name_en="Quang An Ward"),
}


def new_case(app: CasesApplication, **contact: Any) -> UUID:
    sub = submission(submitted_at=MONDAY, **contact)
    app.record_submissions([sub])
    return case_id_for(sub.submission_id)


def step(desk: CaseDesk, case_id: UUID, actor: Actor, action: Action, **fields: Any) -> None:
    case: Case = desk.app.repository.get(case_id)
    at = MONDAY + timedelta(hours=case.version)
    desk.act(case_id, case.version, actor, Request(action, **fields), at)


def all_notices(app: CasesApplication) -> list[CaseNotice]:
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return notices_for(app, [app.mapper.to_domain_event(n) for n in notifications])


def test_a_case_from_acceptance_to_closure(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app, contact_email="dan@example.vn", wants_updates=True)
    step(desk, cid, LAN, Action.ACCEPT, reason=SECRET)
    step(desk, cid, LAN, Action.CLAIM, reason=SECRET)
    step(desk, cid, LAN, Action.START)
    step(desk, cid, LAN, Action.ASK_CITIZEN, text="Xin số biên nhận hồ sơ?")
    step(desk, cid, CITIZEN, Action.RECORD_REPLY, text="Số HS-2026-001")
    step(desk, cid, LAN, Action.NOTE, text=f"Ghi chú {SECRET}: cán bộ Lan đã gọi điện")
    step(desk, cid, LAN, Action.ESCALATE, reason=SECRET)
    step(desk, cid, LAN, Action.TRANSFER, to_unit="quang-an", reason=SECRET)
    step(desk, cid, MINH, Action.ACCEPT_TRANSFER, reason=SECRET)
    step(desk, cid, HEAD, Action.EXTEND, days=5, reason=SECRET)
    step(desk, cid, MINH, Action.CLAIM)
    step(desk, cid, MINH, Action.ANSWER, text="Hồ sơ đã có kết quả, mời ông/bà đến nhận.")
    step(desk, cid, MINH, Action.RESOLVE, reason=SECRET)
    step(desk, cid, CITIZEN, Action.REOPEN, reason=SECRET)
    step(desk, cid, MINH, Action.ANSWER, text="Đã trả kết quả tại bộ phận Một cửa.")
    step(desk, cid, MINH, Action.RESOLVE)
    step(desk, cid, MINH, Action.CLOSE, reason=SECRET)

    notices = all_notices(app)
    assert [n.kind for n in notices] == [
        NoticeKind.ACCEPTED, NoticeKind.CITIZEN_ASKED, NoticeKind.TRANSFERRED,
        NoticeKind.EXTENDED, NoticeKind.ANSWERED, NoticeKind.RESOLVED, NoticeKind.REOPENED,
        NoticeKind.ANSWERED, NoticeKind.RESOLVED, NoticeKind.CLOSED,
    ]  # fmt: skip
    case: Case = app.repository.get(cid)
    by_kind = {n.kind: n for n in notices}
    assert by_kind[NoticeKind.ACCEPTED].due_on is not None
    assert by_kind[NoticeKind.ACCEPTED].unit_id == "nhat-tan"
    assert by_kind[NoticeKind.CITIZEN_ASKED].public_text == "Xin số biên nhận hồ sơ?"
    transferred = by_kind[NoticeKind.TRANSFERRED]
    assert transferred.public_text == "quang-an" and transferred.unit_id == "quang-an"
    assert by_kind[NoticeKind.EXTENDED].due_on == case.due_on
    assert notices[4].public_text == "Hồ sơ đã có kết quả, mời ông/bà đến nhận."
    for notice in notices:
        assert notice.case_id == cid and notice.tracking_code == case.tracking_code
        assert notice.recipients == (Recipient(email="dan@example.vn"),)
        assert notice.notice_id == uuid5(NOTICE_NAMESPACE, f"{cid}:{notice.case_version}")
        message = render(notice, BASE, unit_names_from(UNITS))
        for text in (to_json(notice).decode(), message.subject, message.body, message.short):
            assert SECRET not in text
            for officer in (LAN, MINH, HEAD):
                assert officer.username not in text
        assert case.tracking_code in message.subject
        assert f"{BASE}/t/{case.tracking_code}" in message.body


def test_the_same_history_gives_the_same_notice_ids(
    app: CasesApplication, desk: CaseDesk
) -> None:
    cid = new_case(app, contact_phone="0912345678", wants_updates=True)
    step(desk, cid, LAN, Action.ACCEPT)
    assert [n.notice_id for n in all_notices(app)] == [n.notice_id for n in all_notices(app)]


def test_a_refusal_tells_its_reason(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app, contact_email="dan@example.vn", wants_updates=True)
    step(desk, cid, LAN, Action.REFUSE, reason="Nội dung không thuộc thẩm quyền của phường.")
    (notice,) = all_notices(app)
    assert notice.kind is NoticeKind.REFUSED
    assert notice.public_text == "Nội dung không thuộc thẩm quyền của phường."
    assert "Lý do: Nội dung không thuộc thẩm quyền" in render(notice, BASE).body


def test_withdrawal_is_confirmed_without_the_reason(app: CasesApplication, desk: CaseDesk) -> None:
    cid = new_case(app, contact_email="dan@example.vn", wants_updates=True)
    step(desk, cid, CITIZEN, Action.WITHDRAW, reason=SECRET)
    (notice,) = all_notices(app)
    assert notice.kind is NoticeKind.WITHDRAWN and notice.public_text == ""


def test_nobody_to_tell_means_no_notice(app: CasesApplication, desk: CaseDesk) -> None:
    anonymous = new_case(app)
    declined = new_case(app, contact_email="x@example.vn", wants_updates=False)
    for cid in (anonymous, declined):
        step(desk, cid, LAN, Action.ACCEPT)
    assert all_notices(app) == []


def test_a_merged_case_tells_every_citizen_on_it(app: CasesApplication, desk: CaseDesk) -> None:
    primary = new_case(app, contact_email="a@example.vn", wants_updates=True)
    by_mail = new_case(app, contact_email="b@example.vn", wants_updates=True)
    by_phone = new_case(app, contact_phone="0912345678", wants_updates=True)
    again = new_case(app, contact_email="A@example.vn", wants_updates=True)  # same citizen
    silent = new_case(app, contact_email="d@example.vn", wants_updates=False)
    step(desk, primary, LAN, Action.ACCEPT)  # before the merge: only the first citizen
    for duplicate in (by_mail, by_phone, again, silent):
        step(desk, duplicate, LAN, Action.MERGE, primary_case_id=primary, reason=SECRET)
    step(desk, primary, LAN, Action.CLAIM)
    step(desk, primary, LAN, Action.START)
    step(desk, primary, LAN, Action.ANSWER, text="Đã chấn chỉnh cán bộ.")

    notices = all_notices(app)
    accepted, *merged, answered = notices
    assert accepted.kind is NoticeKind.ACCEPTED
    assert accepted.recipients == (Recipient(email="a@example.vn"),)
    primary_code: str = app.repository.get(primary).tracking_code
    assert [(n.kind, n.case_id, n.public_text) for n in merged] == [
        (NoticeKind.MERGED, cid, primary_code) for cid in (by_mail, by_phone, again)
    ]  # the citizen who declined updates hears nothing, even of the merge
    assert merged[0].recipients == (Recipient(email="b@example.vn"),)
    assert primary_code in render(merged[0], BASE).subject
    assert answered.kind is NoticeKind.ANSWERED and answered.case_id == primary
    assert answered.recipients == (
        Recipient(email="a@example.vn"),
        Recipient(email="b@example.vn"),
        Recipient(phone="0912345678"),
    )
    assert SECRET not in "".join(to_json(n).decode() for n in notices)


def test_each_address_once() -> None:
    pairs = [("a@example.vn", "0912345678"), ("A@example.vn ", ""), ("a@example.vn", "0987654321"),
             ("", "0912345678"), ("", ""), ("b@example.vn", "")]
    assert unique_recipients(pairs) == (
        Recipient("a@example.vn", "0912345678"),
        Recipient("", "0987654321"),
        Recipient("b@example.vn", ""),
    )


def sample_notice(**changes: Any) -> CaseNotice:
    cid = UUID("8d4f7a0e-1b2c-4d5e-8f90-123456789abc")
    notice = CaseNotice(
        notice_id=uuid5(NOTICE_NAMESPACE, f"{cid}:4"),
        case_id=cid,
        case_version=4,
        tracking_code="7KQ2M-9XH4T",
        kind=NoticeKind.ANSWERED,
        at=datetime(2026, 3, 4, 3, 15, tzinfo=UTC),
        unit_id="nhat-tan",
        public_text="Hồ sơ của ông/bà đã có kết quả.",
        recipients=(Recipient(email="dan@example.vn", phone="0912345678"),),
    )
    return dataclasses.replace(notice, **changes)


def test_json_round_trip() -> None:
    for notice in (sample_notice(), sample_notice(kind=NoticeKind.ACCEPTED,
                                                  due_on=date(2026, 3, 16), locale="en")):
        assert from_json(to_json(notice)) == notice
    data = json.loads(to_json(sample_notice()))
    assert data["schema_version"] == 1 and data["at"] == "2026-03-04T03:15:00+00:00"
    assert data["recipients"] == [{"email": "dan@example.vn", "phone": "0912345678"}]


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        json.dumps({**json.loads(to_json(sample_notice())), "schema_version": 2}).encode(),
        json.dumps({**json.loads(to_json(sample_notice())), "kind": "gossip"}).encode(),
        json.dumps({**json.loads(to_json(sample_notice())), "at": "2026-03-04T03:15"}).encode(),
        json.dumps({**json.loads(to_json(sample_notice())), "recipients": None}).encode(),
    ],
)
def test_malformed_notices_are_refused(raw: bytes) -> None:
    with pytest.raises(NoticeError):
        from_json(raw)


def test_vietnamese_texts() -> None:
    message = render(sample_notice(), BASE, unit_names_from(UNITS))
    assert message.subject == "Phản ánh 7KQ2M-9XH4T đã có trả lời"
    assert message.body.startswith("UBND phường Nhật Tân trả lời phản ánh")
    assert "Hồ sơ của ông/bà đã có kết quả." in message.body
    assert f"Theo dõi hồ sơ: {BASE}/t/7KQ2M-9XH4T" in message.body
    assert "10:15, 04/03/2026" in message.body  # business time in Hà Nội
    assert message.short == f"Phản ánh 7KQ2M-9XH4T đã có trả lời. Xem: {BASE}/t/7KQ2M-9XH4T"
    accepted = render(sample_notice(kind=NoticeKind.ACCEPTED, due_on=date(2026, 3, 16)), BASE)
    assert "Hạn trả lời: 16/03/2026." in accepted.body


def test_english_texts() -> None:
    notice = sample_notice(kind=NoticeKind.TRANSFERRED, public_text="quang-an",
                           unit_id="quang-an", locale="en")
    message = render(notice, BASE, unit_names_from(UNITS))
    assert message.subject == "Your feedback 7KQ2M-9XH4T has been passed to Quang An Ward"
    assert f"Follow your case: {BASE}/t/7KQ2M-9XH4T?lang=en" in message.body
    assert "4 March 2026" in message.body
    assert render(sample_notice(locale="fr"), BASE).subject.startswith("Phản ánh")


def test_every_kind_has_both_languages() -> None:
    for kind in NoticeKind:
        for locale in ("vi", "en"):
            message = render(sample_notice(kind=kind, locale=locale), BASE)
            assert "7KQ2M-9XH4T" in message.subject and message.url in message.body


def test_locale_comes_from_the_case_when_it_has_one() -> None:
    """Cases do not record the citizen's language yet; once they do, notices follow it."""
    event = Case.Answered(  # type: ignore[call-arg]
        originator_id=UUID(int=1), originator_version=3, timestamp=MONDAY,
        **LAN.stamp(MONDAY, ""), public_answer="Done",
    )  # fmt: skip
    case = SimpleNamespace(tracking_code="7KQ2M-9XH4T", unit_id="nhat-tan", locale="en",
                           recipients=[("a@example.vn", "")])
    notice = notice_for(event, case)
    assert notice is not None and notice.locale == "en" and notice.public_text == "Done"
    other = notice_for(event, SimpleNamespace(**{**vars(case), "locale": "xx"}))
    assert other is not None and other.locale == "vi"


def test_tracking_url() -> None:
    assert tracking_url(BASE + "/", "7KQ2M-9XH4T") == f"{BASE}/t/7KQ2M-9XH4T"
    assert tracking_url(BASE, "7KQ2M-9XH4T", "en") == f"{BASE}/t/7KQ2M-9XH4T?lang=en"
