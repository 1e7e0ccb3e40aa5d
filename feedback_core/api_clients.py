"""Machine-to-machine clients (Open311 applications, telephony and CRM systems).

Each client has a name, what it may do (``open311``, ``hotline``), the unit whose subtree it
may report for, and the SHA-256 of its API key — the key itself is never stored. Clients
come from a JSON file (``FEEDBACK_API_CLIENTS_FILE``); the demo file ships two demo keys.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiClient:
    name: str
    kind: str  # "open311" or "hotline"
    unit_id: str  # the subtree it may report for
    key_sha256: str


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ApiClients:
    def __init__(self, clients: Iterable[ApiClient]) -> None:
        self._by_digest = {c.key_sha256: c for c in clients}

    def authenticate(self, api_key: str, kind: str) -> ApiClient | None:
        """The client holding ``api_key`` when it may act as ``kind``, else None."""
        if not api_key:
            return None
        digest = key_digest(api_key)
        for known, client in self._by_digest.items():
            if hmac.compare_digest(known, digest) and client.kind == kind:
                return client
        return None


def api_clients_from(data: Mapping[str, Any]) -> ApiClients:
    """From the parsed JSON: ``{"clients": [{"name", "kind", "unit_id", "key_sha256"}]}``."""
    return ApiClients(ApiClient(**entry) for entry in data.get("clients", []))
