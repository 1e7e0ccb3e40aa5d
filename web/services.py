"""What the web app needs from the rest of the system, injected by whoever starts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from consumers.publisher import IntakePublisher
from feedback_core.organisation import Organisation
from feedback_core.settings import Settings
from projections.queries import QueueRow, SubmissionStatus


class Queries(Protocol):
    """The read side the pages use; projections.queries.ViewQueries is the real one."""

    def queue(self, unit_ids: list[str]) -> Sequence[QueueRow]: ...

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
