"""Personal data sealed per subject and erased by deleting the subject's key (in memory)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.intake import Channel, IntakeSubmission
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault, is_sealed
from feedback_core.privacy.erasures import ErasureLog, ErasureRefused, ErasureRequest
from feedback_core.privacy.requests import erase_subject
from feedback_core.privacy.sealing import seal, unseal
from feedback_core.privacy.vault import reveal_text

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def vault() -> PersonalDataVault:
    return PersonalDataVault(InMemoryKeyStore(), os.urandom(32))


def submission(phone: str = "0912345678", email: str = "an.nguyen@example.vn") -> IntakeSubmission:
    return IntakeSubmission(
        submission_id=uuid4(), channel=Channel.QR, unit_id="u", office_id="o", counter_id="c",
        submitted_at=NOW, rating=4, description="Chờ quá lâu", contact_phone=phone,
        contact_email=email, wants_updates=True,
    )  # fmt: skip


def test_round_trip_and_the_subject_is_bound() -> None:
    key, subject = os.urandom(32), uuid4()
    sealed = seal(key, subject, "0912345678")
    assert is_sealed(sealed) and "0912345678" not in sealed
    assert unseal(key, sealed) == "0912345678"
    assert unseal(os.urandom(32), sealed) is None  # another key does not open it
    moved = sealed.replace(str(subject), str(uuid4()))
    assert unseal(key, moved) is None  # the subject is associated data: no moving it
    assert seal(key, subject, "") == ""


def test_vault_reveals_until_erased() -> None:
    v, subject = vault(), uuid4()
    sealed = v.sealer([subject])(subject, "an.nguyen@example.vn")
    assert v.reveal(sealed).text == "an.nguyen@example.vn"
    assert v.erase(subject) is True
    after = v.reveal(sealed)
    assert after.erased and after.text == ""
    assert v.erase(subject) is False  # already erased
    assert v.sealer([subject])(subject, "again") == ""  # never a new key for an erased one


def test_a_wrong_master_key_reads_nothing() -> None:
    store = InMemoryKeyStore()
    subject = uuid4()
    sealed = PersonalDataVault(store, os.urandom(32)).sealer([subject])(subject, "0912345678")
    other = PersonalDataVault(store, os.urandom(32)).reveal(sealed)
    assert other.unreadable and other.text == ""


def test_clear_values_of_old_events_read_as_they_are() -> None:
    assert vault().reveal("0912345678").text == "0912345678"
    assert reveal_text(None, "0912345678").text == "0912345678"
    assert reveal_text(None, "pd1:00000000-0000-0000-0000-000000000000:AAAA").unreadable


def test_the_case_event_holds_the_contact_sealed() -> None:
    v = vault()
    app = CasesApplication(env=POPO, personal_data=v)
    sub = submission()
    app.record_submissions([sub])
    case: Case = app.repository.get(case_id_for(sub.submission_id))
    received = next(iter(app.events.get(case.id)))
    assert isinstance(received, Case.Received)
    assert is_sealed(received.contact_phone) and is_sealed(received.contact_email)
    assert v.reveal(received.contact_phone).text == "0912345678"
    email, phone = case.recipients[0]
    assert v.reveal(email).text == "an.nguyen@example.vn"
    assert "0912345678" not in repr(case.__dict__)


def test_erasure_is_recorded_and_needs_a_basis() -> None:
    v, log, subject = vault(), ErasureLog(env=POPO), uuid4()
    sealed = v.sealer([subject])(subject, "0912345678")
    with pytest.raises(ErasureRefused):
        log.erase(v, ErasureRequest("a", "admin", "yêu cầu", " ", NOW), subject_id=subject)
    assert v.reveal(sealed).text == "0912345678"
    log.erase(v, ErasureRequest("quantri", "admin", " Công dân yêu cầu", "NĐ 13/2023 Điều 16", NOW),
              subject_id=subject, tracking_code="ABC")  # fmt: skip
    assert v.reveal(sealed).erased
    [record] = list(log.erasures())
    assert (record.actor, record.legal_basis) == ("quantri", "NĐ 13/2023 Điều 16")
    assert (record.reason, record.tracking_code, record.case_id) == (
        "Công dân yêu cầu",
        "ABC",
        None,
    )
    assert "0912345678" not in repr(vars(record))


def test_a_subject_that_opened_a_case_is_erased_as_the_case() -> None:
    v, log = vault(), ErasureLog(env=POPO)
    app = CasesApplication(env=POPO, personal_data=v)
    complaint, bare = submission(), replace(submission(), description="", category=None)
    app.record_submissions([complaint, bare])
    cleared: list[UUID] = []
    request = ErasureRequest("quantri", "admin", "Đơn 3/2026", "NĐ 13/2023 Điều 16", NOW)

    done = erase_subject(app.events, v, log, complaint.submission_id, request,
                         [lambda case: cleared.append(case.case_id)])  # fmt: skip
    case_id = case_id_for(complaint.submission_id)
    assert done.case is not None and done.case.case_id == case_id and done.erased_now
    assert cleared == [case_id]
    received = next(iter(app.events.get(case_id)))
    assert isinstance(received, Case.Received) and v.reveal(received.contact_phone).erased

    rating_only = erase_subject(app.events, v, log, bare.submission_id, request,
                                [lambda case: cleared.append(case.case_id)])  # fmt: skip
    assert rating_only.case is None and rating_only.erased_now and cleared == [case_id]
    again = erase_subject(app.events, v, log, complaint.submission_id, request)
    assert not again.erased_now and again.case is not None
    records = list(log.erasures())
    assert [(r.subject_id, r.case_id) for r in records] == [
        (complaint.submission_id, case_id), (bare.submission_id, None)]  # fmt: skip
    assert records[0].tracking_code == received.tracking_code
