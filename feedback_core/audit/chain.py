"""Canonical bytes of a stored event and the hash chain over them (pure: no I/O).

The encoding is fixed and documented byte by byte in docs/audit.md, so that a third party
can recompute every hash from a copy of the event tables without this code:

    canonical = i64(notification_id) ‖ originator_id (16 bytes, RFC 4122 order)
              ‖ i64(originator_version) ‖ u32(len(topic)) ‖ topic (UTF-8)
              ‖ u32(len(state)) ‖ state (the stored bytes, as they are in the table)

    event_sha256 = SHA-256(canonical)
    chain_0      = 32 zero bytes (per application)
    chain_n      = SHA-256(chain_{n-1} ‖ event_sha256_n)

Integers are big-endian; ``i64`` is two's complement (PostgreSQL ``bigint``); a NULL topic
or state is written as the length 0xFFFFFFFF with no bytes after it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from typing import Any
from uuid import UUID

GENESIS = bytes(32)
NULL_LENGTH = 0xFFFF_FFFF
FORMAT = "phan-anh/audit-chain/v1"

_I64 = struct.Struct(">q")
_U32 = struct.Struct(">I")
_sha256 = hashlib.sha256
_NULL_FIELD = _U32.pack(NULL_LENGTH)

# One stored event as read from the notification log: (notification_id, originator_id as
# its 16 bytes, originator_version, topic, state). Plain tuples, because the verifier reads
# a million of them and a tuple costs nothing to make.
EventRow = tuple[int, bytes, int, "str | None", "bytes | None"]


def originator_bytes(originator_id: UUID | bytes | str) -> bytes:
    """The 16 bytes of an originator id (PostgreSQL's ``uuid_send``, Python's ``UUID.bytes``)."""
    if isinstance(originator_id, bytes):
        if len(originator_id) != 16:
            raise ValueError(f"an originator id has 16 bytes, got {len(originator_id)}")
        return originator_id
    if isinstance(originator_id, str):
        originator_id = UUID(originator_id)
    return originator_id.bytes


def _field(value: bytes | None) -> bytes:
    if value is None:
        return _U32.pack(NULL_LENGTH)
    if len(value) >= NULL_LENGTH:
        raise ValueError("a field of 4 GiB or more cannot be encoded")
    return _U32.pack(len(value)) + value


def canonical_bytes(
    notification_id: int,
    originator_id: UUID | bytes | str,
    originator_version: int,
    topic: str | None,
    state: bytes | None,
) -> bytes:
    """The canonical encoding of one stored event (see the module docstring)."""
    return b"".join((
        _I64.pack(notification_id),
        originator_bytes(originator_id),
        _I64.pack(originator_version),
        _field(None if topic is None else topic.encode("utf-8")),
        _field(state),
    ))


def event_sha256(row: EventRow) -> bytes:
    """SHA-256 of the canonical bytes of ``row``."""
    return _sha256(canonical_bytes(*row)).digest()


def chain_sha256(previous: bytes, event_hash: bytes) -> bytes:
    """The next link: SHA-256(previous link ‖ event hash)."""
    return _sha256(previous + event_hash).digest()


class EventHasher:
    """``event_sha256`` for the hot loops: the topic's encoded length prefix is cached
    (a log has a few dozen topics), and the parts are fed to one hash object."""

    def __init__(self) -> None:
        self._topics: dict[str | None, bytes] = {}

    def topic_field(self, topic: str | None) -> bytes:
        encoded = self._topics.get(topic)
        if encoded is None:
            encoded = _field(None if topic is None else topic.encode("utf-8"))
            self._topics[topic] = encoded
        return encoded

    def __call__(self, row: tuple[Any, ...]) -> bytes:
        notification_id, originator, version, topic, state = row
        if not isinstance(originator, bytes) or len(originator) != 16:
            originator = originator_bytes(originator)
        h = _sha256(_I64.pack(notification_id) + originator + _I64.pack(version))
        h.update(self.topic_field(topic))
        if state is None:
            h.update(_NULL_FIELD)
        elif len(state) < NULL_LENGTH:
            h.update(_U32.pack(len(state)))
            h.update(state)
        else:
            raise ValueError("a field of 4 GiB or more cannot be encoded")
        return h.digest()


def chain_over(rows: Iterable[EventRow], previous: bytes = GENESIS) -> bytes:
    """The chain head after ``rows`` (in notification order), starting from ``previous``."""
    hasher = EventHasher()
    for row in rows:
        previous = _sha256(previous + hasher(row)).digest()
    return previous


def chain_rows(
    rows: Iterable[EventRow], previous: bytes = GENESIS
) -> list[tuple[int, bytes, int, str | None, bytes, bytes]]:
    """The chain rows the projection writes for ``rows``: (notification_id, originator,
    version, topic, event_sha256, chain_sha256)."""
    hasher = EventHasher()
    out = []
    for row in rows:
        digest = hasher(row)
        previous = _sha256(previous + digest).digest()
        out.append((row[0], row[1], row[2], row[3], digest, previous))
    return out
