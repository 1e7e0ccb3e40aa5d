"""In headless Chromium on a tablet: the counter kiosk rates, keeps rating while the
server is stopped (the ratings wait in the device's queue), and once the server is back
delivers each queued rating exactly once (checked in the event store). A rating made
"yesterday" on the device lands on yesterday; a queue longer than the kiosk's rate limit
is held back (429, Retry-After), kept on the device and delivered after the wait."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Page, Request, expect

from feedback_core.identity import rating_id_for
from feedback_core.ratings import Rating
from feedback_core.store import Database
from tests.integration.helpers import wait_until
from tests.support import platform as live_platform
from tests.support.platform import LivePlatform
from web.kiosk import KIOSK_RATINGS_PER_WINDOW, KIOSK_WINDOW_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def queued(page: Page, key: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(
        page.evaluate(f"localStorage.getItem({json.dumps(key)}) || '[]'")
    )
    return items


def rate(page: Page, label: str, component: str = "") -> None:
    page.locator(".face-label", has_text=re.compile(f"^{label}$")).click()
    if component:
        page.locator(f"input[name='component_officers'][value='{component}'] + span").click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#kiosk-thanks")).to_be_visible()
    page.locator("#kiosk-thanks").click()  # the next citizen taps: a blank form
    expect(page.locator("#kiosk-form")).to_be_visible()
    assert page.locator("input[name=rating]:checked").count() == 0


def given(platform: LivePlatform) -> list[Rating]:
    """Every rating in the event store (from the notification log, in order)."""
    app = platform.core.app
    found: list[Rating] = []
    for n in app.recorder.select_notifications(start=1, limit=1000):
        if n.topic.endswith("Rating.Given"):
            found.append(app.repository.get(UUID(str(n.originator_id))))
    return found


def enrol_counter_one(live: LivePlatform, at: datetime) -> str:
    """Nhật Tân's counter 1 tablet, enrolled by the district head for officer Lan."""
    assert live.services.devices is not None
    return live.services.devices.enrol("nhat-tan-q1", at, "lanhdao.tayho", "Máy 1",
                                       "canbo.nhattan")


def test_ratings_made_while_the_server_is_down_are_delivered_once(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path,
    tablet: Page,
) -> None:
    settings = live_platform.test_settings(database, bootstrap, *topics, tmp_path)
    live = LivePlatform(settings).start()
    try:
        token = enrol_counter_one(live, live.services.clock())
        posted: list[str] = []

        def on_request(request: Request) -> None:
            if request.method == "POST" and request.url.endswith("/ratings"):
                posted.append(json.loads(request.post_data or "{}")["submission_id"])

        tablet.on("request", on_request)
        tablet.goto(f"{live.base_url}/kiosk/{token}")
        expect(tablet.locator("h1")).to_contain_text("Quầy 1")
        officer = live.services.organisation.staff["canbo.nhattan"].display_name
        expect(tablet.locator("#kiosk-officer")).to_have_text(officer)
        key = tablet.locator("main").get_attribute("data-kiosk-queue") or ""
        assert token.split(".")[2] not in key  # the queue is named without the secret

        rate(tablet, "Rất hài lòng", component="4")
        wait_until(lambda: not queued(tablet, key), 30, "the first rating acknowledged")
        SHOTS.mkdir(exist_ok=True)
        tablet.screenshot(path=str(SHOTS / "kiosk.png"))

        live.stop()  # the server goes away; the page stays on the tablet
        rate(tablet, "Không hài lòng")
        rate(tablet, "Bình thường")
        waiting = queued(tablet, key)
        assert [item["rating"] for item in waiting] == [2, 3]
        expect(tablet.locator("#kiosk-pending")).to_contain_text("2")
        tablet.wait_for_timeout(3000)  # retries fail meanwhile; nothing is lost
        assert len(queued(tablet, key)) == 2

        live = LivePlatform(settings).start()  # the same port and database
        wait_until(lambda: not queued(tablet, key), 60, "the queued ratings delivered")
        expect(tablet.locator("#kiosk-pending")).to_be_hidden()
        ids = {UUID(str(item["submission_id"])) for item in waiting} | {UUID(posted[0])}
        assert len(ids) == 3 and set(map(UUID, posted)) == ids
        wait_until(lambda: len(given(live)) >= 3, 60, "three ratings in the event store")
        ratings = given(live)
        assert len(ratings) == 3, "each rating stored exactly once"
        assert {r.id for r in ratings} == {rating_id_for(i) for i in ids}
        assert sorted(r.score for r in ratings) == [2, 3, 5]
        assert {r.channel for r in ratings} == {"kiosk"}
        assert [r.components for r in ratings if r.score == 5] == [{"officers": 4}]
    finally:
        live.stop()


HANOI = timezone(timedelta(hours=7))


def test_a_rating_made_yesterday_lands_on_its_day_and_a_flood_waits_its_turn(
    database: Database, bootstrap: str, topics: tuple[str, str], tmp_path: Path,
    tablet: Page,
) -> None:
    settings = live_platform.test_settings(database, bootstrap, *topics, tmp_path)
    live = LivePlatform(settings).start()
    try:
        server_now = live.services.clock()
        token = enrol_counter_one(live, server_now)
        yesterday = (server_now - timedelta(days=1)).astimezone(HANOI)
        # The tablet's clock says yesterday (its timers run): it rated through an outage.
        tablet.clock.install(time=yesterday)
        # A queue left from the outage, longer than the limit lets through at once.
        backlog = [{"submission_id": str(uuid4()), "rating": 4, "components": {},
                    "rated_at": (yesterday - timedelta(minutes=n)).isoformat()}
                   for n in range(KIOSK_RATINGS_PER_WINDOW)]
        key = "kiosk-queue:nhat-tan-q1.1"
        tablet.add_init_script(
            "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
            f" localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(backlog))}); }}"
        )
        tablet.goto(f"{live.base_url}/kiosk/{token}")
        assert tablet.locator("main").get_attribute("data-kiosk-queue") == key
        rate(tablet, "Rất hài lòng", component="5")  # tapped "yesterday" on the tablet
        # The backlog goes through; the rating tapped after it is held back by the limit.
        wait_until(lambda: len(queued(tablet, key)) == 1, 60, "the backlog delivered")
        tablet.wait_for_timeout(3000)  # the server said when: the tablet waits, keeps it
        held = queued(tablet, key)
        assert len(held) == 1 and held[0]["rating"] == 5
        assert str(held[0]["rated_at"]).startswith(yesterday.date().isoformat())
        assert str(held[0]["rated_at"]).endswith("+07:00")
        expect(tablet.locator("#kiosk-pending")).to_contain_text("1")
        # The window passes, for the server and for the tablet: the rating is delivered.
        live.services.clock = lambda: datetime.now(server_now.tzinfo) + timedelta(
            seconds=KIOSK_WINDOW_SECONDS + 1)
        tablet.clock.fast_forward(int(KIOSK_WINDOW_SECONDS + 1) * 1000)
        wait_until(lambda: not queued(tablet, key), 60, "the held rating delivered")
        wanted = KIOSK_RATINGS_PER_WINDOW + 1
        wait_until(lambda: len(given(live)) >= wanted, 60, "every rating in the store")
        ratings = given(live)
        assert len(ratings) == wanted, "each rating stored exactly once"
        tapped = next(r for r in ratings if r.score == 5)
        assert tapped.components == {"officers": 5}
        assert tapped.given_at.astimezone(HANOI).date() == yesterday.date()
        by_id = {r.submission_id: r for r in ratings}
        for item in backlog:  # each queued rating on its own tap time
            rating = by_id[UUID(str(item["submission_id"]))]
            assert rating.given_at == datetime.fromisoformat(str(item["rated_at"]))
    finally:
        live.stop()
