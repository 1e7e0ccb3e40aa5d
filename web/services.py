"""What the web app needs from the rest of the system, injected by whoever starts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from consumers.publisher import IntakePublisher
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.organisation import Organisation
from feedback_core.settings import Settings
from projections.queries import QueueFilters, QueuePage, QueueRow, SubmissionStatus, TimelineRow


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


@dataclass
class WebServices:
    settings: Settings
    organisation: Organisation
    publisher: IntakePublisher
    queries: Queries
    health: Callable[[], Awaitable[dict[str, Any]]]
    clock: Callable[[], datetime] = utc_now
    desk: CaseDesk | None = None  # the handlers' commands; None where only pages are read

    def calendar(self) -> BusinessCalendar:
        """The working days the desk counts with (so badges and due dates agree)."""
        return self.desk.calendar() if self.desk is not None else BusinessCalendar()
