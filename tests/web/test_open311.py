"""Open311 GeoReport v2 (web/open311): every endpoint in JSON and XML, the errors and the
90-day window, against a recording publisher and a fake of the Open311 read side.

The XML is parsed with xml.etree and its element names checked against the specification
(wiki.open311.org/GeoReport_v2); each XML answer is also turned into JSON by the Spark
convention the specification uses, and must say what the JSON answer says.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4, uuid5

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from feedback_core.api_clients import ApiClient, ApiClients, key_digest
from feedback_core.identity import NAMESPACE, service_request_id_for, tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.organisation import Organisation
from feedback_core.settings import Settings
from projections.open311_queries import CLOSED_STATES, RequestQuery, ServiceRequestRow
from tests.web.conftest import client_of, doubled_services
from tests.web.web_doubles import NOW, FakeHealth, FakeQueries, RecordingPublisher
from web.open311 import BASE_PATH, DEMO_API_KEY, open311_routes
from web.services import WebServices

# --- what the specification names ----------------------------------------------------------

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description",
                    "order", "description", "values"}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]
POSTED_FIELDS = {"service_request_id", "service_notice", "account_id"}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
CONTAINERS = {"services": "service", "service_requests": "request", "errors": "error",
              "attributes": "attribute", "values": "value", "endpoints": "endpoint",
              "formats": "format"}
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

COMPLAINT = "Cán bộ yêu cầu nộp thêm giấy tờ không có trong quy định."
WARD_KEY = "ward-app-key"  # a client that may report for Nhật Tân ward only


# --- doubles and fixtures -----------------------------------------------------------------


class FakeOpen311Queries(FakeQueries):
    """The read side: rows a test writes, selected like projections.open311_queries."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[ServiceRequestRow] = []
        self.asked: list[RequestQuery] = []

    def service_requests(self, query: RequestQuery) -> list[ServiceRequestRow]:
        self.asked.append(query)
        found = [r for r in self.requests if _selects(query, r)]
        found.sort(key=lambda r: (-r.received_at.timestamp(), r.service_request_id))
        return found[: query.limit]


def _selects(q: RequestQuery, r: ServiceRequestRow) -> bool:
    closed = r.status in CLOSED_STATES
    return all(
        [
            (q.ids is None and q.codes is None)
            or r.service_request_id in (q.ids or ())
            or r.tracking_code in (q.codes or ()),
            q.unit_ids is None or r.unit_id in q.unit_ids,
            q.received_from is None or r.received_at >= q.received_from,
            q.received_to is None or r.received_at <= q.received_to,
            q.categories is None or r.category in q.categories,
            q.closed is None or q.closed == closed,
        ]
    )


def row(unit_id: str = "nhat-tan", days_ago: float = 3, **changes: Any) -> ServiceRequestRow:
    received = NOW - timedelta(days=days_ago)
    submission_id = uuid4()
    values: dict[str, Any] = {
        "service_request_id": service_request_id_for(submission_id),
        "tracking_code": tracking_code_for(submission_id),
        "case_id": uuid4(),
        "unit_id": unit_id,
        "channel": "qr",
        "category": "delay",
        "description": "Chờ hai tiếng ở quầy 1.",
        "status": "received",
        "received_at": received,
        "updated_at": received,
        "due_on": date(2026, 12, 7),
        "status_notes": None,
    }
    values.update(changes)
    return ServiceRequestRow(**values)


@pytest.fixture
def reader() -> FakeOpen311Queries:
    return FakeOpen311Queries()


@pytest.fixture
def open311_services(
    settings: Settings,
    organisation: Organisation,
    publisher: RecordingPublisher,
    reader: FakeOpen311Queries,
    health: FakeHealth,
) -> WebServices:
    # with the demo QR codes: print_welcome prints a counter's QR URL
    return doubled_services(settings, organisation, publisher, reader, health)


@pytest.fixture
def api(open311_services: WebServices) -> Iterator[TestClient]:
    yield from client_of(open311_services)


@pytest.fixture
def ward_client(open311_services: WebServices, settings: Settings) -> None:
    """Add an Open311 client scoped to one ward beside the demo clients."""
    demo = open311_services.api_clients
    ward = ApiClient("ward-app", "open311", "nhat-tan", key_digest(WARD_KEY))
    demo_app = ApiClient("demo-open311-app", "open311", "tay-ho", key_digest(DEMO_API_KEY))
    hotline = ApiClient("switchboard", "hotline", "tay-ho", key_digest("hotline-key"))
    assert demo is None  # the demo clients are read from the settings' file on first use
    open311_services.api_clients = ApiClients([ward, demo_app, hotline])


# --- helpers -------------------------------------------------------------------------------


def url(path: str) -> str:
    return f"{BASE_PATH}/{path}"


def xml_root(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == XML_TYPE
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json_of(response: httpx.Response) -> Any:
    assert response.headers["content-type"] == JSON_TYPE
    return response.json()


def spark(element: ET.Element) -> Any:
    """XML to JSON by the Spark convention: a container is an array, a leaf its text."""
    if element.tag in CONTAINERS:
        assert {c.tag for c in element} <= {CONTAINERS[element.tag]}, element.tag
        return [spark(child) for child in element]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text


def as_text(data: Any) -> Any:
    """JSON values as the XML writes them (so both formats can be compared)."""
    if isinstance(data, dict):
        return {k: as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_text(v) for v in data]
    if isinstance(data, bool):
        return "true" if data else "false"
    return None if data is None else str(data)


def both(api: TestClient, path: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
    """GET a resource as JSON and as XML; they must carry the same data."""
    as_json = api.get(url(f"{path}.json"), **kwargs)
    as_xml = api.get(url(f"{path}.xml"), **kwargs)
    assert as_json.status_code == as_xml.status_code
    assert spark(xml_root(as_xml)) == as_text(json_of(as_json))
    return as_json, as_xml


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    if response.headers["content-type"] == XML_TYPE:
        root = xml_root(response)
        assert root.tag == "errors"
        found = []
        for error in root:
            assert error.tag == "error" and [c.tag for c in error] == ["code", "description"]
            found.append({"code": int(error.findtext("code") or 0),
                          "description": error.findtext("description")})
        return found
    body = json_of(response)
    assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body)
    return body


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    found = errors(response)
    assert found and all(e["code"] == status for e in found)
    text = " ".join(e["description"] for e in found)
    for word in words:
        assert word in text, text


def form(**extra: str) -> dict[str, str]:
    fields = {
        "api_key": DEMO_API_KEY,
        "service_code": "harassment",
        "lat": "21.0811",
        "long": "105.8183",
        "description": COMPLAINT,
        "attribute[unit]": "nhat-tan",
    }
    fields.update(extra)
    return {k: v for k, v in fields.items() if v != "<omit>"}


# --- discovery, services, service definitions -----------------------------------------------


def test_discovery_lists_the_v2_endpoint_and_both_formats(api: TestClient) -> None:
    as_json, as_xml = both(api, "discovery")
    doc = json_of(as_json)
    assert set(doc) == DISCOVERY_FIELDS
    [endpoint] = doc["endpoints"]
    assert set(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "test"  # the demo API clients are loaded
    assert doc["changeset"] == endpoint["changeset"] == "2026-11-23T10:30:00+07:00"
    root = xml_root(as_xml)
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


def test_discovery_is_production_with_real_clients(
    api: TestClient, settings: Settings, tmp_path: Any
) -> None:
    path = tmp_path / "clients.json"
    path.write_text('{"clients": []}')
    settings.api_clients_file = path
    assert api.get(url("discovery.json")).json()["endpoints"][0]["type"] == "production"


def test_services_are_our_categories(api: TestClient) -> None:
    as_json, as_xml = both(api, "services")
    services = json_of(as_json)
    assert [s["service_code"] for s in services] == [c.value for c in ComplaintCategory]
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["metadata"] is True and service["type"] == "realtime"
    harassment = services[0]
    assert harassment["service_name"].startswith("Sách nhiễu")
    assert "Harassment" in harassment["description"]  # Vietnamese and English
    root = xml_root(as_xml)
    assert root.tag == "services"
    assert {c.tag for s in root for c in s} == SERVICE_FIELDS
    assert root.findtext("service/metadata") == "true"


def test_service_definition_has_unit_counter_dossier_and_sipas(api: TestClient) -> None:
    as_json, as_xml = both(api, "services/delay")
    definition = json_of(as_json)
    assert definition["service_code"] == "delay"
    attributes = definition["attributes"]
    codes = [a["code"] for a in attributes]
    assert codes == ["unit", "counter", "dossier_code", "rating", "sipas_access",
                     "sipas_procedures", "sipas_officers", "sipas_results", "sipas_feedback"]
    assert [a["order"] for a in attributes] == list(range(1, 10))
    for attribute in attributes:
        assert set(attribute) <= ATTRIBUTE_FIELDS
        assert attribute["datatype"] in DATATYPES and attribute["variable"] is True
        assert ("values" in attribute) == (attribute["datatype"] == "singlevaluelist")
    by_code = {a["code"]: a for a in attributes}
    assert by_code["unit"]["required"] is True
    assert [v["key"] for v in by_code["unit"]["values"]] == [
        "tay-ho", "nhat-tan", "quang-an", "phu-thuong"]
    assert {"key": "nhat-tan", "name": "UBND phường Nhật Tân"} in by_code["unit"]["values"]
    assert len(by_code["counter"]["values"]) == 11
    assert [v["key"] for v in by_code["rating"]["values"]] == [1, 2, 3, 4, 5]
    assert all(not by_code[c]["required"] for c in codes[1:])
    root = xml_root(as_xml)
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    for attribute in root.iterfind("attributes/attribute"):
        assert {c.tag for c in attribute} <= ATTRIBUTE_FIELDS
        for value in attribute.iterfind("values/value"):
            assert [c.tag for c in value] == ["key", "name"]


def test_closed_units_and_counters_are_not_offered(
    api: TestClient, open311_services: WebServices, organisation: Organisation
) -> None:
    units = dict(organisation.units)
    units["quang-an"] = replace(units["quang-an"], closed=True)
    open311_services.organisation = replace(organisation, units=units)
    definition = api.get(url("services/delay.json")).json()
    unit_keys = [v["key"] for v in definition["attributes"][0]["values"]]
    assert "quang-an" not in unit_keys
    assert all(not v["key"].startswith("quang-an") for v in definition["attributes"][1]["values"])
    # the discovery changeset moves when the organisation does
    assert api.get(url("discovery.json")).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404(api: TestClient, fmt: str) -> None:
    assert_error(api.get(url(f"services/potholes.{fmt}")), 404, "potholes")


# --- POST requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_publishes_an_open311_submission_and_answers_its_id(
    api: TestClient, publisher: RecordingPublisher, fmt: str
) -> None:
    answer = api.post(
        url(f"requests.{fmt}"),
        data=form(email="lan@example.vn", phone="090 123 4567", account_id="acct-7",
                  **{"attribute[rating]": "2", "attribute[sipas_officers]": "1",
                     "attribute[dossier_code]": "000.00.23.H26-240115-0001"}),
    )
    assert answer.status_code == 200, answer.text
    [sub] = publisher.published
    code = tracking_code_for(sub.submission_id)  # the citizen's, in the notice only
    public_id = service_request_id_for(sub.submission_id)
    assert public_id != code
    if fmt == "json":
        [created] = json_of(answer)
        assert set(created) == POSTED_FIELDS
        assert created["service_request_id"] == public_id and created["account_id"] == "acct-7"
        notice = created["service_notice"]
    else:
        root = xml_root(answer)
        assert root.tag == "service_requests"
        [request] = list(root)
        assert request.tag == "request" and {c.tag for c in request} == POSTED_FIELDS
        assert request.findtext("service_request_id") == public_id
        notice = request.findtext("service_notice") or ""
    assert f"http://127.0.0.1:8000/t/{code}" in notice and "UBND phường Nhật Tân" in notice
    assert sub.channel is Channel.OPEN311
    assert sub.category is ComplaintCategory.HARASSMENT
    assert (sub.unit_id, sub.office_id, sub.counter_id) == (
        "nhat-tan", "nhat-tan-mc", "nhat-tan-q1")
    assert sub.description == COMPLAINT and sub.rating == 2
    assert sub.components == {"officers": 1}
    assert sub.dossier_code == "000.00.23.H26-240115-0001"
    assert (sub.contact_email, sub.contact_phone, sub.wants_updates) == (
        "lan@example.vn", "0901234567", True)
    assert (sub.latitude, sub.longitude) == (21.0811, 105.8183)
    assert sub.reported_by == "demo-open311-app" and sub.submitted_at == NOW
    assert sub.locale == "vi"


def test_post_without_contact_or_rating_is_a_complaint_alone(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    answer = api.post(
        url("requests.json"),
        data=form(lat="<omit>", long="<omit>", address_string="Số 1 Nghi Tàm, Tây Hồ",
                  **{"attribute[counter]": "quang-an-q3", "attribute[unit]": "<omit>"}),
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["account_id"] is None
    [sub] = publisher.published
    assert (sub.unit_id, sub.office_id, sub.counter_id) == (
        "quang-an", "quang-an-mc", "quang-an-q3")  # the unit of the chosen counter
    assert sub.rating is None and not sub.wants_updates
    assert sub.address == "Số 1 Nghi Tàm, Tây Hồ" and sub.latitude is None
    assert sub.locale == "en"


def test_a_client_of_one_ward_need_not_name_the_unit(
    api: TestClient, publisher: RecordingPublisher, ward_client: None
) -> None:
    answer = api.post(
        url("requests.json"),
        data=form(api_key=WARD_KEY, address_id="HN-TH-0042", lat="<omit>", long="<omit>",
                  **{"attribute[unit]": "<omit>"}),
    )
    assert answer.status_code == 200, answer.text
    [sub] = publisher.published
    assert sub.unit_id == "nhat-tan" and sub.reported_by == "ward-app"
    assert sub.address == "address_id HN-TH-0042"


def test_a_client_cannot_report_outside_its_subtree(
    api: TestClient, publisher: RecordingPublisher, ward_client: None
) -> None:
    answer = api.post(url("requests.xml"), data=form(api_key=WARD_KEY,
                                                     **{"attribute[unit]": "quang-an"}))
    assert_error(answer, 400, "quang-an", "outside the area")
    answer = api.post(url("requests.json"), data=form(
        api_key=WARD_KEY, **{"attribute[unit]": "<omit>", "attribute[counter]": "phu-thuong-q1"}))
    assert_error(answer, 400, "phu-thuong", "outside the area")
    assert publisher.published == []


def test_the_same_client_request_id_is_one_request(
    api: TestClient, publisher: RecordingPublisher, ward_client: None
) -> None:
    first = api.post(url("requests.json"), data=form(**{"attribute[client_request_id]": "r-1"}))
    again = api.post(url("requests.xml"), data=form(**{"attribute[client_request_id]": "r-1"}))
    header = api.post(url("requests.json"), data=form(), headers={"Idempotency-Key": "r-1"})
    other_client = api.post(url("requests.json"), data=form(
        api_key=WARD_KEY, **{"attribute[client_request_id]": "r-1"}))
    plain = [api.post(url("requests.json"), data=form()) for _ in range(2)]
    ids = [p.submission_id for p in publisher.published]
    expected = uuid5(NAMESPACE, "open311:demo-open311-app:r-1")
    assert ids[:3] == [expected] * 3
    assert ids[3] == uuid5(NAMESPACE, "open311:ward-app:r-1")
    assert len({ids[4], ids[5], expected}) == 3  # without a key each POST is its own
    code = service_request_id_for(expected)
    assert first.json()[0]["service_request_id"] == code == header.json()[0]["service_request_id"]
    assert xml_root(again).findtext("request/service_request_id") == code
    assert other_client.status_code == 200 and all(p.status_code == 200 for p in plain)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("<omit>", ["api_key was not provided"]),
        ("wrong-key", ["invalid api_key"]),
        ("hotline-key", ["invalid api_key"]),  # a key of another kind
    ],
)
def test_post_needs_an_open311_api_key(
    api: TestClient, publisher: RecordingPublisher, ward_client: None, fmt: str, key: str,
    words: list[str],
) -> None:
    assert_error(api.post(url(f"requests.{fmt}"), data=form(api_key=key)), 403, *words)
    assert publisher.published == []


def test_api_key_in_the_query_string_is_accepted(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    answer = api.post(url(f"requests.json?api_key={DEMO_API_KEY}"), data=form(api_key="<omit>"))
    assert answer.status_code == 200 and len(publisher.published) == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404_and_missing_is_400(
    api: TestClient, publisher: RecordingPublisher, fmt: str
) -> None:
    assert_error(api.post(url(f"requests.{fmt}"), data=form(service_code="potholes")), 404,
                 "service_code potholes was not found")
    assert_error(api.post(url(f"requests.{fmt}"), data=form(service_code="<omit>")), 400,
                 "service_code was not provided")
    assert publisher.published == []


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"description": "<omit>"}, ["description is required"]),
        ({"description": "   "}, ["description is required"]),
        ({"description": "x" * 4001}, ["4001 characters; at most 4000"]),
        ({"lat": "<omit>", "long": "<omit>"}, ["a location is required"]),
        ({"long": "<omit>"}, ["lat and long go together"]),
        ({"lat": "north"}, ["lat and long go together"]),
        ({"lat": "91"}, ["out of range"]),
        ({"attribute[unit]": "<omit>"}, ["attribute[unit] is required"]),
        ({"attribute[unit]": "ba-dinh"}, ["unknown unit ba-dinh"]),
        ({"attribute[counter]": "no-such"}, ["unknown counter no-such"]),
        ({"attribute[counter]": "quang-an-q1"}, ["not a counter of unit nhat-tan"]),
        ({"attribute[rating]": "6"}, ["attribute[rating] must be 1 to 5"]),
        ({"attribute[sipas_access]": "4"}, ["need attribute[rating]"]),
        ({"attribute[colour]": "red"}, ["unknown attribute(s): colour"]),
        ({"email": "not-an-address"}, ["email is not a valid e-mail address"]),
        ({"phone": "12345"}, ["not a Vietnamese phone number"]),
        ({"attribute[dossier_code]": "??"}, ["is not a dossier code"]),
        ({"attribute[client_request_id]": "a"}, ["differ"]),  # the header says "b"
        ({"attribute[client_request_id]": "k" * 201}, ["idempotency key is over 200"]),
    ],
)
def test_invalid_fields_are_400_and_nothing_is_published(
    api: TestClient, publisher: RecordingPublisher, fields: dict[str, str], words: list[str]
) -> None:
    headers = {"Idempotency-Key": "b"} if "differ" in words else {}
    for fmt in ("json", "xml"):
        answer = api.post(url(f"requests.{fmt}"), data=form(**fields), headers=headers)
        assert_error(answer, 400, *words)
    assert publisher.published == []


def test_every_problem_is_listed_in_one_answer(api: TestClient) -> None:
    answer = api.post(url("requests.json"), data=form(
        description="<omit>", lat="<omit>", long="<omit>", **{"attribute[rating]": "0"}))
    assert len(errors(answer)) == 3


def test_a_description_of_4000_characters_is_accepted(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    assert api.post(url("requests.json"), data=form(description="ư" * 4000)).status_code == 200
    assert len(publisher.published[0].description) == 4000


def test_a_body_that_is_too_large_or_not_a_form_is_400(api: TestClient) -> None:
    huge = api.post(url("requests.json"), data=form(first_name="x" * 100_001))
    assert_error(huge, 400, "over 100000 bytes")
    as_json = api.post(url("requests.json"), json=form())
    assert_error(as_json, 400, "application/x-www-form-urlencoded")


def test_multipart_posts_are_read_too(api: TestClient, publisher: RecordingPublisher) -> None:
    answer = api.post(url("requests.json"), data=form(),
                      files={"media": ("photo.jpg", b"\xff\xd8", "image/jpeg")})
    assert answer.status_code == 200, answer.text
    assert len(publisher.published) == 1


def test_publisher_failure_is_a_503_to_retry_later(
    api: TestClient, publisher: RecordingPublisher
) -> None:
    publisher.fail = True  # the intake log down: refused, never accepted and dropped
    answer = api.post(url("requests.xml"), data=form(**{"attribute[client_request_id]": "x"}))
    assert_error(answer, 503, "was not recorded", "retry")
    assert answer.headers["Retry-After"] == "30"


# --- GET requests -----------------------------------------------------------------------------


def test_listing_and_lookup_are_public_and_carry_no_personal_data(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    """GeoReport v2: GET requests needs no key. Anyone reads the public id, the state, the
    service, the unit and the dates; never the tracking code, the citizen's words, the
    answer written to them or the address; the coordinates only to about 110 m."""
    mine = row(status="answered", status_notes="Kính gửi bà Lan: đã xử lý.",
               address="12 ngõ 5 Nhật Chiêu", latitude=21.081139, longitude=105.818349)
    other = row("quang-an", days_ago=5)
    reader.requests = [mine, other]
    for fmt in ("json", "xml"):
        assert_error(api.get(url(f"requests.{fmt}"), params={"api_key": "wrong"}), 403)
    listed, as_xml = both(api, "requests")
    assert [r["service_request_id"] for r in listed.json()] == [
        mine.service_request_id, other.service_request_id]
    assert reader.asked[0].unit_ids is None  # everyone's requests, in the 90-day window
    by_id, _ = both(api, "requests", params={"service_request_id": mine.service_request_id})
    alone, _ = both(api, f"requests/{mine.service_request_id}")
    for answer in (listed, by_id, alone, as_xml):
        assert mine.tracking_code not in answer.text and "Lan" not in answer.text
        assert mine.description not in answer.text and "Nhật Chiêu" not in answer.text
    [request] = alone.json()
    assert request["service_request_id"] == mine.service_request_id
    assert (request["description"], request["status_notes"], request["address"]) == (
        None, None, None)
    assert (request["lat"], request["long"]) == (21.081, 105.818)
    assert (request["status"], request["service_code"]) == ("open", "delay")


def test_a_request_has_every_field_of_the_specification(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    open_one = row(status="in_progress", received_at=datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
                   updated_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
                   address="Bộ phận Một cửa, 655 Lạc Long Quân", latitude=21.081139,
                   longitude=105.818349)
    answered = row(status="closed", status_notes="Đã nhắc nhở cán bộ, xin lỗi công dân.",
                   category="attitude", unit_id="quang-an", days_ago=10)
    reader.requests = [open_one, answered]
    as_json, as_xml = both(api, "requests", params={"api_key": DEMO_API_KEY})
    first, second = as_json.json()
    assert list(first) == REQUEST_FIELDS
    assert first == {
        "service_request_id": open_one.service_request_id,
        "status": "open",
        "status_notes": None,
        "service_name": "Chậm trễ",
        "service_code": "delay",
        "description": "Chờ hai tiếng ở quầy 1.",
        "agency_responsible": "UBND phường Nhật Tân",
        "service_notice": None,
        "requested_datetime": "2026-11-20T09:05:00+07:00",
        "updated_datetime": "2026-11-21T16:00:00+07:00",
        "expected_datetime": "2026-12-07T23:59:59+07:00",
        "address": "Bộ phận Một cửa, 655 Lạc Long Quân", "address_id": None, "zipcode": None,
        "lat": 21.081139, "long": 105.818349,  # exact, to a client whose key covers the unit
        "media_url": None,
    }
    assert second["status"] == "closed"
    assert second["status_notes"] == "Đã nhắc nhở cán bộ, xin lỗi công dân."
    assert second["agency_responsible"] == "UBND phường Quảng An"
    assert (second["address"], second["lat"], second["long"]) == (None, None, None)
    root = xml_root(as_xml)
    assert root.tag == "service_requests"
    for request in root:
        assert request.tag == "request" and [c.tag for c in request] == REQUEST_FIELDS
    assert root.findtext("request/status") == "open"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("received", "open"), ("accepted", "open"), ("in_progress", "open"),
     ("waiting_for_citizen", "open"), ("answered", "open"), ("resolved", "closed"),
     ("closed", "closed"), ("refused", "closed"), ("withdrawn", "closed"), ("merged", "closed")],
)
def test_our_states_map_to_open_or_closed(
    api: TestClient, reader: FakeOpen311Queries, status: str, expected: str
) -> None:
    mine = row(status=status)
    reader.requests = [mine]
    [request] = api.get(url(f"requests/{mine.service_request_id}.json")).json()
    assert request["status"] == expected


def test_extensions_carry_the_legal_state(api: TestClient, reader: FakeOpen311Queries) -> None:
    mine = row(status="waiting_for_citizen", channel="open311")
    reader.requests = [mine]
    plain = api.get(url(f"requests/{mine.service_request_id}.json")).json()[0]
    assert "extended_attributes" not in plain  # the specification's fields only, by default
    as_json, as_xml = both(api, f"requests/{mine.service_request_id}",
                           params={"extensions": "true"})
    assert as_json.json()[0]["extended_attributes"] == {
        "legal_state": "waiting_for_citizen",
        "legal_state_vi": "Chờ công dân bổ sung",
        "legal_state_en": "Waiting for the citizen",
        "due_date": "2026-12-07",
        "unit_id": "nhat-tan",
        "channel": "open311",
    }
    extended = xml_root(as_xml).find("request/extended_attributes")
    assert extended is not None and extended.findtext("legal_state") == "waiting_for_citizen"


def test_a_keyed_list_is_scoped_to_the_clients_subtree(
    api: TestClient, reader: FakeOpen311Queries, ward_client: None
) -> None:
    here, there = row("nhat-tan"), row("quang-an")
    reader.requests = [here, there]
    listed = api.get(url("requests.json"), params={"api_key": WARD_KEY}).json()
    assert [r["service_request_id"] for r in listed] == [here.service_request_id]
    assert listed[0]["description"] == here.description
    # by id, any request; the words only in scope
    ids = f"{here.service_request_id},{there.service_request_id}"
    by_id = api.get(url("requests.json"), params={"api_key": WARD_KEY, "service_request_id": ids})
    descriptions = {r["service_request_id"]: r["description"] for r in by_id.json()}
    assert descriptions == {
        here.service_request_id: here.description, there.service_request_id: None}


def test_the_default_window_is_the_last_90_days(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    recent, old = row(days_ago=89), row(days_ago=91)
    reader.requests = [recent, old]
    listed = api.get(url("requests.json"), params={"api_key": DEMO_API_KEY}).json()
    assert [r["service_request_id"] for r in listed] == [recent.service_request_id]
    [query] = reader.asked
    assert (query.received_from, query.received_to) == (NOW - timedelta(days=90), NOW)
    assert query.limit == 1000 and query.unit_ids is not None and "tay-ho" in query.unit_ids


def window_of(api: TestClient, reader: FakeOpen311Queries, **params: str) -> tuple[Any, Any]:
    answer = api.get(url("requests.json"), params={"api_key": DEMO_API_KEY, **params})
    assert answer.status_code == 200, answer.text
    query = reader.asked[-1]
    return query.received_from, query.received_to


def test_start_or_end_alone_opens_a_90_day_window(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    assert window_of(api, reader, start_date="2026-06-01T00:00:00Z") == (
        start, start + timedelta(days=90))
    end = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert window_of(api, reader, end_date="2026-06-01T14:00:00+07:00") == (
        end - timedelta(days=90), end)


def test_dates_without_time_are_whole_local_days(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    start, end = window_of(api, reader, start_date="2026-09-01", end_date="2026-11-29")
    assert start.isoformat() == "2026-09-01T00:00:00+07:00"
    assert end.isoformat() == "2026-11-29T23:59:59.999999+07:00"  # 90 whole days


def test_an_unencoded_plus_in_a_zone_is_understood(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    answer = api.get(url(f"requests.json?api_key={DEMO_API_KEY}"
                         "&start_date=2026-11-01T00:00:00+07:00"))
    assert answer.status_code == 200
    assert reader.asked[-1].received_from == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
         ["may not span more than 90 days"]),
        ({"start_date": "2026-05-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"},
         ["end_date is before start_date"]),
        ({"start_date": "yesterday"}, ["start_date must be a W3C date-time"]),
        ({"end_date": "2026-04-01T00:00:00"}, ["end_date must be a W3C date-time"]),  # no zone
        ({"status": "open,pending"}, ["status takes open and/or closed"]),
        ({"service_code": "delay,potholes"}, ["unknown service_code potholes"]),
    ],
)
def test_bad_filters_are_400(
    api: TestClient, reader: FakeOpen311Queries, params: dict[str, str], words: list[str]
) -> None:
    for fmt in ("json", "xml"):
        answer = api.get(url(f"requests.{fmt}"), params={"api_key": DEMO_API_KEY, **params})
        assert_error(answer, 400, *words)
    assert reader.asked == []


def test_filters_by_status_and_service_code(api: TestClient, reader: FakeOpen311Queries) -> None:
    reader.requests = [
        row(category="delay", status="received"),
        row(category="delay", status="closed"),
        row(category="attitude", status="refused"),
        row(category="facilities", status="answered"),
    ]

    def listed(**params: str) -> list[tuple[str, str]]:
        found = api.get(url("requests.json"), params={"api_key": DEMO_API_KEY, **params})
        return sorted((r["service_code"], r["status"]) for r in found.json())

    assert listed(status="closed") == [("attitude", "closed"), ("delay", "closed")]
    assert listed(status="open") == [("delay", "open"), ("facilities", "open")]
    assert listed(status="open,closed", service_code="delay") == [
        ("delay", "closed"), ("delay", "open")]
    assert listed(status="closed", service_code="attitude,delay") == [
        ("attitude", "closed"), ("delay", "closed")]
    assert len(listed(service_code="", status="")) == 4  # empty means not given


def test_service_request_id_overrides_every_other_filter(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    old_closed = row(days_ago=400, status="closed", category="attitude")
    reader.requests = [old_closed, row(), row()]
    found = api.get(url("requests.json"), params={
        "service_request_id": old_closed.service_request_id.upper(),
        "status": "open", "service_code": "delay", "start_date": "bad"})
    assert [r["service_request_id"] for r in found.json()] == [old_closed.service_request_id]
    two = [reader.requests[1].service_request_id, reader.requests[2].service_request_id]
    listed = api.get(url("requests.json"), params={"service_request_id": ",".join(two)})
    assert sorted(r["service_request_id"] for r in listed.json()) == sorted(two)


def test_a_tracking_code_given_out_before_the_public_ids_still_finds_its_request(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    """Clients that filed before the public ids hold tracking codes: they still work, typed
    as people type them; the answer carries the public id, never the code."""
    mine = row()
    reader.requests = [mine, row()]
    typed = mine.tracking_code.lower().replace("-", "")
    for answer in (api.get(url(f"requests/{typed}.json")),
                   api.get(url("requests.json"), params={"service_request_id": typed})):
        assert [r["service_request_id"] for r in answer.json()] == [mine.service_request_id]
        assert mine.tracking_code not in answer.text


def test_one_request_by_id_in_both_formats(api: TestClient, reader: FakeOpen311Queries) -> None:
    mine = row(status="answered", status_notes="Đã trả lời.")
    reader.requests = [mine]
    as_json, as_xml = both(api, f"requests/{mine.service_request_id}",
                           params={"api_key": DEMO_API_KEY})
    [request] = as_json.json()
    assert request["service_request_id"] == mine.service_request_id
    assert request["status_notes"] == "Đã trả lời."  # a client in scope reads the answer
    assert [c.tag for c in xml_root(as_xml).find("request") or []] == REQUEST_FIELDS
    lower = api.get(url(f"requests/{mine.service_request_id.upper()}.json"))
    assert lower.json()[0]["service_request_id"] == mine.service_request_id


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("request_id", ["7KQ2M-9XH4T", "not-a-code", "123"])
def test_unknown_request_is_404(api: TestClient, fmt: str, request_id: str) -> None:
    assert_error(api.get(url(f"requests/{request_id}.{fmt}")), 404, request_id)


# --- tokens, unknown paths, formats -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_are_not_issued_so_every_token_is_404(api: TestClient, fmt: str) -> None:
    assert_error(api.get(url(f"tokens/12345.{fmt}")), 404, "issues no tokens")


def test_unknown_paths_formats_and_methods(api: TestClient) -> None:
    assert_error(api.get(url("potholes.json")), 404, "no such resource")
    assert_error(api.get(url("")), 404)
    assert errors(api.get(url("nothing.xml")))  # XML, the required format, by default
    assert_error(api.get(url("services.html")), 400, "format .html is not served")
    assert_error(api.put(url("requests.json")), 400, "PUT is not supported")
    assert_error(api.delete(url("requests/7KQ2M-9XH4T.xml")), 400, "DELETE")
    assert_error(api.post(url("services.json")), 400, "POST is not supported")
    assert_error(api.get(url("requests.json/")), 404, "no such resource")


def test_answers_are_readable_from_any_origin(api: TestClient) -> None:
    for answer in (api.get(url("services.json")), api.get(url("tokens/1.xml"))):
        assert answer.headers["access-control-allow-origin"] == "*"


def test_a_read_side_failure_is_the_general_400(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    def broken(query: RequestQuery) -> list[ServiceRequestRow]:
        raise RuntimeError("database unavailable")

    reader.service_requests = broken  # type: ignore[method-assign]
    assert_error(api.get(url("requests/7KQ2M-9XH4T.xml")), 400, "could not process")


def test_a_browser_preflight_is_answered(api: TestClient) -> None:
    answer = api.options(url("requests.json"), headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "idempotency-key"})
    assert answer.status_code == 204
    assert "Idempotency-Key" in answer.headers["access-control-allow-headers"]
    assert answer.headers["access-control-allow-origin"] == "*"


def test_the_routes_serve_a_reader_given_to_them(
    open311_services: WebServices, reader: FakeOpen311Queries
) -> None:
    app = FastAPI()
    app.include_router(open311_routes(open311_services, reader))
    reader.requests = [row("nhat-tan"), row("quang-an")]
    with TestClient(app) as public:
        listed = public.get(url("requests.json")).json()
    assert len(listed) == 2 and all(r["description"] is None for r in listed)
    assert reader.asked[0].unit_ids is None


def test_make_run_prints_the_base_url_and_the_demo_key(
    open311_services: WebServices, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedback_cli.services import print_welcome
    from web.services import load_api_clients

    load_api_clients(open311_services)  # loaded from the demo file, as build_web loads it
    print_welcome(settings, open311_services)
    printed = capsys.readouterr().out
    assert "Open311 GeoReport v2: http://127.0.0.1:8000/open311/v2/" in printed
    assert f"Demo Open311 api_key: {DEMO_API_KEY}" in printed
    open311_services.api_clients = ApiClients([])  # real clients: no demo key to print
    print_welcome(settings, open311_services)
    assert DEMO_API_KEY not in capsys.readouterr().out


def test_control_characters_in_stored_text_keep_the_xml_well_formed(
    api: TestClient, reader: FakeOpen311Queries
) -> None:
    mine = row(status="answered", status_notes="Đã trả lời\x0b\x01 công dân.")
    reader.requests = [mine]
    answer = api.get(url(f"requests/{mine.service_request_id}.xml"),
                     params={"api_key": DEMO_API_KEY})
    assert xml_root(answer).findtext("request/status_notes") == "Đã trả lời công dân."


def test_a_listing_key_may_come_in_a_header(api: TestClient, reader: FakeOpen311Queries) -> None:
    reader.requests = [row()]
    for headers in ({"X-Api-Key": DEMO_API_KEY}, {"Authorization": f"Bearer {DEMO_API_KEY}"}):
        assert len(api.get(url("requests.json"), headers=headers).json()) == 1
    assert_error(api.get(url("requests.json"), headers={"X-Api-Key": "wrong"}), 403)
