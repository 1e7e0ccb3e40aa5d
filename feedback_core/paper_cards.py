"""Paper satisfaction cards typed in by staff: one card per line, parsed and identified.

A line is the overall rating, optionally the five SIPAS components and a dossier code:
``5``, ``4 5 4 4 5 3``, ``454453`` (six digits without spaces), ``4 HS-2026-001``. Blank
lines are skipped. The batch id is a hash of the counter, the date and the cards as read
(so spacing does not matter), and each card's submission id derives from the batch id and
its number in the batch: the same batch entered twice gives the same ids, which the core
stores once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from feedback_core.identity import NAMESPACE
from feedback_core.intake import SipasComponent

MAX_CARDS = 500  # one box at a time; more than this is two batches
_DOSSIER_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-/_]{0,39}")
_COMPONENTS = list(SipasComponent)


class LineProblem(StrEnum):
    RATING = "rating"  # the first value is not a score 1-5
    COMPONENT_COUNT = "component_count"  # not 0 or 5 component scores
    COMPONENT_VALUE = "component_value"  # a component score is not 1-5
    DOSSIER = "dossier"  # the last value is not a dossier code
    TOO_MANY = "too_many"  # more than MAX_CARDS cards


@dataclass(frozen=True)
class PaperCard:
    line: int  # the line as typed (1-based), to point at it
    number: int  # the card's number in the batch (1-based, blank lines not counted)
    rating: int
    components: dict[str, int] = field(default_factory=dict)
    dossier_code: str = ""

    @property
    def canonical(self) -> str:
        scores = [self.rating, *self.components.values()]
        return " ".join([*map(str, scores), *([self.dossier_code] if self.dossier_code else [])])


@dataclass(frozen=True)
class LineError:
    line: int
    text: str
    problem: LineProblem


@dataclass(frozen=True)
class ParsedBatch:
    cards: list[PaperCard]
    errors: list[LineError]

    @property
    def mean(self) -> float | None:
        if not self.cards:
            return None
        return sum(c.rating for c in self.cards) / len(self.cards)

    def counts(self) -> dict[int, int]:
        """How many cards gave each overall score, 5 down to 1."""
        return {s: sum(1 for c in self.cards if c.rating == s) for s in range(5, 0, -1)}


def parse_batch(text: str) -> ParsedBatch:
    cards: list[PaperCard] = []
    errors: list[LineError] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parsed = _parse_line(line, line_no, len(cards) + 1)
        if isinstance(parsed, LineError):
            errors.append(parsed)
        elif len(cards) >= MAX_CARDS:
            errors.append(LineError(line_no, line, LineProblem.TOO_MANY))
        else:
            cards.append(parsed)
    return ParsedBatch(cards, errors)


def _parse_line(line: str, line_no: int, number: int) -> PaperCard | LineError:
    tokens = line.replace(",", " ").replace(";", " ").split()
    dossier = ""
    if tokens and not tokens[-1].isdigit() and len(tokens) > 1:
        dossier = tokens.pop()
        if not _DOSSIER_CODE.fullmatch(dossier):
            return LineError(line_no, line, LineProblem.DOSSIER)
    if len(tokens) == 1 and len(tokens[0]) == 6 and tokens[0].isdigit():
        tokens = list(tokens[0])  # "454453": a fast way to type a full card
    if not tokens or not _is_score(tokens[0]):
        return LineError(line_no, line, LineProblem.RATING)
    rest = tokens[1:]
    if len(rest) not in (0, len(_COMPONENTS)):
        return LineError(line_no, line, LineProblem.COMPONENT_COUNT)
    if not all(_is_score(t) for t in rest):
        return LineError(line_no, line, LineProblem.COMPONENT_VALUE)
    components = {c.value: int(t) for c, t in zip(_COMPONENTS, rest, strict=False)}
    return PaperCard(line_no, number, int(tokens[0]), components, dossier)


def _is_score(token: str) -> bool:
    return token in {"1", "2", "3", "4", "5"}


def batch_id_for(counter_id: str, day: date, cards: list[PaperCard]) -> str:
    """The same counter, date and cards give the same id, however they were spaced."""
    content = "\n".join(card.canonical for card in cards)
    digest = hashlib.sha256(f"{counter_id}\n{day.isoformat()}\n{content}".encode()).hexdigest()
    return f"pb-{digest[:24]}"


def card_submission_id(batch_id: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"paper-card:{batch_id}:{number}")
