"""Signed checkpoints of a chain head (Ed25519), and their export format (pure: no I/O).

A checkpoint says "in application A, the chain over every event up to notification N is
H, as of time T". The signed message is the UTF-8 JSON object, keys sorted, no spaces::

    {"application":"cases","chain_sha256":"<64 hex>","created_at":"2026-11-23T09:30:00Z",
     "format":"phan-anh/audit-checkpoint/v1","notification_id":12345}

The signature is Ed25519 (RFC 8032) over exactly those bytes. The export file carries,
for each checkpoint, those fields plus ``public_key`` and ``signature`` (base64, the raw
32 and 64 bytes), so anyone can check it with any Ed25519 library (docs/audit.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

CHECKPOINT_FORMAT = "phan-anh/audit-checkpoint/v1"
EXPORT_FORMAT = "phan-anh/audit-checkpoints/v1"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class CheckpointFormatError(ValueError):
    """A key or a checkpoint file that cannot be read; the message says what is wrong."""


def utc_seconds(at: datetime) -> datetime:
    """``at`` in UTC to the whole second: what a checkpoint records and signs."""
    if at.tzinfo is None:
        raise ValueError("a checkpoint time must carry a time zone")
    return at.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Checkpoint:
    application: str
    notification_id: int
    chain_sha256: bytes
    created_at: datetime

    def __post_init__(self) -> None:
        if len(self.chain_sha256) != 32:
            raise ValueError("chain_sha256 has 32 bytes")
        object.__setattr__(self, "created_at", utc_seconds(self.created_at))

    def fields(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "chain_sha256": self.chain_sha256.hex(),
            "created_at": self.created_at.strftime(_TIME_FORMAT),
            "format": CHECKPOINT_FORMAT,
            "notification_id": self.notification_id,
        }

    def message(self) -> bytes:
        """The exact bytes that are signed."""
        return json.dumps(self.fields(), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    public_key: bytes  # raw Ed25519 public key, 32 bytes
    signature: bytes  # 64 bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def signature_valid(self) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                self.signature, self.checkpoint.message()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            **self.checkpoint.fields(),
            "public_key": b64(self.public_key),
            "signature": b64(self.signature),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedCheckpoint:
        if not isinstance(data, Mapping):
            raise CheckpointFormatError("a checkpoint is a JSON object")
        try:
            if data.get("format") != CHECKPOINT_FORMAT:
                raise CheckpointFormatError(f"not a {CHECKPOINT_FORMAT} checkpoint")
            created = datetime.strptime(str(data["created_at"]), _TIME_FORMAT)
            notification_id = data["notification_id"]
            if not isinstance(notification_id, int) or isinstance(notification_id, bool):
                raise CheckpointFormatError("notification_id must be an integer")
            checkpoint = Checkpoint(
                application=str(data["application"]),
                notification_id=notification_id,
                chain_sha256=bytes.fromhex(str(data["chain_sha256"])),
                created_at=created.replace(tzinfo=UTC),
            )
            return cls(
                checkpoint,
                public_key=_b64decode(str(data["public_key"]), 32, "public_key"),
                signature=_b64decode(str(data["signature"]), 64, "signature"),
            )
        except CheckpointFormatError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointFormatError(f"malformed checkpoint: {exc!r}") from exc


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> SignedCheckpoint:
    return SignedCheckpoint(checkpoint, public_key_bytes(key), key.sign(checkpoint.message()))


# --- keys --------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str, size: int, what: str) -> bytes:
    cleaned = "".join(text.split())
    try:
        if "-" in cleaned or "_" in cleaned:
            raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
        else:
            raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointFormatError(f"{what} is not base64") from exc
    if len(raw) != size:
        raise CheckpointFormatError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def load_signing_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, unencrypted) or from the base64 of its
    32-byte seed (``FEEDBACK_AUDIT_SIGNING_KEY``)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise CheckpointFormatError(f"the PEM signing key cannot be read: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointFormatError("the signing key must be an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_b64decode(text, 32, "the signing key"))


def new_signing_key_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def public_key_pem(public_key: bytes) -> str:
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def parse_public_key(text: str) -> bytes:
    """A public key given by a person: PEM (SubjectPublicKeyInfo) or base64 of 32 bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise CheckpointFormatError(f"the PEM public key cannot be read: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointFormatError("the public key must be an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64decode(text, 32, "the public key")


def key_id(public_key: bytes) -> str:
    """A short fingerprint to read aloud: the first 8 bytes of SHA-256(public key), hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


# --- the export file ---------------------------------------------------------------------


def export_document(checkpoints: Iterable[SignedCheckpoint]) -> dict[str, Any]:
    return {"format": EXPORT_FORMAT, "checkpoints": [c.to_json() for c in checkpoints]}


def read_document(data: object) -> list[SignedCheckpoint]:
    """The checkpoints of an export file (already parsed from JSON)."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise CheckpointFormatError(f"not a {EXPORT_FORMAT} file")
    items = data.get("checkpoints")
    if not isinstance(items, list) or not items:
        raise CheckpointFormatError("the file holds no checkpoint")
    return [SignedCheckpoint.from_json(item) for item in items]


def latest_per_application(checkpoints: Sequence[SignedCheckpoint]) -> list[SignedCheckpoint]:
    latest: dict[str, SignedCheckpoint] = {}
    for signed in checkpoints:
        current = latest.get(signed.checkpoint.application)
        if current is None or (
            signed.checkpoint.notification_id,
            signed.checkpoint.created_at,
        ) > (current.checkpoint.notification_id, current.checkpoint.created_at):
            latest[signed.checkpoint.application] = signed
    return [latest[name] for name in sorted(latest)]
