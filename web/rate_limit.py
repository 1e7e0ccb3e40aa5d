"""A small in-memory sliding-window rate limiter for the citizen's POST of the QR form.

It counts in *this process* only: with several web workers each keeps its own counts, so
the effective limit is the configured one times the number of workers, and a restart
forgets every count. One web process is the supported deployment (see web.services).
Behind a reverse proxy every request comes from the proxy's address: the per-client limit
then counts everyone together, so the proxy should limit per client itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 50_000  # past this the quietest keys are forgotten: memory stays bounded


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds (0 = no limit)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may be counted again; 0 when it may be now."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return 0.0
            self._expire(hits, now)
            if len(hits) < self.limit:
                return 0.0
            return max(hits[0] + self.window - now, 0.0)

    def hit(self, key: str) -> None:
        """Count one request of ``key`` now."""
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._expire(hits, now)
            hits.append(now)
            if len(self._hits) > MAX_KEYS:
                self._prune(now)

    def _expire(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _prune(self, now: float) -> None:
        for key in list(self._hits):
            self._expire(self._hits[key], now)
            if not self._hits[key]:
                del self._hits[key]
        while len(self._hits) > MAX_KEYS:  # still too many: drop the oldest activity first
            oldest = min(self._hits, key=lambda k: self._hits[k][-1])
            del self._hits[oldest]


class SubmissionLimits:
    """The QR form's limits: per client address and per QR code (its counter)."""

    def __init__(
        self,
        per_client: int,
        per_token: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = SlidingWindowLimiter(per_client, window, clock)
        self.token = SlidingWindowLimiter(per_token, window, clock)

    def check(self, client: str, token: str) -> int:
        """Whole seconds to wait (at least 1) when either limit is reached, else 0 and
        the request is counted against both."""
        wait = max(self.client.retry_after(client), self.token.retry_after(token))
        if wait > 0:
            return max(1, math.ceil(wait))
        self.client.hit(client)
        self.token.hit(token)
        return 0
