"""Contacts sealed at the edge (web) before publishing; the core keeps them as they are and
still seals the clear values of older producers (docs/privacy.md)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from consumers.publisher import IntakePublisher
from consumers.sealing_publisher import SealingIntakePublisher, sealing
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.intake import IntakeError, from_json, to_json
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault, is_sealed
from feedback_core.privacy.submissions import seal_submission
from tests.unit.test_intake import submission

EMAIL, PHONE, ZALO = "lan@example.vn", "0912345678", "4318021190:follower-1"


@pytest.fixture
def vault() -> PersonalDataVault:
    return PersonalDataVault(InMemoryKeyStore(), os.urandom(32))


def the_case(found: list[Any]) -> Case:
    [case] = [agg for agg in found if isinstance(agg, Case)]
    return case


def test_the_edge_seals_every_contact_for_the_submission(vault: PersonalDataVault) -> None:
    sub = submission(
        contact_email=EMAIL, contact_phone=PHONE, contact_zalo=ZALO, wants_updates=True
    )
    sealed = seal_submission(vault, sub)
    raw = to_json(sealed)
    assert EMAIL.encode() not in raw and PHONE.encode() not in raw and b"follower-1" not in raw
    assert from_json(raw) == sealed  # the consumer decodes and accepts it
    assert [
        vault.reveal(v).text
        for v in (sealed.contact_email, sealed.contact_phone, sealed.contact_zalo)
    ] == [EMAIL, PHONE, ZALO]
    assert seal_submission(vault, sealed) is sealed  # nothing left to seal
    again = seal_submission(vault, sub)  # a resubmission: the same key opens it
    assert vault.reveal(again.contact_phone).text == PHONE
    plain = submission()
    assert seal_submission(vault, plain) is plain


def test_the_core_keeps_a_sealed_value_and_seals_a_clear_one(vault: PersonalDataVault) -> None:
    sub = submission(contact_email=EMAIL, contact_phone=PHONE, wants_updates=True)
    edge = seal_submission(vault, sub)
    mixed = edge.__class__(**{**edge.__dict__, "contact_phone": PHONE})  # an older producer
    seal = vault.sealer([sub.submission_id])
    [(email, phone, *_)] = the_case(aggregates_for(mixed, BusinessCalendar(), seal=seal)).recipients
    assert email == edge.contact_email  # kept: not sealed twice
    assert is_sealed(phone) and PHONE not in phone
    assert vault.reveal(email).text == EMAIL
    assert vault.reveal(phone).text == PHONE


def test_the_core_stores_an_edge_sealed_submission_readable(vault: PersonalDataVault) -> None:
    app = CasesApplication(personal_data=vault)
    edge = seal_submission(vault, submission(contact_phone=PHONE, wants_updates=True))
    app.record_submissions([edge])
    case: Case = app.repository.get(case_id_for(edge.submission_id))
    [(_, phone, *_)] = case.recipients
    assert phone == edge.contact_phone
    assert vault.reveal(phone).text == PHONE
    vault.erase(edge.submission_id)
    assert vault.reveal(edge.contact_phone).erased  # the topic's copy too


def test_a_value_sealed_for_another_submission_is_refused(vault: PersonalDataVault) -> None:
    other = seal_submission(vault, submission(contact_phone=PHONE))
    with pytest.raises(IntakeError) as refused:
        submission(contact_phone=other.contact_phone)
    assert refused.value.code == "schema"
    with pytest.raises(IntakeError) as invalid:  # clear values are still checked
        submission(contact_phone="12")
    assert invalid.value.code == "phone_invalid"


class Recording:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def start(self) -> None: ...

    async def publish(self, submission: Any) -> None:
        self.published.append(submission)

    async def stop(self) -> None: ...

    def describe(self) -> dict[str, object]:
        return {"kind": "recording"}


def test_the_sealing_publisher_hands_on_sealed_submissions(vault: PersonalDataVault) -> None:
    import anyio

    inner = Recording()
    publisher: IntakePublisher = sealing(inner, vault)
    assert isinstance(publisher, SealingIntakePublisher)
    assert sealing(publisher, vault) is publisher and sealing(inner, None) is inner
    sub = submission(contact_email=EMAIL, wants_updates=True)
    anyio.run(publisher.publish, sub)
    [sent] = inner.published
    assert sent.submission_id == sub.submission_id and is_sealed(sent.contact_email)
    assert publisher.describe()["contacts"] == "sealed"
