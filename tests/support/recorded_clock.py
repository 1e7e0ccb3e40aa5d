"""The event store's recording clock, set by a test or a benchmark: the ``timestamp`` the
library gives every new event (its ``create_timestamp``). "As of" a past day cuts on these
recorded times, so a test records a workload over several days without waiting for them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from eventsourcing.domain import CanCreateTimestamp


class RecordedClock:
    """Recorded times from ``now``, a microsecond apart (so they keep the log's order)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def set(self, now: datetime) -> None:
        self.now = now

    def tick(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now


@contextmanager
def recorded_clock(start: datetime) -> Iterator[RecordedClock]:
    """Inside the block every new event is recorded at the clock's time, not the machine's."""
    clock = RecordedClock(start)
    original = CanCreateTimestamp.__dict__["create_timestamp"]
    CanCreateTimestamp.create_timestamp = staticmethod(clock.tick)  # type: ignore[method-assign]
    try:
        yield clock
    finally:
        CanCreateTimestamp.create_timestamp = original  # type: ignore[method-assign]
