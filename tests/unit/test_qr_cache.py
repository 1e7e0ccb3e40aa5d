"""The web's cache of QR token checks (web.qr_cache), on the real application in memory:
the same answers as ``QrCodesApplication.check``, one store read per counter while the
log stands still, a revocation saved through this process seen at once, and a bounded
size whatever tokens are sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback_core.qr_codes import TokenState, signature
from tests.support.qr import memory_qr_codes
from web.qr_cache import QrCheckCache

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_answers_as_the_application_and_reads_each_counter_once() -> None:
    codes, keyring = memory_qr_codes(b"secret")
    tokens = codes.ensure_codes(["q1", "q2"], keyring, NOW - timedelta(days=1))
    cache = QrCheckCache(codes, keyring, clock=Clock())
    forged = tokens["q1"][:-1] + ("a" if tokens["q1"][-1] != "a" else "b")
    for token in (tokens["q1"], tokens["q2"], forged, "no-such.1.abcdefgh", "garbage"):
        for _ in range(3):
            assert cache.check(token, NOW) == codes.check(token, keyring, NOW)
    assert cache.check(tokens["q1"], NOW).state is TokenState.VALID
    assert cache.check(forged, NOW).state is TokenState.INVALID
    assert cache.reads == 3  # q1, q2 and the unknown counter; "garbage" needs no read


def test_a_revocation_saved_in_this_process_shows_at_once() -> None:
    codes, keyring = memory_qr_codes(b"secret")
    token = codes.ensure_codes(["q1"], keyring, NOW - timedelta(days=1))["q1"]
    clock = Clock()  # never moves: only the save itself can drop the cached aggregate
    cache = QrCheckCache(codes, keyring, clock=clock)
    assert cache.check(token, NOW).state is TokenState.VALID
    codes.revoke(token, NOW - timedelta(minutes=1), "quantri.tayho", "Poster bị dán đè")
    assert cache.check(token, NOW).state is TokenState.REVOKED


def test_the_cache_stays_bounded_whatever_tokens_arrive() -> None:
    codes, keyring = memory_qr_codes(b"secret")
    cache = QrCheckCache(codes, keyring, max_counters=50, clock=Clock())
    for n in range(1_000):  # well-formed tokens of counters that do not exist
        counter = f"forged-{n}"
        token = f"{counter}.1.{signature(counter, 1, keyring.current)}"
        assert cache.check(token, NOW).state is TokenState.INVALID
    assert len(cache) == 50


def test_the_in_memory_answer_only_when_no_store_read_is_due() -> None:
    codes, keyring = memory_qr_codes(b"secret")
    token = codes.ensure_codes(["q1"], keyring, NOW - timedelta(days=1))["q1"]
    clock = Clock()
    cache = QrCheckCache(codes, keyring, clock=clock)
    assert cache.check_in_memory(token, NOW) is None  # nothing held yet
    assert cache.check(token, NOW).state is TokenState.VALID
    assert cache.check_in_memory(token, NOW) == cache.check(token, NOW)
    assert cache.check_in_memory("garbage", NOW) is not None  # refused without any read
    clock.now += 1.0
    assert cache.check_in_memory(token, NOW) is None  # the log position is due again
    cache.check(token, NOW)
    codes.revoke(token, NOW - timedelta(minutes=1), "quantri.tayho", "Poster bị dán đè")
    assert cache.check_in_memory(token, NOW) is None  # a save here: ask the store
    assert cache.check(token, NOW).state is TokenState.REVOKED
