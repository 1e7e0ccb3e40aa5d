"""What the web app needs from the rest of the system, injected by whoever starts it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from consumers.publisher import IntakePublisher
from feedback_core.api_clients import ApiClients, api_clients_from
from feedback_core.calendar_app import CalendarApplication
from feedback_core.devices import DevicesApplication
from feedback_core.handling import CaseDesk
from feedback_core.inspections import InspectionsApplication
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.local_time import local_date
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of
from feedback_core.organisation import Organisation
from feedback_core.qr_codes import Keyring, QrCodesApplication
from feedback_core.settings import Settings
from projections.queries import QueueFilters, QueuePage, QueueRow, SubmissionStatus, TimelineRow
from web.media import PhotoStore


class Queries(Protocol):
    """The read side the pages use; projections.queries.ViewQueries is the real one."""

    def queue(self, unit_ids: list[str]) -> Sequence[QueueRow]: ...

    def search_queue(
        self, unit_ids: list[str], filters: QueueFilters, page: int = 1, page_size: int = 50
    ) -> QueuePage: ...

    def incoming_transfers(self, unit_ids: list[str]) -> Sequence[QueueRow]: ...

    def case(self, case_id: UUID) -> QueueRow | None: ...

    def timeline(self, case_id: UUID, public_only: bool = True) -> Sequence[TimelineRow]: ...

    def wait_for(
        self, notification_id: int, projection: str = "case_views", timeout: float = 5.0
    ) -> bool: ...

    def submission(self, tracking_code: str) -> SubmissionStatus | None: ...

    def positions(self) -> dict[str, int]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


# Moves the open cases of the units merged by the given date to their successors; returns
# {merged unit: cases moved} (feedback_cli.mergers.pass_cases_of_merged_units, wired in).
PassCases = Callable[[date], Mapping[str, int]]


@dataclass
class WebServices:
    """The parts the pages use.

    ``organisation`` is the directory the pages read (today's tree). The admin pages change
    the tree through ``org_app`` and then call ``refresh_organisation()``, so the next
    request of *this process* sees the change. Changes saved by another process (a second
    web worker, ``feedback org ...``) reach this one through
    ``feedback_cli.services.follow_other_processes`` (within about a second) when the web
    runs as ``feedback web``; several workers are supported (``--workers N``).
    """

    settings: Settings
    organisation: Organisation
    publisher: IntakePublisher
    queries: Queries
    health: Callable[[], Awaitable[dict[str, Any]]]
    clock: Callable[[], datetime] = utc_now
    desk: CaseDesk | None = None  # the handlers' commands; None where only pages are read
    org_app: OrganisationApplication | None = None  # the admin pages and the second factor
    calendar_app: CalendarApplication | None = None  # the admin calendar page
    pass_cases: PassCases | None = None  # after a merger: the merged unit's open cases move
    api_clients: ApiClients | None = None  # machine clients; None = FEEDBACK_API_CLIENTS_FILE
    qr_codes: QrCodesApplication | None = None  # the counters' QR codes (events)
    qr_keyring: Keyring | None = None  # the keys that sign and check them
    inspections: InspectionsApplication | None = None  # inspectors' views, recorded (events)
    photos: PhotoStore | None = None  # citizens' photos (media.photos); None = no photo field
    devices: DevicesApplication | None = None  # counter kiosks and paper-card batches (events)
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)  # e.g. close org_app
    _refreshing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _qr_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _qr_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def calendar(self) -> BusinessCalendar:
        """The working days the desk counts with (so badges and due dates agree)."""
        if self.desk is not None:
            return self.desk.calendar()
        if self.calendar_app is not None:
            return self.calendar_app.calendar()
        return BusinessCalendar()

    def today(self) -> date:
        """Today in Hà Nội, by this app's clock."""
        return local_date(self.clock())

    def refresh_organisation(self) -> Organisation:
        """Read today's directory again from the organisation's event store (after an
        admin change); requests that started earlier keep the directory they read."""
        if self.org_app is None:
            return self.organisation
        with self._refreshing:
            self.organisation = directory_as_of(self.org_app, self.today())
        return self.organisation

    def qr(self) -> tuple[QrCodesApplication, Keyring]:
        """The QR codes application and its keyring; RuntimeError when not wired in."""
        if self.qr_codes is None or self.qr_keyring is None:
            raise RuntimeError("this web app was started without the QR codes")
        return self.qr_codes, self.qr_keyring

    def qr_token_of(self, counter_id: str) -> str:
        """The token printed in the counter's QR code now. Read once (``ensure_codes``,
        which issues a first code where none is in service) and kept; an admin's issue or
        revocation here calls ``forget_qr_token``."""
        token = self._qr_tokens.get(counter_id)
        if token is None:
            codes, keyring = self.qr()
            with self._qr_lock:
                tokens = codes.ensure_codes([counter_id], keyring, self.clock(), "system")
                token = self._qr_tokens[counter_id] = tokens[counter_id]
        return token

    def remember_qr_tokens(self, tokens: Mapping[str, str]) -> None:
        self._qr_tokens.update(tokens)

    def forget_qr_token(self, counter_id: str) -> None:
        """After a code of the counter was issued or revoked: read it again next time."""
        self._qr_tokens.pop(counter_id, None)

    def shutdown(self) -> None:
        """Release what the composition root handed over (called when the app stops)."""
        while self.on_shutdown:
            self.on_shutdown.pop()()


def load_api_clients(services: WebServices) -> ApiClients:
    """``services.api_clients``, or (when the composition root gave none) the clients of
    ``FEEDBACK_API_CLIENTS_FILE``, read once; a missing file means no client."""
    if services.api_clients is None:
        path = services.settings.api_clients_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            logging.getLogger(__name__).warning(
                "no API clients file at %s: every API key is refused", path
            )
            data = {}
        services.api_clients = api_clients_from(data)
    return services.api_clients
