"""Personal data through the real store: sealed in the stored bytes, erasable with the audit
chain still verifying, the notifier sending before the erasure and not after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from consumers.channels import EmailChannel
from consumers.notices import CaseNotice, notice_for
from consumers.notifier import DeliveryPolicy, DeliveryReport, NoticeDelivery
from consumers.outbound import ERASED_ERROR, create_outbound_schema
from feedback_cli.audit_commands import audit_main
from feedback_cli.main import parser
from feedback_cli.privacy_commands import cmd_erase
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.privacy.erasures import ErasureLog
from feedback_core.privacy.keyed import address_hasher
from feedback_core.privacy.postgres import open_vault
from feedback_core.privacy.vault import PersonalDataVault
from feedback_core.settings import Settings
from feedback_core.store import Database, open_application, open_cases_application
from projections.audit_chain import AuditChainRunner
from tests.integration.test_notifier_channels import run_async, smtp_server, smtp_settings
from tests.support.audit import chain_heads, verify
from tests.support.channels import refusing_channel
from tests.unit.test_intake import submission
from web.media import PostgresPhotoStore, checked_photo

pytestmark = pytest.mark.integration

PHONE, EMAIL = "0912345678", "nguyen.thi.lan@example.vn"
ZALO = "4318021190:zalo-follower-8812"


@dataclass
class Store:
    db: Database
    settings: Settings
    vault: PersonalDataVault
    app: CasesApplication

    def stored_bytes(self) -> bytes:
        with psycopg.connect(self.db.conninfo) as conn:
            return b"".join(bytes(r[0]) for r in conn.execute("SELECT state FROM cases_events"))

    def erase(self, code: str, by: str = "--case") -> int:
        """``feedback privacy erase`` by tracking code (``--case``) or submission id
        (``--subject``)."""
        args = parser().parse_args(
            [
                "privacy",
                "erase",
                by,
                code,
                "--reason",
                "Đơn yêu cầu xoá số 12/2026",
                "--basis",
                "NĐ 13/2023 Điều 16",
            ]
        )
        return cmd_erase(self.settings, args)

    def erasures(self) -> list[Any]:
        log = open_application(self.db, lambda env: ErasureLog(env=env))
        try:
            return list(log.erasures())
        finally:
            log.close()


@pytest.fixture
def store(database: Database, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(database_url=database.url, local_dir=tmp_path)
    vault = open_vault(database.conninfo, settings.personal_data_master)
    app = open_cases_application(database, personal_data=vault)
    try:
        yield Store(database, settings, vault, app)
    finally:
        app.close()


def complaint(store: Store) -> tuple[Case, str]:
    sub = submission(contact_phone=PHONE, contact_email=EMAIL, wants_updates=True)
    store.app.record_submissions([sub])
    case: Case = store.app.repository.get(case_id_for(sub.submission_id))
    return case, case.tracking_code


def test_the_contact_is_not_in_the_stored_bytes(store: Store) -> None:
    case, _ = complaint(store)
    raw = store.stored_bytes()
    assert PHONE.encode() not in raw and EMAIL.encode() not in raw
    assert b"pd1:" in raw
    received: Any = next(iter(store.app.events.get(case.id)))
    assert store.vault.reveal(received.contact_phone).text == PHONE


def test_erasure_keeps_the_chain_and_leaves_the_contact_unreadable(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    case, code = complaint(store)
    runner = AuditChainRunner(store.db.conninfo)
    try:
        runner.catch_up()
    finally:
        runner.close()
    assert store.erase(code) == 0
    assert store.erase(code) == 1  # already erased
    received: Any = next(iter(store.app.events.get(case.id)))
    assert store.vault.reveal(received.contact_phone).erased
    assert store.vault.reveal(received.contact_email).erased
    assert audit_main(["audit", "verify", "--quiet"], store.settings) == 0
    [record] = store.erasures()
    assert (record.tracking_code, record.legal_basis) == (code, "NĐ 13/2023 Điều 16")
    with psycopg.connect(store.db.conninfo) as conn:
        privacy = b"".join(bytes(r[0]) for r in conn.execute("SELECT state FROM privacy_events"))
    assert PHONE.encode() not in privacy and EMAIL.encode() not in privacy


def test_an_old_event_with_the_contact_in_clear_still_reads(store: Store) -> None:
    """Events written before sealing carry the contact as given: read as they are."""
    sub = submission(contact_phone=PHONE, wants_updates=True)
    old = CasesApplication(env=store.app.env, personal_data=None)  # the previous writer
    try:
        old.record_submissions([sub])
    finally:
        old.close()
    received: Any = next(iter(store.app.events.get(case_id_for(sub.submission_id))))
    assert received.contact_phone == PHONE
    assert store.vault.reveal(received.contact_phone).text == PHONE


def test_the_notifier_sends_before_the_erasure_and_not_after(store: Store) -> None:
    case, code = complaint(store)
    event = next(iter(store.app.events.get(case.id)))
    answered = replace_notice(notice_for_answer(store, case))
    delivery = NoticeDelivery(
        store.db.conninfo,
        [],
        "https://phananh.test",
        policy=DeliveryPolicy(attempts=1),
        personal_data=store.vault,
    )
    assert isinstance(event, Case.Received)
    with smtp_server() as (mail, port):
        delivery.channels = [EmailChannel(smtp_settings(port))]

        async def story() -> tuple[DeliveryReport, int, DeliveryReport]:
            try:
                first = await delivery.deliver(answered)
                erased = await asyncio.to_thread(store.erase, code)
                second = await delivery.deliver(replace_notice(answered))
                return first, erased, second
            finally:
                await delivery.close()

        first, erased, second = run_async(story)
        assert first.sent == 1 and erased == 0
        assert mail.received[0].envelope_to[0] == EMAIL
        assert (second.sent, second.failed) == (0, 0) and mail.count() == 1


def notice_for_answer(store: Store, case: Case) -> CaseNotice:
    from feedback_core.roles import Actor, Role

    head = Actor("lanhdao", Role.HEAD, case.unit_id)
    now = datetime.now(UTC)
    case.accept(head, now, "", case.deadline_rule, now.date(), case.due_on)
    case.trigger_event(Case.Answered, **head.stamp(now, ""), public_answer="Đã xử lý.")
    store.app.save(case)
    answered = list(store.app.events.get(case.id))[-1]
    notice = notice_for(answered, case)
    assert notice is not None and all("@" not in r.email for r in notice.recipients)
    return notice


def replace_notice(notice: CaseNotice) -> CaseNotice:
    """A notice of its own (a new id), so the record of sent ones does not skip it."""
    return replace(notice, notice_id=uuid4())


def outbound_text(store: Store) -> str:
    with psycopg.connect(store.db.conninfo) as conn:
        rows = [
            *conn.execute("SELECT recipient, channel FROM outbound.sent"),
            *conn.execute("SELECT recipient, channel, error FROM outbound.failed"),
        ]
    return repr(rows)


@pytest.mark.parametrize("by", ["--case", "--subject"])
def test_erasure_deletes_the_photo_the_zalo_follower_and_every_address_in_outbound(
    store: Store, by: str
) -> None:
    """By tracking code or by the subject id (the submission that opened the case): the same."""
    photo = checked_photo(b"\x89PNG\r\n\x1a\n" + uuid4().bytes * 8)
    with psycopg.connect(store.db.conninfo) as conn:
        for statement in PostgresPhotoStore.CREATE:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO media.photos (sha256, content_type, bytes) VALUES (%s, %s, %s)",
            (photo.sha256, photo.content_type, photo.data),
        )
    sub = submission(
        contact_phone=PHONE,
        contact_email=EMAIL,
        contact_zalo=ZALO,
        wants_updates=True,
        photo_id=photo.sha256,
    )
    store.app.record_submissions([sub])
    case: Case = store.app.repository.get(case_id_for(sub.submission_id))
    received: Any = next(iter(store.app.events.get(case.id)))
    assert store.vault.reveal(received.contact_zalo).text == ZALO
    assert ZALO.split(":")[1].encode() not in store.stored_bytes()

    notice = notice_for_answer(store, case)
    hashed = address_hasher(store.settings.personal_data_master)
    delivery = NoticeDelivery(
        store.db.conninfo,
        [refusing_channel()],
        "https://phananh.test",
        policy=DeliveryPolicy(attempts=1),
        personal_data=store.vault,
        address_hash=hashed,
    )
    earlier = replace_notice(notice)
    with psycopg.connect(store.db.conninfo) as conn:  # sent by the code before hashing
        create_outbound_schema(conn)
        conn.execute(
            "INSERT INTO outbound.sent (notice_id, recipient, channel, case_id, kind) "
            "VALUES (%s, %s, 'refusing', %s, 'answered')",
            (earlier.notice_id, EMAIL, case.id),
        )

    async def deliver() -> tuple[DeliveryReport, DeliveryReport]:
        try:
            return await delivery.deliver(notice), await delivery.deliver(earlier)
        finally:
            await delivery.close()

    refused, legacy = run_async(deliver)
    assert refused.failed == 1 and legacy.skipped == 1  # a clear old row still de-duplicates
    recorded = outbound_text(store)
    assert hashed(EMAIL) in recorded and "mailbox unavailable" in recorded
    assert recorded.count(EMAIL) == 1  # only the old clear row

    reference = case.tracking_code if by == "--case" else str(sub.submission_id)
    assert store.erase(reference, by) == 0
    with psycopg.connect(store.db.conninfo) as conn:
        assert conn.execute(
            "SELECT count(*) FROM media.photos WHERE sha256 = %s", (photo.sha256,)
        ).fetchone() == (0,)
        recipients = [
            r[0]
            for r in conn.execute(
                "SELECT recipient FROM outbound.sent "
                "UNION ALL SELECT recipient FROM outbound.failed"
            )
        ]
        errors = [r[0] for r in conn.execute("SELECT error FROM outbound.failed")]
    recorded = outbound_text(store)
    for clear in (EMAIL, PHONE, EMAIL.split("@")[0], ZALO.split(":")[1]):
        assert clear not in recorded
    assert recipients and all(r.startswith("ah1:") for r in recipients)
    assert errors == [ERASED_ERROR]
    assert store.vault.reveal(received.contact_zalo).erased
    assert store.erase(reference, by) == 1  # again: cleanups re-run, nothing recorded
    [record] = store.erasures()
    assert (record.subject_id, record.case_id) == (sub.submission_id, case.id)
    assert (record.tracking_code, record.actor_role) == (case.tracking_code, "admin")
    assert (record.reason, record.legal_basis) == ("Đơn yêu cầu xoá số 12/2026",
                                                   "NĐ 13/2023 Điều 16")  # fmt: skip
    assert audit_main(["audit", "checkpoint"], store.settings) == 0
    assert chain_heads(store.db)["privacy"] == 1
    assert audit_main(["audit", "verify", "--quiet"], store.settings) == 0


def test_a_subject_that_opened_no_case_loses_its_key_only(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare rating: no case, no photo, no notifier record; the key and the record only."""
    rating = submission(description="", category=None)
    store.app.record_submissions([rating])
    assert next(iter(store.app.events.get(case_id_for(rating.submission_id))), None) is None
    sealed = store.vault.sealer([rating.submission_id])(rating.submission_id, PHONE)
    assert store.erase(str(rating.submission_id), "--subject") == 0
    assert "opened no case" in capsys.readouterr().out
    assert store.vault.reveal(sealed).erased
    assert store.erase(str(rating.submission_id), "--subject") == 1
    [record] = store.erasures()
    assert (record.subject_id, record.case_id, record.tracking_code) == (
        rating.submission_id, None, "")  # fmt: skip
    assert store.erase("not-a-uuid", "--subject") == 2
    assert audit_main(["audit", "checkpoint"], store.settings) == 0
    assert chain_heads(store.db)["privacy"] == 1
    code, out = verify(store.settings, capsys)
    assert code == 0 and "privacy: 1 events" in out, out
