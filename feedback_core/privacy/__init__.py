"""Citizens' personal data in events: sealed per subject, erasable by deleting the subject's
key (crypto-shredding). The design and its reasons: docs/privacy.md."""

from feedback_core.privacy.keystores import InMemoryKeyStore, KeyStore
from feedback_core.privacy.sealing import ERASED_TEXT, Revealed, is_sealed
from feedback_core.privacy.vault import PersonalDataVault

__all__ = [
    "ERASED_TEXT",
    "InMemoryKeyStore",
    "KeyStore",
    "PersonalDataVault",
    "Revealed",
    "is_sealed",
]
