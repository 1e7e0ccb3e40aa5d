"""The pure parts of the audit chain: canonical bytes, hashes, the published vectors."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

import pytest

from feedback_core.audit.chain import (
    GENESIS,
    EventHasher,
    canonical_bytes,
    chain_over,
    chain_sha256,
    event_sha256,
)

OID = UUID("5b0c1c2e-6f0a-4a57-9a51-3d4f0b2d6a11")
EVENT_1 = (1, OID.bytes, 1, "feedback_core.ratings:Rating.Given", b'{"score":5}')
EVENT_2 = (3, OID.bytes, 2, None, None)

# The vectors of docs/audit.md ("Known vector"): keep both in step.
CANONICAL_1 = (
    "0000000000000001" "5b0c1c2e6f0a4a579a513d4f0b2d6a11" "0000000000000001"
    "00000022" "666565646261636b5f636f72652e726174696e67733a526174696e672e476976656e"
    "0000000b" "7b2273636f7265223a357d"
)
EVENT_SHA_1 = "b7c83b8c91cc5af395585344e7c08d7c97b24b88c0db4b07de550e1ab7f91d23"
CHAIN_1 = "9def2979b65c0709c83f03e1bf108e4e87f4adbe32447c523256cbf2b8cec555"
CANONICAL_2 = (
    "0000000000000003" "5b0c1c2e6f0a4a579a513d4f0b2d6a11" "0000000000000002"
    "ffffffff" "ffffffff"
)
EVENT_SHA_2 = "f51880c58570c6b9e64e4c294dfa62e7d59745a93f564359c05ca4524358b7f7"
CHAIN_2 = "ac93f2144f91bef7324c7162b4349ad1e11deb890d9309e5b755ecb6909caf03"


def test_known_vector() -> None:
    assert canonical_bytes(*EVENT_1).hex() == CANONICAL_1
    assert canonical_bytes(*EVENT_2).hex() == CANONICAL_2
    assert event_sha256(EVENT_1).hex() == EVENT_SHA_1
    assert event_sha256(EVENT_2).hex() == EVENT_SHA_2
    assert chain_sha256(GENESIS, bytes.fromhex(EVENT_SHA_1)).hex() == CHAIN_1
    assert chain_sha256(bytes.fromhex(CHAIN_1), bytes.fromhex(EVENT_SHA_2)).hex() == CHAIN_2
    assert chain_over([EVENT_1, EVENT_2]).hex() == CHAIN_2


def test_the_vector_with_nothing_but_hashlib() -> None:
    """What a third party does: SHA-256 of the documented bytes, nothing of ours."""
    digest = hashlib.sha256(bytes.fromhex(CANONICAL_1)).digest()
    assert digest.hex() == EVENT_SHA_1
    assert hashlib.sha256(bytes(32) + digest).hexdigest() == CHAIN_1


def test_genesis_is_32_zero_bytes() -> None:
    assert GENESIS == b"\x00" * 32
    assert chain_over([]) == GENESIS


def test_the_fast_hasher_equals_the_documented_encoding() -> None:
    hasher = EventHasher()
    rows = [
        (n, uuid4().bytes, v, t, s)
        for n, v, t, s in [
            (1, 1, "a:B", b""), (2, 7, "é:Ü", b"\x00" * 300), (2**40, 2**33, None, b"x"),
            (9, 1, "", None),
        ]
    ]
    for row in rows:
        assert hasher(row) == hashlib.sha256(canonical_bytes(*row)).digest()
        assert hasher(row) == hasher(row)  # the topic cache does not change the result


def test_originator_id_may_be_given_as_uuid_text_or_bytes() -> None:
    as_bytes = canonical_bytes(1, OID.bytes, 1, "t", b"s")
    assert canonical_bytes(1, OID, 1, "t", b"s") == as_bytes
    assert canonical_bytes(1, str(OID), 1, "t", b"s") == as_bytes
    assert EventHasher()((1, OID, 1, "t", b"s")) == hashlib.sha256(as_bytes).digest()
    with pytest.raises(ValueError):
        canonical_bytes(1, b"short", 1, "t", b"s")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r[0] + 1, *r[1:]),  # another position
        lambda r: (r[0], uuid4().bytes, *r[2:]),  # another aggregate
        lambda r: (*r[:2], r[2] + 1, *r[3:]),  # another version
        lambda r: (*r[:3], r[3] + "x", r[4]),  # another topic
        lambda r: (*r[:4], r[4] + b" "),  # one more byte of state
        lambda r: (*r[:4], b"\x00" + r[4][1:]),  # one byte of state changed
    ],
)
def test_every_field_is_bound(change) -> None:  # type: ignore[no-untyped-def]
    assert event_sha256(change(EVENT_1)) != event_sha256(EVENT_1)


def test_no_ambiguity_between_topic_and_state() -> None:
    """Length prefixes: moving bytes from the topic to the state changes the hash."""
    a = (1, OID.bytes, 1, "ab", b"c")
    b = (1, OID.bytes, 1, "a", b"bc")
    assert canonical_bytes(*a) != canonical_bytes(*b)
    empty = (1, OID.bytes, 1, "", b"")
    null = (1, OID.bytes, 1, None, None)
    assert event_sha256(empty) != event_sha256(null)


def test_the_chain_depends_on_order() -> None:
    first = (1, OID.bytes, 1, "t", b"one")
    second = (2, OID.bytes, 2, "t", b"two")
    swapped = [(1, *second[1:]), (2, *first[1:])]
    assert chain_over([first, second]) != chain_over(swapped)
    assert chain_over([second], chain_over([first])) == chain_over([first, second])
