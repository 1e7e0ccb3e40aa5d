"""The place a case is about (an Open311 request's address and coordinates), for the
staff case page."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from feedback_core.cases import Case
from web.services import WebServices

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CasePlace:
    address: str
    latitude: float | None
    longitude: float | None


def case_place(services: WebServices, case_id: UUID) -> CasePlace | None:
    """Read from the case's first event in the event store, like its contact and photo;
    None when the channel gave no place or there is no store to read."""
    if services.desk is None:
        return None
    try:
        store = services.desk.app.repository.event_store
        received = next(iter(store.get(case_id, lte=1)), None)
    except Exception:
        log.exception("reading the place of case %s failed", case_id)
        return None
    if not isinstance(received, Case.Received):
        return None
    if not received.address and received.latitude is None:
        return None
    return CasePlace(received.address, received.latitude, received.longitude)
