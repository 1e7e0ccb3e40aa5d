"""Seal and reveal citizens' personal fields with per-subject data keys (crypto-shredding).

A subject is one submission (its id): the contact, caller number and any other personal
field given with it are sealed with the subject's own AES-256 key. The keys are wrapped
(AES key wrap, RFC 3394) by the master key from configuration and stored apart from the
events (``KeyStore``). Erasing a subject deletes its key: the events keep their ciphertext,
so the audit chain over the stored bytes stays intact, and nothing can read them again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from uuid import UUID

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from feedback_core.privacy.keystores import KeyStore
from feedback_core.privacy.sealing import Revealed, is_sealed, seal, subject_of, unseal

KEY_BYTES = 32

Sealer = Callable[[UUID, str], str]


class PersonalDataVault:
    def __init__(self, store: KeyStore, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("the personal-data master key must be 32 bytes")
        self.store = store
        self._master = master_key

    def sealer(self, subjects: Iterable[UUID]) -> Sealer:
        """A function sealing fields of these subjects, their keys made (in one round trip
        to the store) where missing. An erased subject's fields seal to "" (never again)."""
        wanted = set(subjects)
        known = self.store.wrapped_keys(wanted)
        new = {s: aes_key_wrap(self._master, os.urandom(KEY_BYTES)) for s in wanted - set(known)}
        if new:
            self.store.add_missing(new)
            known = self.store.wrapped_keys(wanted)  # another writer may have won the race
        keys = {s: self._unwrap(w) for s, w in known.items()}

        def sealed(subject: UUID, text: str) -> str:
            key = keys.get(subject)
            return seal(key, subject, text) if key is not None else ""

        return sealed

    def reveal(self, value: str) -> Revealed:
        """A field as it can be read now: clear values (written before sealing) as they are."""
        if not is_sealed(value):
            return Revealed(value)
        subject = subject_of(value)
        if subject is None:
            return Revealed("", unreadable=True)
        wrapped = self.store.wrapped_keys([subject])
        if subject in wrapped and wrapped[subject] is None:
            return Revealed("", erased=True)
        key = self._unwrap(wrapped.get(subject))
        text = unseal(key, value) if key is not None else None
        return Revealed(text) if text is not None else Revealed("", unreadable=True)

    def is_erased(self, subject: UUID) -> bool:
        wrapped = self.store.wrapped_keys([subject])
        return subject in wrapped and wrapped[subject] is None

    def erase(self, subject: UUID) -> bool:
        """Delete the subject's key for good; False when it had none (already erased)."""
        return self.store.erase(subject)

    def _unwrap(self, wrapped: bytes | None) -> bytes | None:
        if wrapped is None:
            return None
        try:
            return aes_key_unwrap(self._master, wrapped)
        except InvalidUnwrap:
            return None


def reveal_text(vault: PersonalDataVault | None, value: str) -> Revealed:
    """``value`` through ``vault``; without one (in-memory tests), clear values as they are
    and sealed ones unreadable."""
    if vault is not None:
        return vault.reveal(value)
    return Revealed("", unreadable=True) if is_sealed(value) else Revealed(value)
