"""Bounded exponential backoff for waiting out an outage of PostgreSQL or Kafka.

Pure (no sleeping here): the caller asks for the next delay and waits in its own way
(``threading.Event.wait``, ``anyio.sleep``), so a stop request still ends the wait at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float = 0.2
    maximum_s: float = 5.0
    factor: float = 2.0
    attempts: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """The wait before the next attempt: initial, doubled each time, capped."""
        delay = min(self.maximum_s, self.initial_s * self.factor**self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
