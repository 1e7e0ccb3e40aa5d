"""Reading an application's notification log whole, page by page, as domain events (the
small logs read this way: inspections, erasures)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.application import Application


def logged_events(
    app: Application[Any], page: int = 500, topics: Sequence[str] = ()
) -> Iterator[tuple[int, Any]]:
    """Every (notification id, domain event) of ``app``'s log, oldest first; with
    ``topics``, only the events of those topics."""
    start = 1
    while notifications := app.recorder.select_notifications(start, page, topics=topics):
        for notification in notifications:
            yield notification.id, app.mapper.to_domain_event(notification)
        start = notifications[-1].id + 1
