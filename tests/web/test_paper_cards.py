"""Paper satisfaction cards typed in by staff: the keyboard form, errors pointed out in
Vietnamese, the summary before sending, channel paper with the batch id, and a batch
entered twice caught and counted once (the real cases and devices applications in memory)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from feedback_core.identity import rating_id_for
from feedback_core.local_time import local_date
from feedback_core.organisation import Organisation
from feedback_core.paper_cards import batch_id_for, card_submission_id, parse_batch
from feedback_core.ratings import Rating
from tests.web.test_kiosk import KioskWorld
from tests.web.web_doubles import NOW, hidden, log_in

CARDS = "5\n4 5 4 4 5 3\n454453 HS-2026-001\n2\n"
DAY = (local_date(NOW) - timedelta(days=1)).isoformat()


@pytest.fixture
def world(organisation: Organisation) -> KioskWorld:
    return KioskWorld(organisation)


@pytest.fixture
def clerk(world: KioskWorld) -> Iterator[TestClient]:
    with world.client() as client:
        assert log_in(client, "canbo.nhattan").status_code == 303
        yield client


def batch_form(client: TestClient, cards: str = CARDS, counter: str = "nhat-tan-q1",
               day: str = DAY) -> dict[str, str]:
    page = client.get("/staff/paper-cards")
    assert page.status_code == 200
    return {"csrf_token": hidden(page.text, "csrf_token"), "counter_id": counter, "day": day,
            "cards": cards}


def test_the_form_is_for_the_units_staff(clerk: TestClient) -> None:
    page = clerk.get("/staff/paper-cards")
    assert 'id="cards"' in page.text and 'value="nhat-tan-q1"' in page.text
    assert 'value="quang-an-q1"' not in page.text


def test_lines_with_errors_are_pointed_out_and_nothing_is_sent(
    clerk: TestClient, world: KioskWorld
) -> None:
    before = world.events()
    answer = clerk.post("/staff/paper-cards/review",
                        data=batch_form(clerk, "5\n7\n4 5 4\n4 5 4 4 5 3"))
    assert answer.status_code == 422
    assert "Có dòng chưa đúng" in answer.text
    assert "Dòng 2" in answer.text and "mức hài lòng chung từ 1 đến 5" in answer.text
    assert "Dòng 3" in answer.text and "ghi đủ 5 điểm thành phần" in answer.text
    assert "Dòng 1<" not in answer.text and "Dòng 4" not in answer.text
    assert "5\n7\n4 5 4\n4 5 4 4 5 3</textarea>" in answer.text  # kept as typed
    assert world.events() == before


@pytest.mark.parametrize(("fields", "message"), [
    ({"cards": "\n \n"}, "Chưa có phiếu nào"),
    ({"counter": "no-such-counter"}, "Vui lòng chọn quầy của đơn vị bạn."),
    ({"day": "2099-01-01"}, "không được sau hôm nay"),
    ({"day": "hôm qua"}, "Ngày trên phiếu không hợp lệ"),
])
def test_a_batch_that_cannot_be_taken_says_why(clerk: TestClient, world: KioskWorld,
                                               fields: dict[str, str], message: str) -> None:
    answer = clerk.post("/staff/paper-cards/review", data=batch_form(clerk, **fields))
    assert answer.status_code == 422 and message in answer.text
    assert world.events() == 0


def test_another_units_counter_is_refused(clerk: TestClient, world: KioskWorld) -> None:
    answer = clerk.post("/staff/paper-cards/confirm",
                        data=batch_form(clerk, counter="quang-an-q1"))
    assert answer.status_code == 403 and "Vui lòng chọn quầy của đơn vị bạn." in answer.text
    assert world.events() == 0


def test_review_then_confirm_publishes_each_card_as_paper(
    clerk: TestClient, world: KioskWorld
) -> None:
    review = clerk.post("/staff/paper-cards/review", data=batch_form(clerk))
    assert review.status_code == 200
    assert re.search(r'id="paper-count">4<', review.text)
    assert re.search(r'id="paper-mean">3[.,]75<', review.text)
    assert world.events() == 0  # nothing sent before the confirmation
    confirm = {"csrf_token": hidden(review.text, "csrf_token"),
               "counter_id": hidden(review.text, "counter_id"),
               "day": hidden(review.text, "day"), "cards": CARDS}
    sent = clerk.post("/staff/paper-cards/confirm", data=confirm)
    assert sent.status_code == 303 and sent.headers["location"] == "/staff/paper-cards"
    assert "Đã gửi 4 phiếu" in clerk.get("/staff/paper-cards").text
    day = local_date(NOW) - timedelta(days=1)
    batch_id = batch_id_for("nhat-tan-q1", day, parse_batch(CARDS).cards)
    ratings: list[Rating] = [
        world.store.repository.get(rating_id_for(card_submission_id(batch_id, n)))
        for n in range(1, 5)
    ]
    assert [r.channel for r in ratings] == ["paper"] * 4
    assert [r.score for r in ratings] == [5, 4, 4, 2]
    assert ratings[2].dossier_code == "HS-2026-001"
    assert local_date(ratings[0].given_at) == day
    recorded = world.devices.batch(batch_id)
    assert recorded is not None and recorded.actor == "canbo.nhattan" and recorded.cards == 4


def test_a_batch_entered_twice_is_caught_and_not_counted_twice(
    clerk: TestClient, world: KioskWorld
) -> None:
    clerk.post("/staff/paper-cards/confirm", data=batch_form(clerk))
    after_first = world.events()
    assert after_first > 0
    with world.client() as other:
        log_in(other, "lanhdao.nhattan")
        spaced = CARDS.replace("\n", "\n\n").replace("454453", "4 5 4 4 5 3")
        review = other.post("/staff/paper-cards/review", data=batch_form(other, spaced))
        assert review.status_code == 409
        assert "Đợt phiếu này đã được nhập lúc" in review.text
        name = world.services.organisation.staff["canbo.nhattan"].display_name
        assert name in review.text
        again = other.post("/staff/paper-cards/confirm", data=batch_form(other, spaced))
        assert again.status_code == 409
    assert world.events() == after_first


def test_roles_without_paper_entry_are_refused(world: KioskWorld) -> None:
    with world.client() as inspector:
        log_in(inspector, "thanhtra.nhattan")
        page = inspector.get("/staff/paper-cards")
        assert page.status_code == 403
        assert "Chỉ cán bộ tiếp nhận, xử lý và lãnh đạo đơn vị được nhập phiếu giấy." in page.text
