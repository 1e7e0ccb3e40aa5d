"""One lawful erasure request for a case, the same for the command and the admin page.

Recorded first (``PersonalDataErased``), then the subject's key deleted; what else holds the
citizen's data outside the events (the photo, the notifier's record) is cleared by the
``cleanups`` the caller passes, which also run when the key was already gone, so running the
request again finishes a cleanup that failed half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from feedback_core.cases import Case
from feedback_core.privacy.erasures import ErasureLog, ErasureRefused, subject_of_case
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
class ErasureRequest:
    actor: str
    actor_role: str
    reason: str
    legal_basis: str
    at: datetime


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
    received = next(iter(events.get(case_id, lte=1)), None)
    if not isinstance(received, Case.Received):
        raise ErasureRefused(f"no case with the id {case_id}")
    subject = subject_of_case(received)
    erased_now = not vault.is_erased(subject)
    if erased_now:
        log.erase(
            vault, subject_id=subject, case_id=case_id, tracking_code=received.tracking_code,
            actor=request.actor, actor_role=request.actor_role, reason=request.reason,
            legal_basis=request.legal_basis, at=request.at,
        )  # fmt: skip
    done = CaseErasure(case_id, subject, received.tracking_code,
                       getattr(received, "photo_id", "") or "", erased_now)  # fmt: skip
    for cleanup in cleanups:
        cleanup(done)
    return done
