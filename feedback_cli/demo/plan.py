"""Draw a district's submissions and the handlers' steps from a seed (pure: no I/O).

Everything comes from one ``random.Random(seed)``, the organisation and ``now`` (the moment
up to which history is made), so the same inputs give the same plan. Submission ids come
from the seed and the submission's number only, so a later run with another ``now`` maps
onto the same aggregates and stores nothing new.

The mix follows shared/domain.md: counters' ratings (QR, kiosk, paper) dominate, mostly
satisfied; complaints are far fewer, from low ratings and from hotline 1022 and Open311;
handlers answer most of them early, a few late, a few are left open past their due date.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import takewhile
from typing import Literal, TypeVar
from uuid import UUID, uuid5

from feedback_cli.demo import texts
from feedback_core.identity import NAMESPACE
from feedback_core.intake import Channel, IntakeSubmission, SipasComponent
from feedback_core.intake_service import FEEDBACK_RULE
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar, due_date
from feedback_core.local_time import LOCAL_ZONE, local_date
from feedback_core.organisation import Organisation
from feedback_core.permissions import Action
from feedback_core.roles import CITIZEN, Actor, Role

T = TypeVar("T")
SCALES = {"small": 4_000, "medium": 100_000, "large": 1_000_000}  # events
DEFAULT_DAYS = {"small": 90, "medium": 180, "large": 365}
OPERATOR = "tongdai.tayho"
OPEN311_CLIENT = "demo-open311-app"

RATING_CHANNELS = ((Channel.QR, 55), (Channel.KIOSK, 30), (Channel.PAPER, 15))
SCORES = ((5, 56), (4, 30), (3, 8), (2, 4), (1, 2))
# The chance that a rating of this score comes with complaint text.
COMPLAINT_GIVEN_SCORE = {1: 0.6, 2: 0.45, 3: 0.12, 4: 0.015, 5: 0.003}
CONFIRMED_SHARE = 0.5  # citizens who tap "resolved" on the tracking page after the answer
OUTSIDE_COMPLAINT_SHARE = 0.015  # submissions that are hotline or Open311 complaints
# How a complaint goes, with weights (see ``_steps``).
OUTCOMES = (
    ("answered", 66),
    ("asked", 8),
    ("late", 5),
    ("stuck", 4),
    ("reopened", 4),
    ("transferred", 4),
    ("extended", 3),
    ("refused", 4),
    ("withdrawn", 2),
)


class ScaleError(ValueError):
    """An unknown ``--scale``: the message lists what is accepted."""


def parse_scale(text: str) -> tuple[int, int]:
    """``small|medium|large|<events>`` → (events, default days)."""
    if text in SCALES:
        return SCALES[text], DEFAULT_DAYS[text]
    try:
        events = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        events = 0
    if events <= 0:
        raise ScaleError(f"scale {text!r}: give small, medium, large or a number of events")
    return events, 365 if events >= SCALES["medium"] else 90


@dataclass(frozen=True)
class Step:
    """One handler's (or the citizen's) command on a case, on its business time."""

    action: Action | Literal["confirm"]  # "confirm": the citizen confirms the resolution
    actor: Actor
    at: datetime
    reason: str = ""
    text: str = ""
    assignee: str = ""
    to_unit: str = ""
    days: int = 0


@dataclass(frozen=True)
class Planned:
    submission: IntakeSubmission
    steps: tuple[Step, ...] = ()

    @property
    def events(self) -> int:
        """The events storing it makes: a rating, a case, one per step."""
        sub = self.submission
        return int(sub.has_rating) + int(sub.has_complaint) + len(self.steps)


@dataclass
class Place:
    unit_id: str
    office_id: str
    counter_ids: list[str]
    handlers: list[str]


@dataclass
class DistrictPlan:
    """The generator; iterate ``submissions()`` once (it draws as it goes)."""

    organisation: Organisation
    seed: int
    events: int
    days: int
    now: datetime
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.places = _places(self.organisation)
        self.heads = {u.id: u.head for u in self.organisation.units.values() if u.head}
        self.today = local_date(self.now)
        first = self.today - timedelta(days=self.days)
        self.all_days = [first + timedelta(days=n) for n in range(self.days)]
        self.work_days = [d for d in self.all_days if self.calendar.is_working_day(d)]
        self._working: dict[date, bool] = {}

    def submissions(self) -> Iterator[Planned]:
        total = 0
        number = 0
        while total < self.events:
            planned = self._one(number)
            number += 1
            total += planned.events
            yield planned

    # --- drawing -------------------------------------------------------------------------

    def _one(self, number: int) -> Planned:
        rng = self.rng
        sid = uuid5(NAMESPACE, f"demo-district:{self.seed}:{number}")
        place = rng.choice(self.places)
        if rng.random() < OUTSIDE_COMPLAINT_SHARE:
            sub = self._outside_complaint(sid, place)
        else:
            sub = self._rating(sid, place, number)
        if not sub.has_complaint:
            return Planned(sub)
        steps = self._steps(sub, place)
        return Planned(sub, tuple(takewhile(lambda s: s.at <= self.now, steps)))

    def _rating(self, sid: UUID, place: Place, number: int) -> IntakeSubmission:
        rng = self.rng
        channel = _pick(rng, RATING_CHANNELS)
        score = _pick(rng, SCORES)
        when = self._moment(rng.choice(self.work_days), 7.5, 17.0)
        complaint = rng.random() < COMPLAINT_GIVEN_SCORE[score]
        category = _pick(rng, tuple(texts.COUNTER_CATEGORY_WEIGHTS.items())) if complaint else None
        components = {}
        if rng.random() < 0.6:
            components = {
                c.value: min(5, max(1, score + rng.choice((-1, 0, 0, 0, 1))))
                for c in SipasComponent
            }
        dossier = ""
        if rng.random() < 0.7:
            serial = number % 10_000
            dossier = f"000.{self.places.index(place):02d}.40.H26-{when:%y%m%d}-{serial:04d}"
        return IntakeSubmission(
            submission_id=sid,
            channel=channel,
            unit_id=place.unit_id,
            office_id=place.office_id,
            counter_id=rng.choice(place.counter_ids),
            submitted_at=when,
            rating=score,
            description=rng.choice(texts.COMPLAINTS[category]) if category else "",
            category=category,
            components=components,
            dossier_code=dossier,
        )

    def _outside_complaint(self, sid: UUID, place: Place) -> IntakeSubmission:
        rng = self.rng
        hotline = rng.random() < 0.6
        category = _pick(rng, tuple(texts.OUTSIDE_CATEGORY_WEIGHTS.items()))
        when = self._moment(rng.choice(self.all_days), 6.0, 22.0)
        phone = f"09{rng.randrange(10**8):08d}"
        street = rng.choice(texts.STREETS)
        return IntakeSubmission(
            submission_id=sid,
            channel=Channel.HOTLINE if hotline else Channel.OPEN311,
            unit_id=place.unit_id,
            office_id=place.office_id,
            counter_id=place.counter_ids[0],
            submitted_at=when,
            rating=None,
            description=rng.choice(texts.COMPLAINTS[category]),
            category=category,
            contact_phone=phone,
            wants_updates=rng.random() < 0.5,
            reported_by=OPERATOR if hotline else OPEN311_CLIENT,
            address=f"Số {rng.randint(1, 200)} {street}, quận Tây Hồ",
            latitude=None if hotline else round(21.05 + rng.random() * 0.04, 5),
            longitude=None if hotline else round(105.80 + rng.random() * 0.04, 5),
        )

    def _steps(self, sub: IntakeSubmission, place: Place) -> list[Step]:
        """The case's history as its handlers would make it, from receipt onwards."""
        rng = self.rng
        outcome = _pick(rng, OUTCOMES)
        received = local_date(sub.submitted_at)
        due = due_date(received, DEFAULT_RULES[FEEDBACK_RULE], self.calendar).due
        first = place.handlers[0]
        lead = Actor(first, Role.HANDLER, place.unit_id)
        day = self._working_after(received, rng.choice((1, 1, 1, 2)))
        if outcome == "refused":
            return [Step(Action.REFUSE, lead, self._at(day, 9), reason=rng.choice(texts.REFUSALS))]
        steps = [Step(Action.ACCEPT, lead, self._at(day, 8))]
        if outcome == "transferred":
            other = rng.choice([p for p in self.places if p is not place])
            steps.append(
                Step(
                    Action.TRANSFER,
                    lead,
                    self._at(day, 9),
                    to_unit=other.unit_id,
                    reason=texts.TRANSFERS[0],
                )
            )
            day = self._working_after(day, 1)
            place = other
            lead = Actor(other.handlers[0], Role.HANDLER, other.unit_id)
            steps.append(Step(Action.ACCEPT_TRANSFER, lead, self._at(day, 8)))
        holder = rng.choice(place.handlers)
        worker = Actor(holder, Role.HANDLER, place.unit_id)
        if holder == lead.username:
            steps.append(Step(Action.CLAIM, worker, self._at(day, 10)))
        else:
            steps.append(Step(Action.ASSIGN, lead, self._at(day, 10), assignee=holder))
        steps.append(Step(Action.START, worker, self._at(day, 11)))
        if outcome == "withdrawn":
            later = self._working_after(day, rng.randint(1, 3))
            return [
                *steps,
                Step(Action.WITHDRAW, CITIZEN, self._at(later, 19), reason=texts.WITHDRAWALS[0]),
            ]
        if outcome == "stuck":
            return steps  # held, never answered: overdue once the due date passes
        if outcome == "asked":
            asked = self._working_after(day, rng.randint(1, 2))
            replied = self._working_after(asked, rng.randint(1, 4))
            steps += [
                Step(
                    Action.ASK_CITIZEN,
                    worker,
                    self._at(asked, 14),
                    text=rng.choice(texts.QUESTIONS),
                ),
                Step(
                    Action.RECORD_REPLY,
                    worker,
                    self._at(replied, 9),
                    text=rng.choice(texts.REPLIES),
                ),
            ]
            day = replied
        if outcome == "extended":
            head = self.heads.get(place.unit_id) or self.heads.get("tay-ho")
            if head:
                days = 5
                steps.append(
                    Step(
                        Action.EXTEND,
                        Actor(head, Role.HEAD, "tay-ho"),
                        self._at(self._working_after(day, 2), 15),
                        days=days,
                        reason=texts.EXTENSIONS[0],
                    )
                )
            answered = self._working_after(due, rng.randint(1, 4))
        elif outcome == "late":
            answered = self._working_after(due, rng.randint(1, 6))
        else:
            answered = self._working_after(day, rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9)))
        steps += self._answer(worker, answered)
        if outcome != "reopened" and rng.random() < CONFIRMED_SHARE:
            confirmed = self._working_after(answered, rng.randint(0, 3))
            steps.append(Step("confirm", CITIZEN, self._at(confirmed, 20)))
        if outcome == "reopened":
            again = self._working_after(answered, rng.randint(1, 3))
            steps += [
                Step(Action.REOPEN, CITIZEN, self._at(again, 20), reason=texts.REOPENINGS[0]),
                *self._answer(worker, self._working_after(again, rng.randint(1, 3))),
            ]
        return steps

    def _answer(self, worker: Actor, day: date) -> list[Step]:
        return [
            Step(Action.ANSWER, worker, self._at(day, 15), text=self.rng.choice(texts.ANSWERS)),
            Step(Action.RESOLVE, worker, self._at(day, 16)),
        ]

    # --- business time -------------------------------------------------------------------

    def _working_after(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day``."""
        while count > 0:
            day += timedelta(days=1)
            if self._is_working(day):
                count -= 1
        return day

    def _is_working(self, day: date) -> bool:
        if day not in self._working:
            self._working[day] = self.calendar.is_working_day(day)
        return self._working[day]

    def _moment(self, day: date, from_hour: float, to_hour: float) -> datetime:
        minutes = self.rng.randrange(int(from_hour * 60), int(to_hour * 60))
        local = datetime.combine(day, time(minutes // 60, minutes % 60), LOCAL_ZONE)
        return local.astimezone(UTC)

    def _at(self, day: date, hour: int) -> datetime:
        minute = self.rng.randrange(60)
        return datetime.combine(day, time(hour, minute), LOCAL_ZONE).astimezone(UTC)


def _pick(rng: random.Random, weighted: tuple[tuple[T, int], ...]) -> T:
    values = [v for v, _ in weighted]
    return rng.choices(values, [w for _, w in weighted])[0]


def _places(org: Organisation) -> list[Place]:
    """Every open unit with an office, open counters and handlers, in a stable order."""
    handlers: dict[str, list[str]] = {}
    for account in sorted(org.staff.values(), key=lambda a: a.username):
        if account.role == "handler" and account.active:
            handlers.setdefault(account.unit_id, []).append(account.username)
    places: list[Place] = []
    for office in sorted(org.offices.values(), key=lambda o: o.id):
        unit = org.units[office.unit_id]
        counters = sorted(
            c.id for c in org.counters.values() if c.office_id == office.id and not c.closed
        )
        if unit.closed or office.closed or not counters or unit.id not in handlers:
            continue
        places.append(Place(unit.id, office.id, counters, handlers[unit.id]))
    if len(places) < 2:
        raise ValueError("the demo district needs at least two units with counters and handlers")
    return places
