"""POST /api/hotline/v1/calls: API keys (401), scope (403), validation (422, JSON listing
the fields), acceptance (202) with idempotent retries, and the OpenAPI contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from feedback_core.api_clients import ApiClient, ApiClients, api_clients_from, key_digest
from feedback_core.identity import tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.settings import DEMO_API_CLIENTS
from tests.web.web_doubles import NOW, RecordingPublisher
from web.app import create_app
from web.hotline_api import submission_id_for
from web.services import WebServices

URL = "/api/hotline/v1/calls"
DEMO_KEY = "demo-hotline-key-2026"  # the demo switchboard: tay-ho and its wards
WARD_KEY = "ward-crm-key"  # a CRM of the Nhật Tân ward only
OPEN311_KEY = "demo-open311-key-2026"


def demo_clients() -> ApiClients:
    data = json.loads(DEMO_API_CLIENTS.read_text(encoding="utf-8"))
    data["clients"].append(
        {"name": "nhat-tan-crm", "kind": "hotline", "unit_id": "nhat-tan",
         "key_sha256": key_digest(WARD_KEY)}
    )
    return api_clients_from(data)


@pytest.fixture
def api(services: WebServices) -> Iterator[TestClient]:
    services.api_clients = demo_clients()
    with TestClient(create_app(services), follow_redirects=False) as client:
        yield client


def call(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "call_id": "CALL-000123",
        "caller_number": "+84 912 345 678",
        "call_time": "2026-11-23T10:05:00+07:00",
        "category": "delay",
        "unit_id": "quang-an",
        "counter_id": "quang-an-q2",
        "description": "Hồ sơ đất đai nộp từ tháng 9, quá hẹn chưa có kết quả.",
        "wants_callback": True,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def bearer(key: str = DEMO_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fields_of(answer: Any) -> dict[str, str]:
    body = answer.json()
    assert body["error"] == "invalid_request"
    return {f["field"]: f["code"] for f in body["fields"]}


# --- authentication and scope ---------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong-key"), bearer(OPEN311_KEY), {"X-Api-Key": ""}, {"Authorization": DEMO_KEY},
     {"Authorization": "Basic ZGVtbzpkZW1v"}],
)
def test_without_a_hotline_key_401_in_json(
    api: TestClient, publisher: RecordingPublisher, headers: dict[str, str]
) -> None:
    answer = api.post(URL, json=call(), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["error"] == "unauthorized"
    assert publisher.published == []


def test_401_comes_before_the_bodys_problems(api: TestClient) -> None:
    assert api.post(URL, json={"call_id": ""}).status_code == 401
    broken = api.post(URL, content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 401 and broken.json()["error"] == "unauthorized"


def test_both_headers_carry_the_key(api: TestClient, publisher: RecordingPublisher) -> None:
    assert api.post(URL, json=call(), headers=bearer()).status_code == 202
    assert api.post(URL, json=call(call_id="2"), headers={"X-Api-Key": DEMO_KEY}).status_code \
        == 202
    assert len(publisher.published) == 2


@pytest.mark.parametrize("unit_id", ["quang-an", "tay-ho", "no-such-unit"])
def test_a_unit_outside_the_clients_subtree_is_403(
    api: TestClient, publisher: RecordingPublisher, unit_id: str
) -> None:
    answer = api.post(URL, json=call(unit_id=unit_id, counter_id=None), headers=bearer(WARD_KEY))
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert publisher.published == []
    mine = api.post(URL, json=call(unit_id="nhat-tan", counter_id=None), headers=bearer(WARD_KEY))
    assert mine.status_code == 202


# --- acceptance -----------------------------------------------------------------------------


def test_a_call_is_accepted_and_published(api: TestClient, publisher: RecordingPublisher) -> None:
    answer = api.post(URL, json=call(), headers=bearer())
    assert answer.status_code == 202
    assert answer.headers["cache-control"] == "no-store"
    sid = submission_id_for("demo-1022-switchboard", "CALL-000123")
    assert answer.json() == {
        "tracking_code": tracking_code_for(sid), "submission_id": str(sid), "status": "accepted",
    }
    [sub] = publisher.published
    assert sub.submission_id == sid
    assert sub.channel is Channel.HOTLINE and sub.rating is None
    assert sub.reported_by == "demo-1022-switchboard"
    assert sub.contact_phone == "0912345678" and sub.wants_updates is True
    assert sub.submitted_at == datetime(2026, 11, 23, 3, 5, tzinfo=UTC)
    assert (sub.unit_id, sub.office_id, sub.counter_id) == ("quang-an", "quang-an-mc",
                                                            "quang-an-q2")
    assert sub.category is ComplaintCategory.DELAY
    assert sub.description == "Hồ sơ đất đai nộp từ tháng 9, quá hẹn chưa có kết quả."
    assert sub.locale == "vi"


def test_without_a_counter_the_units_first_counter(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    body = call(counter_id=None, caller_number="", wants_callback=False, locale="en")
    assert api.post(URL, json=body, headers=bearer()).status_code == 202
    [sub] = publisher.published
    assert sub.counter_id == "quang-an-q1" and sub.office_id == "quang-an-mc"
    assert sub.contact_phone == "" and sub.wants_updates is False and sub.locale == "en"


def test_a_retried_call_is_the_same_submission(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    first = api.post(URL, json=call(), headers=bearer()).json()
    again = api.post(URL, json=call(), headers={"X-Api-Key": DEMO_KEY}).json()
    assert first == again
    assert {s.submission_id for s in publisher.published} == {UUID(first["submission_id"])}
    other = api.post(URL, json=call(call_id="CALL-000124"), headers=bearer()).json()
    assert other["tracking_code"] != first["tracking_code"]
    # another client's call with the same id is another call
    ward = api.post(URL, json=call(unit_id="nhat-tan", counter_id=None),
                    headers=bearer(WARD_KEY)).json()
    assert ward["submission_id"] != first["submission_id"]


def test_submission_ids_do_not_collide_across_separators() -> None:
    assert submission_id_for("a:b", "c") != submission_id_for("a", "b:c")


def test_when_the_log_is_down_503_and_retry(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    publisher.fail = True
    answer = api.post(URL, json=call(), headers=bearer())
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["error"] == "unavailable"
    publisher.fail = False
    assert api.post(URL, json=call(), headers=bearer()).status_code == 202


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"caller_number": "12345"}, {"caller_number": "phone_invalid"}),
        ({"caller_number": ""}, {"caller_number": "phone_missing"}),
        ({"call_time": "2026-11-23T10:05:00"}, {"call_time": "timezone_aware"}),
        ({"call_time": "yesterday"}, {"call_time": "datetime_from_date_parsing"}),
        ({"call_time": (NOW + timedelta(minutes=10)).isoformat()}, {"call_time": "time_future"}),
        ({"call_time": "2026-10-01T10:00:00+07:00"}, {"call_time": "time_too_old"}),
        ({"category": "bribery"}, {"category": "enum"}),
        ({"counter_id": "nhat-tan-q1"}, {"counter_id": "counter_invalid"}),
        ({"description": ""}, {"description": "string_too_short"}),
        ({"description": " \n "}, {"description": "description_missing"}),
        ({"description": "x" * 4001}, {"description": "description_too_long"}),
        ({"call_id": None, "unit_id": None}, {"call_id": "missing", "unit_id": "missing"}),
        ({"phone": "0912345678"}, {"phone": "extra_forbidden"}),
        ({"wants_callback": "maybe"}, {"wants_callback": "bool_parsing"}),
        ({"caller_number": "0912", "description": " ", "call_time": "2027-01-01T00:00:00Z"},
         {"caller_number": "phone_invalid", "description": "description_missing",
          "call_time": "time_future"}),
    ],
)
def test_invalid_calls_are_422_listing_the_fields(
    api: TestClient, publisher: RecordingPublisher, changes: dict[str, Any],
    expected: dict[str, str],
) -> None:
    answer = api.post(URL, json=call(**changes), headers=bearer())
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == expected
    assert all(f["message"] for f in answer.json()["fields"])
    assert publisher.published == []


def test_a_body_that_is_not_json_is_422(api: TestClient) -> None:
    answer = api.post(URL, content=b"{not json", headers=bearer() | {
        "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert fields_of(answer) == {"body": "json_invalid"}
    assert api.post(URL, json=[1, 2], headers=bearer()).status_code == 422


def test_a_huge_body_is_413(api: TestClient) -> None:
    answer = api.post(URL, json=call(description="x" * 200_000), headers=bearer())
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"


def test_description_of_4000_characters_with_crlf_line_ends_is_accepted(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    text = ("x" * 99 + "\r\n") * 40  # 4,040 sent, 4,000 once line ends are LF
    assert api.post(URL, json=call(description=text), headers=bearer()).status_code == 202
    assert len(publisher.published[0].description) == 3999  # the last newline is stripped


# --- wiring and contract --------------------------------------------------------------------


def test_clients_come_from_the_settings_file_when_none_are_given(
    services: WebServices, publisher: RecordingPublisher
) -> None:
    assert services.api_clients is None
    with TestClient(create_app(services)) as client:
        assert client.post(URL, json=call(), headers=bearer()).status_code == 202
        assert client.post(URL, json=call(), headers=bearer(WARD_KEY)).status_code == 401
    assert isinstance(services.api_clients, ApiClients)


def test_a_missing_clients_file_refuses_every_key(
    services: WebServices, tmp_path: Any
) -> None:
    services.settings.api_clients_file = tmp_path / "none.json"
    with TestClient(create_app(services)) as client:
        assert client.post(URL, json=call(), headers=bearer()).status_code == 401


def test_the_contract_is_in_the_openapi_schema(services: WebServices) -> None:
    services.api_clients = ApiClients([ApiClient("x", "hotline", "tay-ho", key_digest("k"))])
    schema = create_app(services).openapi()
    operation = schema["paths"][URL]["post"]
    assert set(operation["responses"]) == {"202", "401", "403", "413", "422", "503"}
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"call_id", "call_time", "category", "unit_id",
                                     "description"}
    assert body["properties"]["description"]["maxLength"] == 4000
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schema["components"]["securitySchemes"])
    assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
