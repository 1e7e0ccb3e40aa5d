"""Tamper evidence (pure parts): canonical bytes of a stored event, the hash chain, signed
checkpoints and the verification walk. The projection that keeps the chain and the
verifier's reads are in ``projections.audit_chain``; the design is in docs/audit.md."""

from feedback_core.audit.chain import (
    FORMAT,
    GENESIS,
    EventHasher,
    canonical_bytes,
    chain_over,
    chain_sha256,
    event_sha256,
)
from feedback_core.audit.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    SignedCheckpoint,
    load_signing_key,
    sign,
)
from feedback_core.audit.verification import Break, BreakKind, ChainReport, ChainWalk

__all__ = [
    "FORMAT",
    "GENESIS",
    "Break",
    "BreakKind",
    "ChainReport",
    "ChainWalk",
    "Checkpoint",
    "CheckpointFormatError",
    "EventHasher",
    "SignedCheckpoint",
    "canonical_bytes",
    "chain_over",
    "chain_sha256",
    "event_sha256",
    "load_signing_key",
    "sign",
]
