"""One lawful erasure request for a case or a subject, the same for the command and the
admin page.

Recorded first (``PersonalDataErased``), then the subject's key deleted; what else holds the
citizen's data outside the events (the photo, the notifier's record) is cleared by the
``cleanups`` the caller passes, which also run when the key was already gone, so running the
request again finishes a cleanup that failed half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from feedback_core.privacy.erasures import (
    ErasureLog,
    ErasureRefused,
    ErasureRequest,
    subject_of_case,
)
from feedback_core.privacy.vault import PersonalDataVault


@dataclass(frozen=True)
class CaseErasure:
    case_id: UUID
    subject_id: UUID
    tracking_code: str
    photo_id: str  # "" when the case came without a photo
    erased_now: bool  # False: the key had been erased before (cleanups ran again)


Cleanup = Callable[[CaseErasure], object]


@dataclass(frozen=True)
class SubjectErasure:
    subject_id: UUID
    erased_now: bool  # False: the key had been erased before
    case: CaseErasure | None  # the case the subject's submission opened, erased with it


def erase_case(
    events: Any,
    vault: PersonalDataVault,
    log: ErasureLog,
    case_id: UUID,
    request: ErasureRequest,
    cleanups: Sequence[Cleanup] = (),
) -> CaseErasure:
    """Erase the personal data of a case (``events``: the cases application's event store,
    ``app.events``). Raises ``ErasureRefused`` for an unknown case or a request without a
    reason or legal basis."""
    received = case_received(events, case_id)
    if received is None:
        raise ErasureRefused(f"no case with the id {case_id}")
    subject = subject_of_case(received)
    erased_now = not vault.is_erased(subject)
    if erased_now:
        log.erase(vault, request, subject_id=subject, case_id=case_id,
                  tracking_code=received.tracking_code)  # fmt: skip
    done = CaseErasure(case_id, subject, received.tracking_code,
                       getattr(received, "photo_id", "") or "", erased_now)  # fmt: skip
    for cleanup in cleanups:
        cleanup(done)
    return done


def erase_subject(
    events: Any,
    vault: PersonalDataVault,
    log: ErasureLog,
    subject_id: UUID,
    request: ErasureRequest,
    cleanups: Sequence[Cleanup] = (),
) -> SubjectErasure:
    """Erase a subject's personal data. A subject id is a submission id: when that submission
    opened a case (``case_id_for``), exactly what ``erase_case`` erases (the case's contact is
    sealed for its own submission, so it is the same key), cleanups included; otherwise (a
    bare rating) the key alone."""
    case_id = case_id_for(subject_id)
    if case_received(events, case_id) is not None:
        done = erase_case(events, vault, log, case_id, request, cleanups)
        return SubjectErasure(done.subject_id, done.erased_now, done)
    erased_now = not vault.is_erased(subject_id)
    if erased_now:
        log.erase(vault, request, subject_id=subject_id)
    return SubjectErasure(subject_id, erased_now, None)


def case_received(events: Any, case_id: UUID) -> Case.Received | None:
    """The case's first event, None when no case has that id."""
    received = next(iter(events.get(case_id, lte=1)), None)
    return received if isinstance(received, Case.Received) else None
