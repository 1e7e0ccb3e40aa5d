"""The calendar application: the days off and make-up working days decreed each year.

Each year the government decrees extra days off (e.g. around Tết) and make-up working
Saturdays; an admin enters them here as events, one ``CalendarYear`` aggregate per year
(id: uuid5 of the project namespace and the year). The latest decree for a day wins; a
decree can be withdrawn. ``CalendarApplication.calendar()`` folds the events into the pure
``BusinessCalendar`` of the legal clock, so every due date is recomputable from the events.

Also here: ``load_deadline_rules``, which reads an operator's rule file (the one piece of
environment-dependent I/O of the legal clock, kept out of the pure ``legal_clock`` module).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from eventsourcing.utils import get_topic

from feedback_core.application import DateAsISO
from feedback_core.identity import NAMESPACE
from feedback_core.legal_clock import (
    DEFAULT_RULES,
    BusinessCalendar,
    DeadlineRule,
    RuleConfigError,
    calendar_from,
    rules_from_config,
)
from feedback_core.store import Database, open_application

T = TypeVar("T")


class CalendarError(ValueError):
    """A decree the calendar refuses; the message says why."""


class DecreeKind(StrEnum):
    DAY_OFF = "day_off"
    WORKING_DAY = "working_day"


@dataclass(frozen=True)
class Decree:
    day: date
    kind: DecreeKind
    reason: str
    actor: str
    decreed_at: datetime


def calendar_year_id(year: int) -> UUID:
    return uuid5(NAMESPACE, f"calendar:{year}")


class CalendarYear(Aggregate):
    """The decrees of one year: at most one in force per day, the latest."""

    class Opened(Aggregate.Created):
        year: int

    class Decreed(Aggregate.Event):
        day: date
        reason: str
        actor: str

    class DayOffDecreed(Decreed):
        def apply(self, cal: Any) -> None:
            cal.decrees[self.day] = Decree(
                self.day, DecreeKind.DAY_OFF, self.reason, self.actor, self.timestamp
            )

    class WorkingDayDecreed(Decreed):
        def apply(self, cal: Any) -> None:
            cal.decrees[self.day] = Decree(
                self.day, DecreeKind.WORKING_DAY, self.reason, self.actor, self.timestamp
            )

    class DecreeWithdrawn(Decreed):
        def apply(self, cal: Any) -> None:
            cal.decrees.pop(self.day, None)

    @staticmethod
    def create_id(year: int) -> UUID:
        return calendar_year_id(year)

    @event(Opened)
    def __init__(self, year: int) -> None:
        self.year = year
        self.decrees: dict[date, Decree] = {}

    def decree(self, kind: DecreeKind, day: date, reason: str, actor: str) -> bool:
        """Decree ``day`` a day off or a working day; False when that decree, with that
        reason, is already in force (nothing recorded)."""
        reason = self._check(day, reason, actor)
        current = self.decrees.get(day)
        if current is not None and current.kind is kind and current.reason == reason:
            return False
        event_class = (
            CalendarYear.DayOffDecreed if kind is DecreeKind.DAY_OFF
            else CalendarYear.WorkingDayDecreed
        )
        self.trigger_event(event_class, day=day, reason=reason, actor=actor)
        return True

    def withdraw(self, day: date, reason: str, actor: str) -> Decree:
        """Withdraw the decree in force for ``day``; returns it."""
        reason = self._check(day, reason, actor)
        current = self.decrees.get(day)
        if current is None:
            raise CalendarError(f"no decree for {day} to withdraw")
        self.trigger_event(CalendarYear.DecreeWithdrawn, day=day, reason=reason, actor=actor)
        return current

    def _check(self, day: date, reason: str, actor: str) -> str:
        if day.year != self.year:
            raise CalendarError(f"{day} is not in {self.year}")
        if not reason.strip():
            raise CalendarError(f"give the reason for {day} (e.g. the decision that decrees it)")
        if not actor.strip():
            raise CalendarError("say who enters the decree")
        return reason.strip()


class CalendarApplication(Application[UUID]):
    """Decrees days off and make-up working days; builds the business calendar."""

    name = "calendar"
    ATTEMPTS = 3  # two admins deciding on the same year at once: reload and decide again

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._cached: dict[tuple[int, ...] | None, tuple[int, BusinessCalendar]] = {}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- commands ------------------------------------------------------------------------

    def decree_day_off(self, day: date, reason: str, actor: str) -> bool:
        """Record a decreed day off; False when already in force with the same reason."""
        return self._decide(day, lambda y: y.decree(DecreeKind.DAY_OFF, day, reason, actor))

    def decree_working_day(self, day: date, reason: str, actor: str) -> bool:
        """Record a make-up working day; False when already in force with the same reason."""
        return self._decide(
            day, lambda y: y.decree(DecreeKind.WORKING_DAY, day, reason, actor)
        )

    def withdraw(self, day: date, reason: str, actor: str) -> Decree:
        """Withdraw the decree in force for ``day`` (raises CalendarError if none)."""
        return self._decide(day, lambda y: y.withdraw(day, reason, actor))

    def _decide(self, day: date, command: Callable[[CalendarYear], T]) -> T:
        attempt = 1
        while True:
            year = self._year(day.year)
            result = command(year)
            if not year.pending_events:
                return result
            try:
                self.save(year)
            except IntegrityError:
                if attempt == self.ATTEMPTS:
                    raise
                attempt += 1
            else:
                return result

    def _year(self, year: int) -> CalendarYear:
        try:
            found: CalendarYear = self.repository.get(calendar_year_id(year))
        except AggregateNotFoundError:
            return CalendarYear(year)
        return found

    # --- queries -------------------------------------------------------------------------

    def decrees(self, year: int) -> list[Decree]:
        """The decrees in force in ``year``, by date."""
        try:
            cal: CalendarYear = self.repository.get(calendar_year_id(year))
        except AggregateNotFoundError:
            return []
        return sorted(cal.decrees.values(), key=lambda d: d.day)

    def years(self) -> list[int]:
        """The years that have (or had) decrees, from the notification log."""
        topic = get_topic(CalendarYear.Opened)
        ids: list[UUID] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            ids += [n.originator_id for n in page]  # type: ignore[misc]
            if len(page) < 500:
                break
            start = page[-1].id + 1
        return sorted(self.repository.get(i).year for i in ids)

    def calendar(self, years: Iterable[int] | None = None) -> BusinessCalendar:
        """The business calendar with the decrees of ``years`` (all years when None).

        Cheap to call before every computation: the calendar is rebuilt only when the
        notification log has moved since the last call.
        """
        key = None if years is None else tuple(sorted(set(years)))
        position = self.recorder.max_notification_id() or 0
        cached = self._cached.get(key)
        if cached is not None and cached[0] == position:
            return cached[1]
        decrees = [d for y in (self.years() if key is None else key) for d in self.decrees(y)]
        calendar = calendar_from(
            days_off=[d.day for d in decrees if d.kind is DecreeKind.DAY_OFF],
            make_up_days=[d.day for d in decrees if d.kind is DecreeKind.WORKING_DAY],
            reasons={d.day: d.reason for d in decrees},
        )
        self._cached[key] = (position, calendar)
        return calendar


def open_calendar_application(db: Database) -> CalendarApplication:
    """Construct the application on PostgreSQL (table ``calendar_events``); like
    ``open_cases_application``, processes starting together take turns to create tables."""
    return open_application(
        db, lambda env: CalendarApplication(env={**env, "POSTGRES_POOL_SIZE": "2"})
    )


def load_deadline_rules(override_file: Path | str | None = None) -> dict[str, DeadlineRule]:
    """The packaged rules, overridden and extended by code from ``override_file`` (the
    setting FEEDBACK_DEADLINE_RULES_FILE). Rules cannot be removed: cases refer to them."""
    rules = dict(DEFAULT_RULES)
    if not override_file:
        return rules
    path = Path(override_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RuleConfigError(f"cannot read the deadline rules file {path}: {e}") from e
    except json.JSONDecodeError as e:
        raise RuleConfigError(f"the deadline rules file {path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise RuleConfigError(f"the deadline rules file {path} must hold a JSON object")
    try:
        rules.update(rules_from_config(data))
    except RuleConfigError as e:
        raise RuleConfigError(f"{path}: {e}") from e
    return rules
