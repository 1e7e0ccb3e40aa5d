"""The QR token check without a PostgreSQL read per request.

Every QR page and QR POST checks its token (``feedback_core.qr_codes.check_token``). The
check needs the counter's ``CounterQrCodes`` aggregate; reading it from the event store on
every request cost a round trip and 17 % of the web's active time (docs/performance.md).
This cache keeps the aggregates of the counters asked about, in an LRU of bounded size,
and knows how fresh they are by the QR codes log:

* a save through this process's application (an admin's revoke or issue on this web
  process) drops the cache at once (``QrCodesApplication.saves_here``);
* a save by another process (a second web worker, ``feedback qr revoke``) is seen through
  the log's position (``max_notification_id``), asked at most once per ``max_age``
  seconds: **a revocation takes effect within ``max_age`` (1 s) in every web process**.

The check itself (signature, key grace period, revocation time) runs on every request on
the cached aggregate, so the time-dependent answers (a key's grace period ending at
midnight) are never stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from cachetools import LRUCache

from feedback_core.qr_codes import (
    CounterQrCodes,
    Keyring,
    QrCodesApplication,
    TokenCheck,
    TokenState,
    check_token,
    parse_token,
)

MAX_AGE_SECONDS = 1.0  # the bound on how long another process's revocation goes unseen
MAX_COUNTERS = 20_000  # aggregates kept (a few kB each); forged counter ids evict the quietest


class QrCheckCache:
    """``check(token, at)`` as ``QrCodesApplication.check``, from cached aggregates."""

    def __init__(
        self,
        codes: QrCodesApplication,
        keyring: Keyring,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_counters: int = MAX_COUNTERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.codes = codes
        self.keyring = keyring
        self.max_age = max_age
        self.clock = clock
        self._aggregates: LRUCache[str, CounterQrCodes | None] = LRUCache(max_counters)
        self._lock = threading.Lock()
        self._position = -1  # the log position the cached aggregates are at least as new as
        self._saves_seen = -1
        self._checked_at = float("-inf")
        self._generation = 0  # bumped on every drop
        self.reads = 0  # aggregates read from the store (for tests and profiling)

    def __len__(self) -> int:
        return len(self._aggregates)

    def check(self, token: str, at: datetime) -> TokenCheck:
        parsed = parse_token(token)
        if parsed is None:
            return TokenCheck(TokenState.INVALID)
        return check_token(self._codes_of(parsed[0]), token, self.keyring, at)

    def check_in_memory(self, token: str, at: datetime) -> TokenCheck | None:
        """The check when it needs no round trip to the store (the position was asked less
        than ``max_age`` ago and the counter's codes are held), else None: the caller then
        runs ``check`` in a worker thread. Saves a thread hand-off per request."""
        parsed = parse_token(token)
        if parsed is None:
            return TokenCheck(TokenState.INVALID)
        if self.codes.saves_here != self._saves_seen or (
            self.clock() - self._checked_at >= self.max_age
        ):
            return None
        with self._lock:
            if parsed[0] not in self._aggregates:
                return None
            codes = self._aggregates[parsed[0]]
        return check_token(codes, token, self.keyring, at)

    def _codes_of(self, counter_id: str) -> CounterQrCodes | None:
        self._drop_if_stale()
        with self._lock:
            if counter_id in self._aggregates:
                return self._aggregates[counter_id]
            generation = self._generation
        codes = self.codes.codes_of(counter_id)  # outside the lock: a round trip
        self.reads += 1
        with self._lock:
            # Not kept when the cache was dropped meanwhile: the read may predate the change.
            if generation == self._generation:
                self._aggregates[counter_id] = codes
        return codes

    def _drop_if_stale(self) -> None:
        """Drop every aggregate when the log moved. The position is read *before* any
        aggregate read that follows, so a cached aggregate is never older than it."""
        now = self.clock()
        saves = self.codes.saves_here
        if saves == self._saves_seen and now - self._checked_at < self.max_age:
            return
        position = self.codes.max_notification_id()
        with self._lock:
            if position != self._position or saves != self._saves_seen:
                self._aggregates.clear()
                self._generation += 1
            self._position, self._saves_seen, self._checked_at = position, saves, now
