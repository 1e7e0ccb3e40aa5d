"""A telephony system posts calls to the hotline API of the whole platform with the demo key:
through real Kafka and PostgreSQL into the ward's queue; a retried call is one case; the
caller's number is in the event store, never in the views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import psycopg
import pytest
from psycopg import sql

from feedback_core.cases import Case
from feedback_core.identity import case_id_for
from tests.integration.helpers import topic_size
from tests.support.platform import LivePlatform

pytestmark = pytest.mark.integration

URL = "/api/hotline/v1/calls"
DEMO_KEY = "demo-hotline-key-2026"  # its SHA-256 is in feedback_core/data/demo_api_clients.json
CALLER = "0987654321"


def a_call(call_id: str) -> dict[str, object]:
    return {
        "call_id": call_id,
        "caller_number": "+84 987 654 321",
        "call_time": (datetime.now(UTC) - timedelta(minutes=12)).isoformat(),
        "category": "attitude",
        "unit_id": "quang-an",
        "description": "Cán bộ quầy tiếp nhận trả lời cộc lốc, không hướng dẫn thủ tục.",
        "wants_callback": True,
    }


def views_text(platform: LivePlatform) -> str:
    """Every row of every table of the views schema, as text."""
    schema = platform.settings.views_schema
    found: list[str] = []
    with psycopg.connect(platform.db.conninfo) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("SELECT row_to_json(t)::text FROM {}.{} AS t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            found.extend(row[0] for row in conn.execute(query).fetchall())
    assert found, "the views hold rows"
    return "\n".join(found)


def test_calls_from_a_telephony_system_reach_the_wards_queue(platform: LivePlatform) -> None:
    with httpx.Client(base_url=platform.base_url, timeout=15) as switchboard:
        refused = switchboard.post(URL, json=a_call("C-1"), headers={"X-Api-Key": "nope"})
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"

        answer = switchboard.post(URL, json=a_call("C-1"),
                                  headers={"Authorization": f"Bearer {DEMO_KEY}"})
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert accepted["status"] == "accepted"
        retried = switchboard.post(URL, json=a_call("C-1"), headers={"X-Api-Key": DEMO_KEY})
        assert retried.status_code == 202 and retried.json() == accepted

        invalid = switchboard.post(URL, json={**a_call("C-2"), "caller_number": "12"},
                                   headers={"X-Api-Key": DEMO_KEY})
        assert invalid.status_code == 422
        assert [f["field"] for f in invalid.json()["fields"]] == ["caller_number"]

    code = accepted["tracking_code"]
    platform.wait_for_submission(code)
    status = platform.services.queries.submission(code)
    assert status is not None
    case_id = case_id_for(UUID(accepted["submission_id"]))
    assert status.case_id == case_id and status.channel == "hotline"
    assert status.rating is None and status.unit_id == "quang-an"
    row = platform.services.queries.case(case_id)
    assert row is not None
    assert (row.channel, row.category, row.status) == ("hotline", "attitude", "received")
    assert row.counter_id == "quang-an-q1"

    # Two messages in the log, one case in the store (no rating: the hotline does not rate).
    assert topic_size(platform.settings.kafka_bootstrap_servers,
                      platform.settings.intake_topic) == 2
    assert platform.core.app.recorder.max_notification_id() == 1
    case: Case = platform.core.app.repository.get(case_id)
    assert case.reported_by == "demo-1022-switchboard"
    vault = platform.core.app.personal_data
    assert vault is not None
    [(email, phone)] = case.recipients
    assert email == "" and CALLER not in phone  # stored sealed (docs/privacy.md)
    assert vault.reveal(phone).text == CALLER
    assert CALLER not in views_text(platform) and "987654" not in views_text(platform)

    with httpx.Client(base_url=platform.base_url, timeout=15) as handler:
        page = handler.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        handler.post("/login", data={"username": "canbo.quangan", "password": "demo-2026",
                                     "csrf_token": token})
        queue = handler.get("/staff/queue", params={"channel": "hotline"})
        assert queue.status_code == 200 and code in queue.text
        case_page = handler.get(f"/staff/cases/{case_id}")
        assert f'<span id="contact-phone">{CALLER}</span>' in case_page.text
