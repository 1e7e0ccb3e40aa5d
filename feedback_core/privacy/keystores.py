"""Where the subjects' data keys live, apart from the events, each wrapped by the master key.

A key store holds wrapped keys only; an erased subject keeps a row without a key (a
tombstone: when, not what), so "erased" can be told from "never had data".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from uuid import UUID


class KeyStore(Protocol):
    def add_missing(self, wrapped: dict[UUID, bytes]) -> None:
        """Store these wrapped keys for subjects that have no row yet (others untouched)."""

    def wrapped_keys(self, subjects: Iterable[UUID]) -> dict[UUID, bytes | None]:
        """The subjects' wrapped keys; None for an erased subject; absent when unknown."""

    def erase(self, subject: UUID) -> bool:
        """Delete the subject's key, keep the tombstone; False when there was no key."""


class InMemoryKeyStore:
    """The key store of the unit tests and of in-memory applications."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    def add_missing(self, wrapped: dict[UUID, bytes]) -> None:
        for subject, key in wrapped.items():
            self._keys.setdefault(subject, key)

    def wrapped_keys(self, subjects: Iterable[UUID]) -> dict[UUID, bytes | None]:
        return {s: self._keys[s] for s in subjects if s in self._keys}

    def erase(self, subject: UUID) -> bool:
        had_key = self._keys.get(subject) is not None
        self._keys[subject] = None
        return had_key
