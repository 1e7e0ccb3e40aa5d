import json

from feedback_core.api_clients import api_clients_from
from feedback_core.settings import DEMO_API_CLIENTS


def test_demo_keys_authenticate_for_their_kind_only() -> None:
    clients = api_clients_from(json.loads(DEMO_API_CLIENTS.read_text()))
    client = clients.authenticate("demo-open311-key-2026", "open311")
    assert client is not None and client.unit_id == "tay-ho"
    assert clients.authenticate("demo-open311-key-2026", "hotline") is None
    assert clients.authenticate("wrong", "open311") is None
    assert clients.authenticate("", "open311") is None
