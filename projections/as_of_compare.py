"""Every figure of ``FigureQueries`` for one past day from two sources, compared: the live
tables cut at the day (``FigureQueriesAsOf``, what the pages read) and a replay of the log's
prefix (``FigureQueries`` over an ``asof_YYYYMMDD`` schema, the proof).

The calls cover every public method of ``FigureQueries`` (``COVERED``; a test keeps the two
lists equal) for every unit found in the data, each unit alone as a group, every holder and
officer either side knows, over the day's month, the year to the day and the whole span of
the data; "today" is the day itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from psycopg import sql

from projections.figures_queries import FigureQueries, ResolutionGroup

COVERED = frozenset({
    "by_unit", "by_counter", "totals", "components", "trend", "overdue_count", "overdue_list",
    "handling_time", "handling_time_by", "handling_time_rolled", "resolutions", "by_channel",
    "overdue_by", "held_open", "overdue_list_held_by", "totals_breakdown", "open_breakdown",
    "resolution_breakdown", "overdue_page",
})  # fmt: skip
OVERDUE_PAGE = 100


@dataclass(frozen=True)
class Difference:
    """One figure that differs: what the live tables gave as of the day, what the replay gave."""

    figure: str
    temporal: Any
    replayed: Any

    def line(self, width: int = 300) -> str:
        return (
            f"{self.figure}: live tables {_short(self.temporal, width)} "
            f"!= replay {_short(self.replayed, width)}"
        )


def _short(value: Any, width: int) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


Call = tuple[str, Callable[[FigureQueries], Any]]


def compare_as_of(
    temporal: FigureQueries, replayed: FigureQueries, day: date
) -> tuple[int, list[Difference]]:
    """(figures compared, the differences) of every call of ``calls_for`` on both sources."""
    units, first, last = data_span(temporal, replayed, day=day)
    compared, differences = 0, []
    people = _people(temporal, replayed, units, day, first, last)
    for name, call in calls_for(day, units, people, first, last):
        compared += 1
        mine, theirs = call(temporal), call(replayed)
        if mine != theirs:
            differences.append(Difference(name, mine, theirs))
    return compared, differences


def data_span(*sources: FigureQueries, day: date) -> tuple[list[str], date, date]:
    """The units, first and last business days found in the sources' tables (``day`` when
    there are none)."""
    units: set[str] = set()
    first, last = day, day
    for source in sources:
        daily, queue = _plain(source, "figures_daily"), _plain(source, "case_queue")
        for (unit,) in source._fetch(
            sql.SQL("SELECT unit_id FROM {} UNION SELECT unit_id FROM {}").format(daily, queue), {}
        ):
            units.add(unit)
        for low, high in source._fetch(
            sql.SQL("SELECT min(day), max(day) FROM {}").format(daily), {}
        ):
            first, last = min(first, low or first), max(last, high or last)
    return sorted(units), first, last


def _plain(source: FigureQueries, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(source.schema), sql.Identifier(name))


def _people(
    temporal: FigureQueries,
    replayed: FigureQueries,
    units: list[str],
    day: date,
    first: date,
    last: date,
) -> tuple[list[str], list[str]]:
    """(holders of open cases, officers of resolutions) either source knows on ``day``."""
    holders: set[str] = set()
    officers: set[str] = set()
    for source in (temporal, replayed):
        holders.update(source.held_open(units, day))
        officers.update(source.handling_time_by(units, first, last, "officer"))
    return sorted(holders), sorted(officers)


def calls_for(
    day: date, units: list[str], people: tuple[list[str], list[str]], first: date, last: date
) -> list[Call]:
    """Every figure to compare, named for the report."""
    holders, officers = people
    groups = {unit: [unit] for unit in units}
    periods = {
        "month": (day.replace(day=1), day),
        "year": (day - timedelta(days=364), day),
        "all": (first, last),
    }
    calls: list[Call] = []
    for label, (start, end) in periods.items():
        calls += _period_calls(f"{label} {start}..{end}", units, groups, officers, start, end)
    calls += [
        ("overdue_count", lambda f: f.overdue_count(units, day)),
        ("overdue_list", lambda f: f.overdue_list(units, day)),
        ("overdue_by channel", lambda f: f.overdue_by(units, day, "channel")),
        ("overdue_by assignee", lambda f: f.overdue_by(units, day, "assignee")),
        ("held_open", lambda f: f.held_open(units, day)),
        ("open_breakdown", lambda f: f.open_breakdown(units, groups, day)),
        ("overdue_page 1", lambda f: f.overdue_page(units, day, 0, OVERDUE_PAGE)),
        ("overdue_page 2", lambda f: f.overdue_page(units, day, OVERDUE_PAGE, OVERDUE_PAGE)),
    ]
    for holder in holders:
        calls += _holder_calls(units, day, holder)
    return calls


def _period_calls(
    label: str,
    units: list[str],
    groups: dict[str, list[str]],
    officers: list[str],
    start: date,
    end: date,
) -> list[Call]:
    calls: list[Call] = [
        ("by_unit", lambda f: f.by_unit(units, start, end)),
        ("by_counter", lambda f: f.by_counter(units, start, end)),
        ("by_channel", lambda f: f.by_channel(units, start, end)),
        ("totals", lambda f: f.totals(units, start, end)),
        ("components", lambda f: f.components(units, start, end)),
        ("trend", lambda f: f.trend(units, start, end)),
        ("totals_breakdown", lambda f: f.totals_breakdown(units, start, end)),
        ("handling_time", lambda f: f.handling_time(units, start, end)),
        ("handling_time_rolled", lambda f: f.handling_time_rolled(groups, start, end)),
        ("resolution_breakdown", lambda f: f.resolution_breakdown(units, groups, start, end)),
        ("resolutions", lambda f: f.resolutions(units, start, end)),
    ]
    calls += [
        _handling_by(units, start, end, by)
        for by in ("channel", "officer", "counter_id", "unit_id")
    ]
    calls += [_resolutions_of(units, start, end, officer) for officer in officers]
    return [(f"{name} [{label}]", call) for name, call in calls]


def _handling_by(units: list[str], start: date, end: date, by: ResolutionGroup) -> Call:
    return f"handling_time_by {by}", lambda f: f.handling_time_by(units, start, end, by)


def _resolutions_of(units: list[str], start: date, end: date, officer: str) -> Call:
    return f"resolutions of {officer}", lambda f: f.resolutions(units, start, end, officer)


def _holder_calls(units: list[str], day: date, holder: str) -> list[Call]:
    return [
        (f"overdue_list_held_by {holder}", lambda f: f.overdue_list_held_by(units, day, holder)),
        (
            f"overdue_page of {holder}",
            lambda f: f.overdue_page(units, day, 0, OVERDUE_PAGE, holder),
        ),
    ]
