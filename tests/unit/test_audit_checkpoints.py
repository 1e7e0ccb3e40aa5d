"""Signed checkpoints: the signed message, Ed25519 signatures, keys, the export format."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedback_core.audit.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    SignedCheckpoint,
    export_document,
    key_id,
    latest_per_application,
    load_signing_key,
    new_signing_key_pem,
    parse_public_key,
    public_key_bytes,
    public_key_pem,
    read_document,
    sign,
)

SEED = bytes(range(32))  # the key of docs/audit.md's checkpoint vector
CHAIN = bytes.fromhex("ac93f2144f91bef7324c7162b4349ad1e11deb890d9309e5b755ecb6909caf03")
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
MESSAGE = (
    '{"application":"cases","chain_sha256":"ac93f2144f91bef7324c7162b4349ad1e11deb890d9309e5b'
    '755ecb6909caf03","created_at":"2026-11-23T09:30:00Z","format":"phan-anh/audit-checkpoint'
    '/v1","notification_id":3}'
)
PUBLIC = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
SIGNATURE = (
    "I9hkECbAfs80ZF3xlaxYYmJRlIQRKFZqz1DRjT5ZbEPt6S6ccuF9CSjEGACpKHhHI64Bq7vgZg9qQlFyC85eBA=="
)


def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(SEED)


def test_known_checkpoint_vector() -> None:
    checkpoint = Checkpoint("cases", 3, CHAIN, AT)
    assert checkpoint.message().decode() == MESSAGE
    signed = sign(checkpoint, key())
    assert base64.b64encode(signed.public_key).decode() == PUBLIC
    assert base64.b64encode(signed.signature).decode() == SIGNATURE  # Ed25519 is deterministic
    assert signed.signature_valid()
    assert signed.key_id == key_id(signed.public_key) == "56475aa75463474c"


def test_the_vector_checks_with_the_public_key_alone() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(PUBLIC))
    public.verify(base64.b64decode(SIGNATURE), MESSAGE.encode())  # raises if wrong


def test_time_is_signed_in_utc_to_the_second() -> None:
    hanoi = timezone(timedelta(hours=7))
    local = datetime(2026, 11, 23, 16, 30, 0, 123456, tzinfo=hanoi)
    assert Checkpoint("cases", 3, CHAIN, local) == Checkpoint("cases", 3, CHAIN, AT)
    with pytest.raises(ValueError):
        Checkpoint("cases", 3, CHAIN, datetime(2026, 11, 23))
    with pytest.raises(ValueError):
        Checkpoint("cases", 3, b"short", AT)


@pytest.mark.parametrize(
    "field, value",
    [
        ("application", "organisation"),
        ("notification_id", 4),
        ("chain_sha256", bytes(32)),
        ("created_at", AT + timedelta(seconds=1)),
    ],
)
def test_changing_any_signed_field_breaks_the_signature(field: str, value: object) -> None:
    signed = sign(Checkpoint("cases", 3, CHAIN, AT), key())
    changes: dict[str, Any] = {field: value}
    forged = dataclasses.replace(
        signed, checkpoint=dataclasses.replace(signed.checkpoint, **changes)
    )
    assert not forged.signature_valid()


def test_another_key_does_not_verify() -> None:
    signed = sign(Checkpoint("cases", 3, CHAIN, AT), key())
    other = public_key_bytes(Ed25519PrivateKey.generate())
    assert not dataclasses.replace(signed, public_key=other).signature_valid()
    assert not dataclasses.replace(signed, signature=bytes(64)).signature_valid()


def test_signing_key_from_pem_or_base64_seed() -> None:
    pem = key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    expected = public_key_bytes(key())
    assert public_key_bytes(load_signing_key(pem)) == expected
    assert public_key_bytes(load_signing_key(base64.b64encode(SEED).decode())) == expected
    assert public_key_bytes(load_signing_key(base64.urlsafe_b64encode(SEED).decode())) == expected
    fresh = load_signing_key(new_signing_key_pem())
    assert public_key_bytes(fresh) != expected


@pytest.mark.parametrize("text", ["", "not base64!", base64.b64encode(b"x" * 31).decode(),
                                  "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"])
def test_bad_signing_keys_are_refused(text: str) -> None:
    with pytest.raises(CheckpointFormatError):
        load_signing_key(text)


def test_public_key_from_pem_or_base64() -> None:
    raw = public_key_bytes(key())
    assert parse_public_key(PUBLIC) == raw
    assert parse_public_key(public_key_pem(raw)) == raw
    with pytest.raises(CheckpointFormatError):
        parse_public_key("AAAA")


def test_export_document_round_trip() -> None:
    signed = [
        sign(Checkpoint("cases", 3, CHAIN, AT), key()),
        sign(Checkpoint("cases", 9, bytes(32), AT + timedelta(hours=1)), key()),
        sign(Checkpoint("calendar", 2, bytes(32), AT), key()),
    ]
    document = json.loads(json.dumps(export_document(signed)))
    assert document["format"] == "phan-anh/audit-checkpoints/v1"
    assert document["checkpoints"][0]["public_key"] == PUBLIC
    assert read_document(document) == signed
    latest = latest_per_application(signed)
    assert [(s.checkpoint.application, s.checkpoint.notification_id) for s in latest] == [
        ("calendar", 2), ("cases", 9)]


@pytest.mark.parametrize(
    "document",
    [
        None, [], {"format": "other"}, {"format": "phan-anh/audit-checkpoints/v1"},
        {"format": "phan-anh/audit-checkpoints/v1", "checkpoints": ["x"]},
        {"format": "phan-anh/audit-checkpoints/v1", "checkpoints": [{"format": "x"}]},
    ],
)
def test_malformed_documents_are_refused(document: object) -> None:
    with pytest.raises(CheckpointFormatError):
        read_document(document)


def test_a_malformed_checkpoint_is_refused() -> None:
    good = sign(Checkpoint("cases", 3, CHAIN, AT), key()).to_json()
    for field, value in [("notification_id", "3"), ("chain_sha256", "zz"),
                         ("signature", "AAAA"), ("created_at", "yesterday")]:
        with pytest.raises(CheckpointFormatError):
            SignedCheckpoint.from_json({**good, field: value})
    del good["application"]
    with pytest.raises(CheckpointFormatError):
        SignedCheckpoint.from_json(good)
