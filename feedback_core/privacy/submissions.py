"""Seal a submission's contact before it leaves the process that received it.

The web process seals ``contact_email``, ``contact_phone`` and ``contact_zalo`` with the same
vault as the core (same master key, the submission id as subject) *before* publishing, so
the intake topic never holds a contact in clear and an erasure of the subject reaches the
topic's copy too. The core keeps a value already sealed for the submission and seals the
clear values of older producers (``seal_contact``).
"""

from __future__ import annotations

import dataclasses
from uuid import UUID

from feedback_core.intake import IntakeSubmission
from feedback_core.privacy.sealing import subject_of
from feedback_core.privacy.vault import PersonalDataVault, Sealer

CONTACT_FIELDS = ("contact_email", "contact_phone", "contact_zalo")


def seal_contact(seal: Sealer, subject: UUID, value: str) -> str:
    """``value`` sealed for ``subject``, unless it already is (no double sealing)."""
    if not value or subject_of(value) == subject:
        return value
    return seal(subject, value)


def has_clear_contact(submission: IntakeSubmission) -> bool:
    subject = submission.submission_id
    return any(
        (value := getattr(submission, name)) and subject_of(value) != subject
        for name in CONTACT_FIELDS
    )


def seal_submission(vault: PersonalDataVault, submission: IntakeSubmission) -> IntakeSubmission:
    """The submission with its contact fields sealed (the key made once per submission id,
    so a resubmission reuses it); returned as it is when it has no clear contact.
    Blocking (one to three round trips to the key store): call it from a worker thread."""
    if not has_clear_contact(submission):
        return submission
    seal = vault.sealer([submission.submission_id])
    subject = submission.submission_id
    return dataclasses.replace(
        submission,
        contact_email=seal_contact(seal, subject, submission.contact_email),
        contact_phone=seal_contact(seal, subject, submission.contact_phone),
        contact_zalo=seal_contact(seal, subject, submission.contact_zalo),
    )
