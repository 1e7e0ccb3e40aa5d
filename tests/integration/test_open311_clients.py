"""An existing Open311 client works against the platform unchanged: the `georeport`
library (PyPI, a Python GeoReport v2 client) in both of its formats, against the live
platform (real Kafka and PostgreSQL). It cannot POST, so the requests are filed with httpx
and the demo key, as any application would."""

from __future__ import annotations

import re

import httpx
import pytest
from georeport import GeoReport

from tests.integration.helpers import wait_until
from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration

DEMO_KEY = "demo-open311-key-2026"
COMPLAINTS = {
    "delay": "Hồ sơ trễ hẹn hai tuần, không ai báo lý do.",
    "facilities": "Phòng chờ không có ghế cho người cao tuổi.",
}


def file_requests(platform: LivePlatform) -> dict[str, tuple[str, str]]:
    """service_code → (public service_request_id, the citizen's tracking code)."""
    filed = {}
    with httpx.Client(base_url=f"{platform.base_url}/open311/v2", timeout=15) as api:
        for code, text in COMPLAINTS.items():
            answer = api.post("/requests.json", data={
                "api_key": DEMO_KEY, "service_code": code, "description": text,
                "lat": "21.081139", "long": "105.818349", "attribute[unit]": "nhat-tan",
                "email": "lan@example.vn",
            })
            assert answer.status_code == 200, answer.text
            [created] = answer.json()
            found = re.search(r"/t/([0-9A-Z-]+)", created["service_notice"])
            assert found is not None
            filed[code] = (created["service_request_id"], found.group(1))
    for _, tracking in filed.values():
        platform.wait_for_submission(tracking)
    return filed


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_reads_services_and_requests(
    platform: LivePlatform, output_format: str
) -> None:
    filed = file_requests(platform)
    client = GeoReport(f"{platform.base_url}/open311/v2", output_format=output_format)

    services = client.get_service_list()
    assert {s["service_code"] for s in services} >= set(COMPLAINTS)
    definition = client.get_service_definition("delay")
    assert definition["service_code"] == "delay"
    attributes = definition["attributes"]
    if output_format == "xml":
        attributes = attributes["attribute"]
    assert "unit" in [a["code"] for a in attributes]

    public_id, tracking = filed["delay"]
    wait_until(
        lambda: httpx.get(f"{platform.base_url}/open311/v2/requests/{public_id}.json")
        .status_code == 200,
        30, "the case in the views",
    )
    one = client.get_service_request(public_id)
    assert one["service_request_id"] == public_id
    assert (one["status"], one["service_code"]) == ("open", "delay")
    assert one["description"] is None  # no personal data without a key
    assert str(one["lat"]) == "21.081" and str(one["long"]) == "105.818"

    listed = client.get_service_requests()  # keyless, the last 90 days
    listed = listed if isinstance(listed, list) else [listed]
    ids = {r["service_request_id"] for r in listed}
    assert ids == {public for public, _ in filed.values()}
    assert all(tracking not in repr(r) for r in listed for _, tracking in filed.values())
    both = client.get_service_requests(
        service_request_id=",".join(public for public, _ in filed.values()), status="open"
    )
    assert len(both) == 2
    if output_format == "json":  # the library cannot read an empty XML list (TypeError)
        assert client.get_service_requests(status="closed", service_code="delay") == []
