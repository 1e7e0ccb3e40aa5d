"""The place a case is about (an Open311 request's address and coordinates), for the
staff case page."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from web.case_received import case_received
from web.services import WebServices


@dataclass(frozen=True)
class CasePlace:
    address: str
    latitude: float | None
    longitude: float | None


def case_place(services: WebServices, case_id: UUID) -> CasePlace | None:
    """Read from the case's first event in the event store, like its contact and photo;
    None when the channel gave no place or there is no store to read."""
    received = case_received(services, case_id, "place")
    if received is None:
        return None
    if not received.address and received.latitude is None:
        return None
    return CasePlace(received.address, received.latitude, received.longitude)
