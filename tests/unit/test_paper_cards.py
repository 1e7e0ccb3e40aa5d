"""Paper satisfaction cards: one card per line, errors pointed at, batch identity."""

from __future__ import annotations

from datetime import date

from feedback_core.paper_cards import (
    MAX_CARDS,
    LineProblem,
    batch_id_for,
    card_submission_id,
    parse_batch,
)


def test_the_three_ways_to_write_a_card() -> None:
    parsed = parse_batch("5\n\n4 5 4 4 5 3\n454453 HS-2026-001\n3 000.00.40.H26-1\n")
    assert parsed.errors == []
    assert [c.rating for c in parsed.cards] == [5, 4, 4, 3]
    assert [c.line for c in parsed.cards] == [1, 3, 4, 5]  # blank lines keep the numbering
    assert [c.number for c in parsed.cards] == [1, 2, 3, 4]
    assert parsed.cards[1].components == {
        "access": 5, "procedures": 4, "officers": 4, "results": 5, "feedback": 3
    }
    assert parsed.cards[2].components == parsed.cards[1].components
    assert parsed.cards[2].dossier_code == "HS-2026-001"
    assert parsed.cards[3].components == {} and parsed.cards[3].dossier_code
    assert parsed.mean == 4.0
    assert parsed.counts() == {5: 1, 4: 2, 3: 1, 2: 0, 1: 0}


def test_each_bad_line_is_pointed_at() -> None:
    parsed = parse_batch("5\n6\n4 5 4\n4 5 4 4 9 3\n4 #bad\nabc\n2")
    assert [(e.line, e.problem) for e in parsed.errors] == [
        (2, LineProblem.RATING),
        (3, LineProblem.COMPONENT_COUNT),
        (4, LineProblem.COMPONENT_VALUE),
        (5, LineProblem.DOSSIER),
        (6, LineProblem.RATING),
    ]
    assert [c.rating for c in parsed.cards] == [5, 2]
    assert parsed.errors[0].text == "6"


def test_a_batch_has_at_most_max_cards() -> None:
    parsed = parse_batch("5\n" * (MAX_CARDS + 2))
    assert len(parsed.cards) == MAX_CARDS
    assert [e.problem for e in parsed.errors] == [LineProblem.TOO_MANY] * 2


def test_the_batch_id_ignores_spacing_but_not_content_counter_or_day() -> None:
    day = date(2026, 11, 20)
    one = batch_id_for("nhat-tan-q1", day, parse_batch("5\n4 5 4 4 5 3").cards)
    assert one == batch_id_for("nhat-tan-q1", day, parse_batch(" 5 \n\n454453\n").cards)
    assert one != batch_id_for("nhat-tan-q1", day, parse_batch("5\n4 5 4 4 5 4").cards)
    assert one != batch_id_for("nhat-tan-q2", day, parse_batch("5\n4 5 4 4 5 3").cards)
    assert one != batch_id_for("nhat-tan-q1", date(2026, 11, 21),
                               parse_batch("5\n4 5 4 4 5 3").cards)
    assert card_submission_id(one, 1) == card_submission_id(one, 1)
    assert card_submission_id(one, 1) != card_submission_id(one, 2)
