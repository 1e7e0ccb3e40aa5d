"""A case's first event, ``Case.Received``: what the channel gave that the views do not hold
(the contact, the photo, the place), read from the event store for the staff pages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from uuid import UUID

from feedback_core.cases import Case

if TYPE_CHECKING:
    from web.services import WebServices

log = logging.getLogger(__name__)


def case_received(services: WebServices, case_id: UUID, what: str) -> Case.Received | None:
    """The ``Received`` event of the case; None when there is no store to read (a web app
    without the case desk), no such case, or the read failed (logged, naming ``what`` was
    being read), so the page still shows without it."""
    if services.desk is None:
        return None
    try:
        store = services.desk.app.repository.event_store
        received = next(iter(store.get(case_id, lte=1)), None)
    except Exception:
        log.exception("reading the %s of case %s failed", what, case_id)
        return None
    return received if isinstance(received, Case.Received) else None
