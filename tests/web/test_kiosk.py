"""The counter kiosk: enrolment and revocation by staff, ratings posted by the device (form
and JSON), a client-made id stored once, and nothing to read back with a kiosk token.

The devices and the cases are the real applications on the in-memory store; ratings go
through the in-process intake publisher (the embedded default) into the cases store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta, timezone
from uuid import UUID, uuid1, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from consumers.publisher import InProcessIntakePublisher
from feedback_core.application import CasesApplication
from feedback_core.devices import (
    CounterKiosks,
    DevicesApplication,
    KioskState,
    parse_device_token,
)
from feedback_core.identity import rating_id_for
from feedback_core.intake import Channel, from_json, to_json
from feedback_core.organisation import Organisation
from feedback_core.ratings import Rating
from feedback_core.settings import Settings
from tests.support.qr import with_qr_codes
from tests.web.conftest import POPO
from tests.web.web_doubles import NOW, FakeHealth, FakeQueries, hidden, log_in
from web.app import create_app
from web.citizen import find_place
from web.kiosk import (
    KIOSK_RATINGS_PER_WINDOW,
    KIOSK_WINDOW_SECONDS,
    KioskPlace,
    KioskRefused,
    kiosk_submission,
)
from web.services import WebServices


class KioskWorld:
    def __init__(self, organisation: Organisation) -> None:
        settings = Settings(secret_key="kiosk-secret")
        self.now = NOW  # the business clock; tests move it
        self.store = CasesApplication(env=POPO)
        self.devices = DevicesApplication(env=POPO)
        self.services = WebServices(
            settings=settings, organisation=organisation,
            publisher=InProcessIntakePublisher(self.store), queries=FakeQueries(),
            health=FakeHealth(), clock=lambda: self.now, devices=self.devices,
            **with_qr_codes(settings),
        )
        self.app = create_app(self.services)

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def enrol(self, counter_id: str = "nhat-tan-q1", officer: str = "canbo.nhattan") -> str:
        return self.devices.enrol(counter_id, NOW, "lanhdao.nhattan", "Máy 1", officer)

    def rating(self, submission_id: UUID) -> Rating:
        rating: Rating = self.store.repository.get(rating_id_for(submission_id))
        return rating

    def events(self) -> int:
        return int(self.store.recorder.max_notification_id() or 0)


@pytest.fixture
def world(organisation: Organisation) -> KioskWorld:
    return KioskWorld(organisation)


@pytest.fixture
def kiosk(world: KioskWorld) -> Iterator[TestClient]:
    with world.client() as client:
        yield client


def rate(client: TestClient, token: str, **body: object) -> httpx.Response:
    return client.post(f"/kiosk/{token}/ratings", content=json.dumps(body),
                       headers={"Content-Type": "application/json"})


# --- enrolment and revocation by staff ----------------------------------------------------


def test_a_head_enrols_a_kiosk_and_sees_its_address_once(world: KioskWorld) -> None:
    with world.client() as head:
        assert log_in(head, "lanhdao.nhattan").status_code == 303
        page = head.get("/admin/kiosks")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        data = {"csrf_token": hidden(page.text, "csrf_token"), "counter_id": "nhat-tan-q2",
                "officer": "canbo.nhattan", "label": "Máy tính bảng"}
        enrolled = head.post("/admin/kiosks/enrol", data=data)
        assert enrolled.status_code == 200
        url = re.search(r'id="kiosk-url" href="([^"]+)"', enrolled.text)
        assert url and "/kiosk/nhat-tan-q2.1." in url.group(1)
        assert "<svg" in enrolled.text and enrolled.headers["cache-control"] == "no-store"
        token = url.group(1).rsplit("/", 1)[1]
        assert world.devices.check(token).state is KioskState.VALID
        listing = head.get("/admin/kiosks")
        assert 'id="kiosk-nhat-tan-q2-1"' in listing.text
        assert token not in listing.text  # shown once, never again
        kiosks = world.devices.kiosks_of("nhat-tan-q2")
        assert kiosks is not None and kiosks.kiosks[1].token_sha256 != token
        events = list(world.devices.events.get(kiosks.id))
        assert [type(e).__name__ for e in events] == ["Opened", "Enrolled"]
        enrolled = events[1]
        assert isinstance(enrolled, CounterKiosks.Enrolled)
        assert enrolled.actor == "lanhdao.nhattan"


def test_a_counter_outside_the_unit_cannot_be_enrolled(world: KioskWorld) -> None:
    with world.client() as head:
        log_in(head, "lanhdao.nhattan")
        csrf = hidden(head.get("/admin/kiosks").text, "csrf_token")
        answer = head.post("/admin/kiosks/enrol",
                           data={"csrf_token": csrf, "counter_id": "quang-an-q1"})
        assert answer.status_code == 403
        assert "Quầy này không thuộc đơn vị của bạn." in answer.text
        assert world.devices.kiosks_of("quang-an-q1") is None


def test_revoked_kiosk_gets_a_clear_410_and_publishes_nothing(world: KioskWorld) -> None:
    token = world.enrol()
    with world.client() as head:
        log_in(head, "lanhdao.nhattan")
        csrf = hidden(head.get("/admin/kiosks").text, "csrf_token")
        missing = head.post("/admin/kiosks/revoke", data={
            "csrf_token": csrf, "counter_id": "nhat-tan-q1", "serial": "1", "reason": ""})
        assert missing.status_code == 422
        answer = head.post("/admin/kiosks/revoke", data={
            "csrf_token": csrf, "counter_id": "nhat-tan-q1", "serial": "1",
            "reason": "Máy bị hỏng"})
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/kiosks"
    assert world.devices.check(token).state is KioskState.REVOKED
    with world.client() as kiosk:
        page = kiosk.get(f"/kiosk/{token}")
        assert page.status_code == 410
        assert "Thiết bị đánh giá này đã ngừng sử dụng" in page.text
        before = world.events()
        answer = rate(kiosk, token, submission_id=str(uuid4()), rating=5)
        assert answer.status_code == 410
        assert world.events() == before


def test_a_forged_token_is_unknown(kiosk: TestClient, world: KioskWorld) -> None:
    token = world.enrol()
    counter, serial = parse_device_token(token) or ("", 0)
    forged = f"{counter}.{serial}.{'A' * 24}"
    assert kiosk.get(f"/kiosk/{forged}").status_code == 404
    assert rate(kiosk, forged, submission_id=str(uuid4()), rating=5).status_code == 404
    assert kiosk.get("/kiosk/nonsense").status_code == 404


# --- ratings from the device ---------------------------------------------------------------


def test_the_kiosk_page_shows_the_counter_and_its_officer(kiosk: TestClient,
                                                          world: KioskWorld) -> None:
    token = world.enrol()
    page = kiosk.get(f"/kiosk/{token}")
    assert page.status_code == 200
    officer = world.services.organisation.staff["canbo.nhattan"].display_name
    assert "Quầy 1" in page.text and f'id="kiosk-officer">{officer}<' in page.text
    assert '<script src="/static/kiosk.js" defer></script>' in page.text
    assert "<script>" not in page.text  # CSP: no inline script
    assert f'data-kiosk-ratings="/kiosk/{token}/ratings"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


def test_a_json_rating_with_a_device_made_id_is_acknowledged_and_stored(
    kiosk: TestClient, world: KioskWorld
) -> None:
    token = world.enrol()
    sid = uuid4()
    components = {"access": 5, "procedures": 4, "officers": 5, "results": 4, "feedback": 3}
    answer = rate(kiosk, token, submission_id=str(sid), rating=4, components=components)
    assert answer.status_code == 202
    assert answer.json() == {"ok": True}
    rating = world.rating(sid)
    assert rating.channel == Channel.KIOSK.value and rating.counter_id == "nhat-tan-q1"
    assert rating.score == 4 and rating.components == components


def test_the_same_submission_id_twice_is_one_rating(kiosk: TestClient,
                                                    world: KioskWorld) -> None:
    token = world.enrol()
    sid = str(uuid4())
    assert rate(kiosk, token, submission_id=sid, rating=5).status_code == 202
    after_first = world.events()
    again = rate(kiosk, token, submission_id=sid, rating=5)  # the device retried
    assert again.status_code == 202
    assert world.events() == after_first
    assert world.rating(UUID(sid)).score == 5


@pytest.mark.parametrize("body", [
    {"submission_id": "not-a-uuid", "rating": 5},
    {"submission_id": str(uuid1()), "rating": 5},  # only random (version 4) ids
    {"submission_id": "UUID", "rating": 0},
    {"rating": 3},
    {"submission_id": "UUID", "rating": 6},
    {"submission_id": "UUID", "rating": True},
    {"submission_id": "UUID", "rating": 4, "components": {"access": 9}},
    {"submission_id": "UUID", "rating": 4, "components": {"price": 3}},
    {"submission_id": "UUID", "rating": 4, "components": [1, 2]},
])
def test_bad_ratings_are_refused_in_vietnamese(kiosk: TestClient, world: KioskWorld,
                                               body: dict[str, object]) -> None:
    token = world.enrol()
    if body.get("submission_id") == "UUID":
        body = {**body, "submission_id": str(uuid4())}
    before = world.events()
    answer = rate(kiosk, token, **body)
    assert answer.status_code == 422
    assert answer.json()["ok"] is False and answer.json()["error"]
    assert world.events() == before


def test_a_body_that_is_not_json_is_a_400(kiosk: TestClient, world: KioskWorld) -> None:
    token = world.enrol()
    answer = kiosk.post(f"/kiosk/{token}/ratings", content=b"rating=5")
    assert answer.status_code == 400 and answer.json()["ok"] is False
    big = kiosk.post(f"/kiosk/{token}/ratings", content=b"x" * 5000)
    assert big.status_code == 413


def test_without_javascript_the_form_posts_and_thanks(kiosk: TestClient,
                                                      world: KioskWorld) -> None:
    token = world.enrol()
    page = kiosk.get(f"/kiosk/{token}")
    sid = hidden(page.text, "submission_id")
    form = {"submission_id": sid, "rating": "2", "component_officers": "1"}
    answer = kiosk.post(f"/kiosk/{token}", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/kiosk/{token}/thanks?lang=vi"
    thanks = kiosk.get(answer.headers["location"])
    assert "Cảm ơn bạn đã đánh giá!" in thanks.text
    assert f'content="5;url=/kiosk/{token}?lang=vi"' in thanks.text
    rating = world.rating(UUID(sid))
    assert rating.score == 2 and rating.components == {"officers": 1}
    assert rating.channel == "kiosk"
    twice = kiosk.post(f"/kiosk/{token}", data=form)  # a double tap: still one rating
    assert twice.status_code == 303 and world.rating(UUID(sid)).version == rating.version


def test_the_form_without_a_rating_asks_for_one(kiosk: TestClient, world: KioskWorld) -> None:
    token = world.enrol()
    sid = hidden(kiosk.get(f"/kiosk/{token}").text, "submission_id")
    answer = kiosk.post(f"/kiosk/{token}", data={"submission_id": sid})
    assert answer.status_code == 422
    assert "Vui lòng chạm vào một mức đánh giá." in answer.text
    assert hidden(answer.text, "submission_id") == sid


def test_when_the_log_is_down_the_device_is_told_to_retry(world: KioskWorld) -> None:
    token = world.enrol()

    class Down(InProcessIntakePublisher):
        async def publish(self, submission: object) -> None:
            raise ConnectionError("intake log unreachable")

    world.services.publisher = Down(world.store)
    with world.client() as kiosk:
        answer = rate(kiosk, token, submission_id=str(uuid4()), rating=5)
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5"


def test_a_kiosk_token_reads_nothing_back(kiosk: TestClient, world: KioskWorld) -> None:
    token = world.enrol()
    sid = uuid4()
    answer = rate(kiosk, token, submission_id=str(sid), rating=5)
    assert answer.content == b'{"ok":true}'
    for path in (f"/kiosk/{token}/ratings", f"/kiosk/{token}/ratings/{sid}",
                 f"/kiosk/{token}/status", f"/kiosk/{token}/queue"):
        got = kiosk.get(path)
        assert got.status_code in (404, 405), path
        assert str(sid) not in got.text.replace(path, "")  # the 404 page's own links aside
    form = kiosk.post(f"/kiosk/{token}", data={"submission_id": str(uuid4()), "rating": "5"})
    assert "/t/" not in form.headers["location"]  # no tracking page from a kiosk
    # The kiosk is not a staff session: staff pages stay closed to it.
    assert kiosk.get("/staff/queue").status_code == 303
    assert kiosk.get("/admin/kiosks").status_code == 303


# --- the tap time made on the device (rated_at) ------------------------------------------

HANOI = timezone(timedelta(hours=7))


def test_a_rating_queued_yesterday_lands_on_its_day(kiosk: TestClient,
                                                   world: KioskWorld) -> None:
    token = world.enrol()
    sid = uuid4()
    tapped = (NOW - timedelta(days=1)).astimezone(HANOI)  # 10:30 yesterday in Hà Nội
    answer = rate(kiosk, token, submission_id=str(sid), rating=4,
                  rated_at=tapped.isoformat())
    assert answer.status_code == 202
    given = world.rating(sid).given_at
    assert given == tapped and given.astimezone(HANOI).date() == tapped.date()


@pytest.mark.parametrize(("offset", "used"), [
    (timedelta(minutes=-3), True),  # sent a little later: the tap time
    (timedelta(minutes=2), False),  # a tablet's clock a little ahead: the receipt time
    (timedelta(days=-6, hours=-23), True),  # a week-long outage, just within the bound
])
def test_a_plausible_tap_time_is_used(kiosk: TestClient, world: KioskWorld,
                                      offset: timedelta, used: bool) -> None:
    token = world.enrol()
    sid = uuid4()
    assert rate(kiosk, token, submission_id=str(sid), rating=5,
                rated_at=(NOW + offset).isoformat()).status_code == 202
    assert world.rating(sid).given_at == (NOW + offset if used else NOW)


def kiosk_place(world: KioskWorld, token: str) -> KioskPlace:
    found = world.devices.check(token)
    place = find_place(world.services.organisation, "nhat-tan-q1")
    assert found.kiosk is not None and place is not None
    return KioskPlace(found.kiosk, place)


@pytest.mark.parametrize("offset", [timedelta(hours=1), timedelta(days=-8), timedelta(days=-400)])
def test_an_implausible_tap_time_is_clamped_and_recorded(
    kiosk: TestClient, world: KioskWorld, offset: timedelta
) -> None:
    token = world.enrol()
    tapped = (NOW + offset).astimezone(HANOI)  # far ahead, or older than a queue waits
    sid = uuid4()
    answer = rate(kiosk, token, submission_id=str(sid), rating=3, rated_at=tapped.isoformat())
    assert answer.status_code == 202  # taken, on the receipt time
    assert world.rating(sid).given_at == NOW
    # The intake event says which device time was refused, and keeps saying it in the log.
    data = {"submission_id": str(uuid4()), "rating": 3, "rated_at": tapped.isoformat()}
    submission = kiosk_submission(data, kiosk_place(world, token), NOW, "vi")
    assert submission.submitted_at == NOW
    assert submission.clamped_device_time == tapped.isoformat()
    assert from_json(to_json(submission)).clamped_device_time == tapped.isoformat()


def test_a_used_tap_time_records_no_clamp(world: KioskWorld) -> None:
    token = world.enrol()
    data = {"submission_id": str(uuid4()), "rating": 3,
            "rated_at": (NOW - timedelta(hours=5)).isoformat()}
    submission = kiosk_submission(data, kiosk_place(world, token), NOW, "vi")
    assert submission.submitted_at == NOW - timedelta(hours=5)
    assert submission.clamped_device_time == ""


@pytest.mark.parametrize("rated_at", ["hôm qua", "2026-11-22T10:00:00", 1763700000, "9" * 50])
def test_a_tap_time_that_is_not_a_time_with_offset_is_refused(
    kiosk: TestClient, world: KioskWorld, rated_at: object
) -> None:
    token = world.enrol()
    before = world.events()
    answer = rate(kiosk, token, submission_id=str(uuid4()), rating=4, rated_at=rated_at)
    assert answer.status_code == 422
    assert answer.json()["error"] == "Thời điểm đánh giá không hợp lệ."
    assert world.events() == before
    with pytest.raises(KioskRefused):
        kiosk_submission({"submission_id": str(uuid4()), "rating": 4, "rated_at": rated_at},
                         kiosk_place(world, token), NOW, "vi")


# --- the rate limit per kiosk -------------------------------------------------------------


def test_a_kiosk_cannot_flood_the_log_and_is_told_when_to_retry(
    kiosk: TestClient, world: KioskWorld
) -> None:
    token = world.enrol()
    other = world.enrol("nhat-tan-q2")
    sent = [uuid4() for _ in range(KIOSK_RATINGS_PER_WINDOW)]
    for sid in sent:  # a queue replayed after an outage: a burst is taken
        assert rate(kiosk, token, submission_id=str(sid), rating=5).status_code == 202
    before = world.events()
    held = uuid4()
    refused = rate(kiosk, token, submission_id=str(held), rating=5)
    assert refused.status_code == 429
    assert refused.json() == {"ok": False, "error":
                              "Gửi quá nhanh: đánh giá được giữ lại và sẽ tự gửi sau ít giây."}
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= KIOSK_WINDOW_SECONDS
    assert world.events() == before  # nothing published
    # Another kiosk is not held back; the form without JavaScript is limited too.
    assert rate(kiosk, other, submission_id=str(uuid4()), rating=4).status_code == 202
    form = kiosk.post(f"/kiosk/{token}", data={"submission_id": str(held), "rating": "5"})
    assert form.status_code == 429 and form.headers["retry-after"]
    assert "Gửi quá nhanh" in form.text and hidden(form.text, "submission_id") == str(held)
    # After the wait the same rating (same id) is taken: the device never drops it.
    world.now = NOW + timedelta(seconds=wait)
    assert rate(kiosk, token, submission_id=str(held), rating=5).status_code == 202
    assert world.rating(held).score == 5
    # On average one rating per 3 s gets through.
    assert KIOSK_WINDOW_SECONDS / KIOSK_RATINGS_PER_WINDOW == 3
