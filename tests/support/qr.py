"""The QR URL of a counter as the platform prints it: the token issued for the counter
(``WebServices.qr_token_of``), never one the test signs itself."""

from __future__ import annotations

from typing import Any, Protocol

from feedback_core.qr_codes import Keyring, QrCodesApplication, keyring_from_config
from feedback_core.settings import Settings
from web.services import WebServices

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class HasServices(Protocol):
    services: WebServices


def qr_token(source: WebServices | HasServices, counter_id: str) -> str:
    services = source if isinstance(source, WebServices) else source.services
    return services.qr_token_of(counter_id)


def qr_url(source: WebServices | HasServices, counter_id: str) -> str:
    """``/q/<token>`` of the counter's code in service (a path: prefix the base URL)."""
    return f"/q/{qr_token(source, counter_id)}"


def memory_qr_codes(secret: bytes, keys: str = "") -> tuple[QrCodesApplication, Keyring]:
    """``qr_codes`` and ``qr_keyring`` for a ``WebServices`` of the web tests: the real
    application on the in-memory store, the keys as ``build_web`` derives them."""
    return QrCodesApplication(env=POPO), keyring_from_config(keys, secret)


def with_qr_codes(settings: Settings) -> dict[str, Any]:
    """``WebServices`` keyword arguments: the QR codes as build_web wires them, in memory."""
    qr_codes, qr_keyring = memory_qr_codes(settings.secret)
    return {"qr_codes": qr_codes, "qr_keyring": qr_keyring}
