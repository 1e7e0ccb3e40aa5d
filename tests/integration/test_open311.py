"""Open311 over the real platform (Kafka + PostgreSQL): a request POSTed with the demo key
is answered with its id at once, travels the intake log and comes back from the views; and
the read side's SQL (projections.open311_queries) on real projected views."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.identity import case_id_for, service_request_id_for, tracking_code_for
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.roles import CITIZEN, Actor, Role
from feedback_core.store import Database, open_cases_application
from projections.case_views import CaseViews
from projections.open311_queries import Open311Queries, RequestQuery
from projections.queries import ViewQueries
from projections.runner import BatchedProjectionRunner
from tests.integration.helpers import topic_size, wait_until
from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration

DEMO_KEY = "demo-open311-key-2026"  # its SHA-256 is in feedback_core/data/demo_api_clients.json
COMPLAINT = "Cán bộ hẹn lại ba lần, lần nào cũng thiếu một loại giấy tờ khác."
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]


def post_form(client_request_id: str) -> dict[str, str]:
    return {
        "api_key": DEMO_KEY,
        "service_code": "second_trip",
        "lat": "21.081139",
        "long": "105.818349",
        "address_string": "Bộ phận Một cửa phường Nhật Tân",
        "email": "lan@example.vn",
        "description": COMPLAINT,
        "attribute[unit]": "nhat-tan",
        "attribute[counter]": "nhat-tan-q2",
        "attribute[client_request_id]": client_request_id,
    }


def test_a_posted_request_comes_back_open_from_the_views(platform: LivePlatform) -> None:
    with httpx.Client(base_url=f"{platform.base_url}/open311/v2", timeout=15) as api:
        discovery = api.get("/discovery.json").json()
        assert discovery["endpoints"][0]["url"] == f"{platform.base_url}/open311/v2"

        posted = api.post("/requests.json", data=post_form("integration-1"))
        assert posted.status_code == 200, posted.text
        [created] = posted.json()
        public_id = created["service_request_id"]
        # The tracking code is the citizen's: in the notice to the filing client only.
        found = re.search(r"/t/([0-9A-Z-]+)", created["service_notice"])
        assert found is not None
        code = found.group(1)
        assert public_id != code

        platform.wait_for_submission(code)
        wait_until(lambda: api.get(f"/requests/{public_id}.json").status_code == 200, 30,
                   "the case")
        answer = api.get(f"/requests/{public_id}.json", params={"extensions": "true"})
        assert code not in answer.text
        [request] = answer.json()
        assert list(request)[:-1] == REQUEST_FIELDS
        assert request["service_request_id"] == public_id
        assert (request["lat"], request["long"], request["address"]) == (21.081, 105.818, None)
        assert request["status"] == "open"
        assert request["service_code"] == "second_trip"
        assert request["agency_responsible"] == "UBND phường Nhật Tân"
        assert request["requested_datetime"].endswith("+07:00")
        assert request["expected_datetime"].endswith("T23:59:59+07:00")
        assert request["description"] is None  # no key: not the citizen's words
        assert request["extended_attributes"]["legal_state"] == "received"
        assert request["extended_attributes"]["channel"] == "open311"

        public = api.get("/requests.json")  # GeoReport v2: no key needed to list
        assert public.status_code == 200 and code not in public.text
        assert public_id in [r["service_request_id"] for r in public.json()]
        listed = api.get("/requests.xml", params={"api_key": DEMO_KEY})
        root = ET.fromstring(listed.content)
        assert root.tag == "service_requests"
        [mine] = [r for r in root if r.findtext("service_request_id") == public_id]
        assert [c.tag for c in mine] == REQUEST_FIELDS
        assert mine.findtext("description") == COMPLAINT  # the demo app's district
        assert (mine.findtext("lat"), mine.findtext("long")) == ("21.081139", "105.818349")
        assert mine.findtext("address") == "Bộ phận Một cửa phường Nhật Tân"
        closed = api.get("/requests.json", params={"api_key": DEMO_KEY, "status": "closed"})
        assert closed.json() == []

        again = api.post("/requests.json", data=post_form("integration-1"))
        assert again.json()[0]["service_request_id"] == public_id  # a retry is one request

    settings = platform.settings
    assert topic_size(settings.kafka_bootstrap_servers, settings.intake_topic) == 2
    queries = platform.services.queries
    wait_until(lambda: queries.positions().get("case_views", 0) >= 1, 30, "the views")
    cases = queries.queue(["nhat-tan"])
    assert [(c.tracking_code, c.channel, c.counter_id) for c in cases] == [
        (code, "open311", "nhat-tan-q2")]


# --- the SQL of the read side -----------------------------------------------------------------

NOW = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
HANDLER = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")


@pytest.fixture
def app(database: Database) -> Iterator[CasesApplication]:
    application = open_cases_application(database)
    yield application
    application.close()


def record(app: CasesApplication, days_ago: float, **fields: object) -> tuple[str, UUID]:
    values: dict[str, object] = {
        "submission_id": uuid4(),
        "channel": Channel.QR,
        "unit_id": "nhat-tan",
        "office_id": "nhat-tan-mc",
        "counter_id": "nhat-tan-q1",
        "submitted_at": NOW - timedelta(days=days_ago),
        "rating": 2,
        "description": "Phải chờ rất lâu.",
        "category": ComplaintCategory.DELAY,
    }
    values.update(fields)
    sub = IntakeSubmission(**values)  # type: ignore[arg-type]
    app.record_submissions([sub])
    return tracking_code_for(sub.submission_id), sub.submission_id


def steps(app: CasesApplication, submission_id: UUID, *names: str) -> None:
    case: Case = app.repository.get(case_id_for(submission_id))
    at = NOW - timedelta(hours=1)
    for name in names:
        if name == "accept":
            case.accept(HANDLER, at, "", "service_feedback", date(2026, 11, 23), date(2026, 12, 7))
        elif name == "answer":
            case.answer(HANDLER, at, "Đã nhắc nhở bộ phận, xin lỗi công dân.")
        elif name == "note":
            case.add_note(HANDLER, at, "Ghi chú nội bộ: không công khai")
        elif name == "refuse":
            case.refuse(HANDLER, at, "Nội dung không thuộc thẩm quyền của phường.")
        elif name == "reopen":
            case.reopen(CITIZEN, at, "Chưa được giải quyết")
        elif name == "resolve":
            case.resolve(HANDLER, at)
    app.save(case)


def test_the_read_side_selects_and_explains_like_the_specification(
    app: CasesApplication, database: Database
) -> None:
    received, _ = record(app, 1)
    answered, answered_id = record(app, 2, category=ComplaintCategory.ATTITUDE)
    refused, refused_id = record(
        app, 3, unit_id="quang-an", office_id="quang-an-mc", counter_id="quang-an-q1")
    reopened, reopened_id = record(app, 4)
    resolved, resolved_id = record(app, 5)
    old, _ = record(app, 100)
    placed, _ = record(app, 101, address="Quầy 1, Bộ phận Một cửa", latitude=21.0811,
                       longitude=105.8183)
    rating_only, _ = record(app, 1, description="")
    steps(app, answered_id, "accept", "note", "answer")
    steps(app, refused_id, "refuse")
    steps(app, reopened_id, "accept", "answer", "reopen", "note")
    steps(app, resolved_id, "accept", "answer", "resolve")
    runner = BatchedProjectionRunner(app, database.conninfo, CaseViews())
    views = ViewQueries(database.conninfo)
    try:
        runner.catch_up()
        reader = Open311Queries(views.pool, "views")

        def codes(**query: object) -> list[str]:
            window = {"received_from": NOW - timedelta(days=90), "received_to": NOW}
            found = reader.service_requests(RequestQuery(**{**window, **query}))  # type: ignore[arg-type]
            return [r.tracking_code for r in found]

        everything = [received, answered, refused, reopened, resolved]
        assert codes() == everything  # newest first; no rating-only, nothing older
        assert codes(closed=True) == [refused, resolved]
        assert codes(closed=False) == [received, answered, reopened]
        assert codes(categories=("attitude",)) == [answered]
        assert codes(unit_ids=("quang-an",)) == [refused]
        assert codes(limit=2) == everything[:2]
        assert codes(received_from=NOW - timedelta(days=3, hours=1),
                     received_to=NOW - timedelta(days=1, hours=1)) == [answered, refused]
        by_code = reader.service_requests(RequestQuery(codes=(old, rating_only, answered)))
        assert [r.tracking_code for r in by_code] == [answered, old]  # ids: any date
        [where] = reader.service_requests(RequestQuery(codes=(placed,)))
        assert (where.address, where.latitude, where.longitude) == (
            "Quầy 1, Bộ phận Một cửa", 21.0811, 105.8183)
        assert (by_code[0].address, by_code[0].latitude) == ("", None)
        notes = {r.tracking_code: r.status_notes
                 for r in reader.service_requests(RequestQuery(codes=tuple(everything)))}
        assert notes == {
            received: None,
            answered: "Đã nhắc nhở bộ phận, xin lỗi công dân.",  # never the internal note
            refused: "Nội dung không thuộc thẩm quyền của phường.",
            reopened: None,  # the earlier answer no longer explains the state
            resolved: "Đã nhắc nhở bộ phận, xin lỗi công dân.",
        }
        [row] = reader.service_requests(RequestQuery(codes=(refused,)))
        assert (row.status, row.unit_id, row.channel, row.category) == (
            "refused", "quang-an", "qr", "delay")
        assert row.updated_at > row.received_at
        assert row.service_request_id == service_request_id_for(refused_id)
        public_ids = (row.service_request_id, service_request_id_for(answered_id))
        by_id = reader.service_requests(RequestQuery(ids=public_ids, codes=(old,)))
        assert [r.tracking_code for r in by_id] == [answered, refused, old]
    finally:
        runner.close()
        views.close()
