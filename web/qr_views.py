"""What the admin pages show of the counters' QR codes: each counter's code in service
and the history of its codes (``QrCodesApplication.history``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedback_core.organisation import Counter, Organisation
from web.services import WebServices


def current_tokens(services: WebServices, counters: list[Counter]) -> dict[str, str]:
    """The code in service of each open counter (issuing a first one where none is)."""
    if services.qr_codes is None:
        return {}
    return {c.id: services.qr_token_of(c.id) for c in counters if not c.closed}


def history_of(services: WebServices, counters: list[Counter]) -> list[
    tuple[Counter, list[Mapping[str, Any]]]
]:
    """Every issue and revocation of these counters' codes, counter by counter."""
    if services.qr_codes is None:
        return []
    codes = services.qr_codes
    return [(c, codes.history(c.id)) for c in counters]


def counters_of_unit(org: Organisation, unit_id: str) -> list[Counter]:
    """The counters of a unit's own one-stop offices, or of the office itself."""
    offices = {unit_id} if unit_id in org.offices else {
        o.id for o in org.offices.values() if o.unit_id == unit_id
    }
    return sorted((c for c in org.counters.values() if c.office_id in offices),
                  key=lambda c: c.id)
