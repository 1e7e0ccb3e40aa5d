"""Read side of the figures: totals over a period and a set of units (a subtree, rolled up
when read), trends, SIPAS components, and the open overdue cases with the same predicate
for the figure and for its list, so "12 overdue" always lists 12 cases.

Handling times in working days are percentiles (``percentile_cont``: the median and the
90th percentile, interpolated) over the ``figures_resolution`` rows of the units and
period, computed in SQL at read time: never averages of averages, and the sample is the
*resolved* figure of the same units and period."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Literal

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from projections.case_views_bulk import HISTORY_COLUMNS
from projections.figures import MEASURES, Resolution
from projections.queries import CLOSED_STATUSES, QueueRow

# Open, past its due date and not answered yet, unless the clock stopped (waiting for the
# citizen) before the due date: the queue's overdue filter (projections.queries), verbatim.
OVERDUE_WHERE = sql.SQL(
    "unit_id = ANY(%(units)s) AND status NOT IN ({closed}) AND due_on < %(today)s "
    "AND status NOT IN ('answered', 'resolved') "
    "AND (waiting_since IS NULL OR waiting_since >= due_on)"
).format(closed=sql.SQL(", ").join(sql.Literal(s) for s in CLOSED_STATUSES))
MAX_OVERDUE_ROWS = 5000  # a list longer than this is cut (and says so); the count is exact
# Open and held by somebody: the queue's open statuses, not yet confirmed resolved.
HELD_OPEN_WHERE = sql.SQL(
    "unit_id = ANY(%(units)s) AND assignee IS NOT NULL AND status NOT IN ({closed}) "
    "AND status <> 'resolved'"
).format(closed=sql.SQL(", ").join(sql.Literal(s) for s in CLOSED_STATUSES))
ResolutionGroup = Literal["channel", "officer", "counter_id", "unit_id"]
_RESOLUTION_GROUPS = ("channel", "officer", "counter_id", "unit_id")


@dataclass(frozen=True)
class Totals:
    received: int = 0
    accepted: int = 0
    refused: int = 0
    resolved: int = 0
    on_time: int = 0
    early: int = 0
    late: int = 0
    reopened: int = 0
    ratings: int = 0
    satisfied: int = 0
    score_sum: int = 0
    harassment: int = 0
    second_trip: int = 0
    confirmed: int = 0  # the citizen answered "Đã giải quyết"

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def on_time_share(self) -> float | None:
        return self.share(self.on_time, self.resolved)

    @property
    def early_share(self) -> float | None:
        return self.share(self.early, self.resolved)

    @property
    def satisfied_share(self) -> float | None:
        return self.share(self.satisfied, self.ratings)

    @property
    def confirmed_share(self) -> float | None:
        """Citizens confirming resolution, per resolution in the same period."""
        return self.share(self.confirmed, self.resolved)

    @property
    def reopen_rate(self) -> float | None:
        return self.share(self.reopened, self.resolved)

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class ComponentFigure:
    component: str
    ratings: int
    score_sum: int

    @property
    def mean(self) -> float | None:
        return self.score_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class DayFigure:
    day: date
    received: int
    resolved: int


@dataclass(frozen=True)
class ResolutionFigures:
    """Resolutions of a group of cases, their timeliness and handling time in working days
    (median and 90th percentile; None without resolutions)."""

    resolved: int = 0
    on_time: int = 0
    early: int = 0
    late: int = 0
    median_days: float | None = None
    p90_days: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None


@dataclass(frozen=True)
class HeldOpen:
    """Cases an officer holds now: open, and of those overdue (the overdue list's predicate)."""

    open: int = 0
    overdue: int = 0


@dataclass
class TotalsBreakdown:
    """The daily figures of a set of units over a period, by unit, counter and channel."""

    by_unit: dict[str, Totals] = field(default_factory=dict)
    by_counter: dict[str, Totals] = field(default_factory=dict)
    by_channel: dict[str, Totals] = field(default_factory=dict)


@dataclass
class OpenBreakdown:
    """The open cases of a set of units now: overdue in all, per group of units and per
    channel; per holder what they hold and how much of it is overdue."""

    overdue: int = 0
    by_group: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    held: dict[str, HeldOpen] = field(default_factory=dict)


@dataclass
class ResolutionBreakdown:
    """Handling times over a set of units, per group of units, channel and officer."""

    overall: ResolutionFigures = ResolutionFigures()
    by_group: dict[str, ResolutionFigures] = field(default_factory=dict)
    by_channel: dict[str, ResolutionFigures] = field(default_factory=dict)
    by_officer: dict[str, ResolutionFigures] = field(default_factory=dict)


assert tuple(f.name for f in fields(Totals)) == MEASURES  # one list of measures
_RESOLUTION_COLUMNS = tuple(f.name for f in fields(Resolution))
_RESOLUTION_STATS = sql.SQL(
    "count(*)::int, sum((answered_on <= due_on)::int)::int, "
    "sum((answered_on < due_on)::int)::int, sum((answered_on > due_on)::int)::int, "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days), "
    "percentile_cont(0.9) WITHIN GROUP (ORDER BY working_days)"
)


class FigureQueries:
    def __init__(self, pool: ConnectionPool[Any], schema: str = "views") -> None:
        self.pool = pool
        self.schema = schema

    def _t(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _fetch(
        self, query: sql.Composable, params: dict[str, Any], table: str = "figures_daily"
    ) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".{table}',)
            ).fetchone()
            if exists is None or exists[0] is None:
                return []  # the projection has not run yet
            return conn.execute(query, params).fetchall()

    # Whole months of a period from the monthly roll-ups (``figures_monthly``,
    # ``figures_component_monthly``, ``figures_handling``), the rest from the daily rows.
    reads_monthly = True

    def _daily_rows(self, start: date, end: date) -> tuple[sql.Composable, dict[str, Any]]:
        """The daily figures of ``%(units)s`` over ``start``..``end`` (inclusive) as a
        relation of (unit_id, counter_id, channel, measures…) rows to be summed, and its
        parameters (``_period_rows``)."""
        return self._period_rows(
            "figures_daily", "figures_monthly", ("unit_id", "counter_id", "channel", *MEASURES),
            start, end,
        )

    def _period_rows(
        self, daily: str, monthly: str, names: tuple[str, ...], start: date, end: date
    ) -> tuple[sql.Composable, dict[str, Any]]:
        """The rows of the table ``daily`` of ``%(units)s`` over ``start``..``end``
        (inclusive), their columns ``names``, as a relation to be summed, and its parameters:
        the whole months from the table ``monthly`` (a row per month instead of one per day
        and recorded day), the days before the first and after the last from ``daily``, each
        part a range of the primary key. As of a day, only ``daily`` (``reads_monthly``)."""
        columns = sql.SQL(", ").join(map(sql.Identifier, names))
        params: dict[str, Any] = {"start": start, "end": end}
        if not self.reads_monthly:
            return sql.SQL(
                "(SELECT {columns} FROM {daily} WHERE unit_id = ANY(%(units)s) "
                "AND day BETWEEN %(start)s AND %(end)s)"
            ).format(columns=columns, daily=self._t(daily)), params
        params["months_from"], params["months_until"] = whole_months(start, end)
        return sql.SQL(
            "(SELECT {columns} FROM {monthly} WHERE unit_id = ANY(%(units)s) "
            " AND month >= %(months_from)s AND month < %(months_until)s "
            " UNION ALL SELECT {columns} FROM {daily} WHERE unit_id = ANY(%(units)s) "
            " AND day >= %(start)s AND day < %(months_from)s AND day <= %(end)s "
            " UNION ALL SELECT {columns} FROM {daily} WHERE unit_id = ANY(%(units)s) "
            " AND day >= %(months_until)s AND day <= %(end)s)"
        ).format(columns=columns, monthly=self._t(monthly), daily=self._t(daily)), params

    def _daily_table(self) -> str:
        """The table ``_daily_rows`` needs (an upgraded server may read before the figures
        projection made it: no figures yet, rather than an error)."""
        return "figures_monthly" if self.reads_monthly else "figures_daily"

    def _totals_by(
        self, column: str, units: list[str], start: date, end: date
    ) -> dict[str, Totals]:
        """Totals of the daily figures of ``units`` over ``start``..``end`` (inclusive),
        grouped by ``column`` (unit_id, counter_id or channel)."""
        rows_of, params = self._daily_rows(start, end)
        query = sql.SQL("SELECT {column}, {sums} FROM {rows} d GROUP BY {column}").format(
            column=sql.Identifier(column),
            sums=sql.SQL(", ").join(
                sql.SQL("sum({})::int").format(sql.Identifier(m)) for m in MEASURES
            ),
            rows=rows_of,
        )
        rows = self._fetch(query, {"units": units, **params}, self._daily_table())
        return {row[0]: Totals(*row[1:]) for row in rows}

    def by_unit(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        """Totals per unit over the local days ``start``..``end`` (inclusive)."""
        return self._totals_by("unit_id", units, start, end)

    def by_counter(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        return self._totals_by("counter_id", units, start, end)

    def totals(self, units: list[str], start: date, end: date) -> Totals:
        total = Totals()
        for unit_totals in self.by_unit(units, start, end).values():
            total += unit_totals
        return total

    def components(self, units: list[str], start: date, end: date) -> list[ComponentFigure]:
        rows_of, params = self._period_rows(
            "figures_component", "figures_component_monthly",
            ("unit_id", "component", "ratings", "score_sum"), start, end,
        )
        query = sql.SQL(
            "SELECT component, sum(ratings)::int, sum(score_sum)::int FROM {rows} c "
            "GROUP BY component ORDER BY component"
        ).format(rows=rows_of)
        table = "figures_component_monthly" if self.reads_monthly else "figures_daily"
        rows = self._fetch(query, {"units": units, **params}, table)
        return [ComponentFigure(*row) for row in rows]

    def trend(self, units: list[str], start: date, end: date) -> list[DayFigure]:
        """Received and resolved per day, every day of the period (zeros included: days
        without a row are filled in here, cheaper than joining a generated series)."""
        query = sql.SQL(
            "SELECT day, sum(received)::int, sum(resolved)::int FROM {t} "
            "WHERE unit_id = ANY(%(units)s) AND day BETWEEN %(start)s AND %(end)s "
            "GROUP BY day"
        ).format(t=self._t("figures_daily"))
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        found = {day: (received, resolved) for day, received, resolved in rows}
        days = (start + timedelta(days=n) for n in range((end - start).days + 1))
        return [DayFigure(day, *found.get(day, (0, 0))) for day in days]

    # --- open overdue cases: figure and list, one predicate -----------------------------

    def overdue_count(self, units: list[str], today: date) -> int:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            self._t("case_queue"), OVERDUE_WHERE
        )
        with self.pool.connection() as conn:
            found = conn.execute(query, {"units": units, "today": today}).fetchone()
        return int(found[0]) if found else 0

    def overdue_list(
        self, units: list[str], today: date, limit: int = MAX_OVERDUE_ROWS
    ) -> list[QueueRow]:
        """The most overdue first."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE {} ORDER BY due_on, received_at, case_id LIMIT %(limit)s"
        ).format(self._t("case_queue"), OVERDUE_WHERE)
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, {"units": units, "today": today, "limit": limit}).fetchall()

    # --- resolutions: timeliness and handling time in working days ------------------------

    def _resolution_table_exists(self) -> bool:
        with self.pool.connection() as conn:
            found = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".figures_resolution',)
            ).fetchone()
        return found is not None and found[0] is not None

    def handling_time(self, units: list[str], start: date, end: date) -> ResolutionFigures:
        """Resolutions over the units (a subtree) and local days ``start``..``end``."""
        return self.handling_time_rolled({"": units}, start, end).get("", ResolutionFigures())

    def handling_time_by(
        self, units: list[str], start: date, end: date, by: ResolutionGroup
    ) -> dict[str, ResolutionFigures]:
        """Resolutions grouped by channel, officer, counter or unit (not rolled up)."""
        if by not in _RESOLUTION_GROUPS or not self._resolution_table_exists():
            return {}
        query = sql.SQL(
            "SELECT {by}, {stats} FROM {t} WHERE unit_id = ANY(%(units)s) "
            "AND day BETWEEN %(start)s AND %(end)s GROUP BY {by}"
        ).format(by=sql.Identifier(by), stats=_RESOLUTION_STATS,
                 t=self._t("figures_resolution"))
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return {row[0]: ResolutionFigures(*row[1:]) for row in rows}

    def handling_time_rolled(
        self, groups: dict[str, list[str]], start: date, end: date
    ) -> dict[str, ResolutionFigures]:
        """Per group of units (e.g. each child with its subtree), percentiles over the
        group's rows in one statement."""
        pairs = [(u, g) for g, units in groups.items() for u in units]
        if not pairs or not self._resolution_table_exists():
            return {}
        query = sql.SQL(
            "SELECT g.grp, {stats} FROM {t} r "
            "JOIN unnest(%(units)s::text[], %(groups)s::text[]) AS g(unit_id, grp) "
            "ON g.unit_id = r.unit_id "
            "WHERE r.day BETWEEN %(start)s AND %(end)s GROUP BY g.grp"
        ).format(stats=_RESOLUTION_STATS, t=self._t("figures_resolution"))
        rows = self._fetch(query, {"units": [u for u, _ in pairs],
                                   "groups": [g for _, g in pairs],
                                   "start": start, "end": end})
        return {row[0]: ResolutionFigures(*row[1:]) for row in rows}

    def resolutions(
        self, units: list[str], start: date, end: date, officer: str | None = None
    ) -> list[Resolution]:
        """The resolutions behind the figures, longest handling first."""
        if not self._resolution_table_exists():
            return []
        where: sql.Composable = sql.SQL(
            "unit_id = ANY(%(units)s) AND day BETWEEN %(start)s AND %(end)s"
        )
        if officer is not None:
            where = sql.SQL("{} AND officer = %(officer)s").format(where)
        query = sql.SQL(
            "SELECT {columns} FROM {t} WHERE {where} "
            "ORDER BY working_days DESC, day, case_id, version LIMIT %(limit)s"
        ).format(columns=sql.SQL(", ").join(map(sql.Identifier, _RESOLUTION_COLUMNS)),
                 t=self._t("figures_resolution"), where=where)
        rows = self._fetch(query, {"units": units, "start": start, "end": end,
                                   "officer": officer, "limit": MAX_OVERDUE_ROWS})
        return [Resolution(*row) for row in rows]

    # --- by channel --------------------------------------------------------------------

    def by_channel(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        """Totals per intake channel (qr, kiosk, paper, zalo, hotline, open311)."""
        return self._totals_by("channel", units, start, end)

    def overdue_by(
        self, units: list[str], today: date, by: Literal["channel", "assignee"]
    ) -> dict[str, int]:
        """The overdue figure split by channel or by holder: the overdue list's predicate."""
        if by not in ("channel", "assignee"):
            return {}
        query = sql.SQL(
            "SELECT coalesce({by}, ''), count(*)::int FROM {t} WHERE {w} GROUP BY 1"
        ).format(by=sql.Identifier(by), t=self._t("case_queue"), w=OVERDUE_WHERE)
        with self.pool.connection() as conn:
            rows = conn.execute(query, {"units": units, "today": today}).fetchall()
        return {row[0]: row[1] for row in rows}

    def held_open(self, units: list[str], today: date) -> dict[str, HeldOpen]:
        """Per officer: cases they hold now, and how many of those are overdue."""
        query = sql.SQL(
            "SELECT assignee, count(*)::int, count(*) FILTER (WHERE {overdue})::int "
            "FROM {t} WHERE {held} GROUP BY assignee"
        ).format(overdue=OVERDUE_WHERE, t=self._t("case_queue"), held=HELD_OPEN_WHERE)
        with self.pool.connection() as conn:
            rows = conn.execute(query, {"units": units, "today": today}).fetchall()
        return {row[0]: HeldOpen(row[1], row[2]) for row in rows}

    def overdue_list_held_by(
        self, units: list[str], today: date, holder: str, limit: int = MAX_OVERDUE_ROWS
    ) -> list[QueueRow]:
        """The overdue list of one holder, most overdue first (same predicate)."""
        query = sql.SQL(
            "SELECT * FROM {} WHERE {} AND assignee = %(holder)s "
            "ORDER BY due_on, received_at, case_id LIMIT %(limit)s"
        ).format(self._t("case_queue"), OVERDUE_WHERE)
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(
                query, {"units": units, "today": today, "holder": holder, "limit": limit}
            ).fetchall()

    # --- the dashboard's reads folded: one scan per table -----------------------------

    def totals_breakdown(self, units: list[str], start: date, end: date) -> TotalsBreakdown:
        """``by_unit``, ``by_counter`` and ``by_channel`` from one read of the daily figures
        (``_daily_rows``: whole months from ``figures_monthly``): the rows summed per (unit,
        counter, channel) first, then those few hundred sums grouped three ways (GROUPING
        SETS straight over the days aggregate every day once per set; adding them up in
        Python costs more still)."""
        measures = [sql.Identifier(m) for m in MEASURES]
        rows_of, params = self._daily_rows(start, end)
        query = sql.SQL(
            "WITH per_place AS (SELECT unit_id, counter_id, channel, {inner} FROM {rows} d "
            "  GROUP BY unit_id, counter_id, channel) "
            "SELECT GROUPING(unit_id, counter_id, channel), unit_id, counter_id, channel, "
            "{outer} FROM per_place "
            "GROUP BY GROUPING SETS ((unit_id), (counter_id), (channel))"
        ).format(
            inner=sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(m) for m in measures),
            outer=sql.SQL(", ").join(sql.SQL("sum({})::int").format(m) for m in measures),
            rows=rows_of,
        )
        found = TotalsBreakdown()
        # GROUPING(...) has a bit set for each column *not* grouped by (unit_id the highest).
        into = {0b011: (found.by_unit, 1), 0b101: (found.by_counter, 2),
                0b110: (found.by_channel, 3)}
        for row in self._fetch(query, {"units": units, **params}, self._daily_table()):
            table, key = into[row[0]]
            table[row[key]] = Totals(*row[4:])
        return found

    def open_breakdown(
        self, units: list[str], groups: dict[str, list[str]], today: date
    ) -> OpenBreakdown:
        """The open cases of ``units`` in one scan of ``case_queue``: the overdue figure in
        all, per group of units (e.g. each child unit with its subtree: disjoint groups),
        per channel, and per holder what they hold and how much of it is overdue. The
        predicates are ``OVERDUE_WHERE`` and ``HELD_OPEN_WHERE`` verbatim, so each count
        equals ``overdue_count``/``overdue_by``/``held_open`` and the drill-down lists.
        Both leave out resolved cases, and so does the scan: most rows are resolved ones
        (the predicate is ``case_queue_unresolved_by_unit``'s, verbatim)."""
        members = [(u, g) for g, group in groups.items() for u in group]
        query = sql.SQL(
            "SELECT GROUPING(m.grp, q.channel, q.assignee), m.grp, q.channel, q.assignee, "
            "count(*) FILTER (WHERE q.overdue)::int, "
            "count(*) FILTER (WHERE q.held)::int, "
            "count(*) FILTER (WHERE q.held AND q.overdue)::int "
            "FROM (SELECT unit_id, channel, assignee, {overdue} AS overdue, {held} AS held "
            "      FROM {t} WHERE unit_id = ANY(%(units)s) "
            "      AND status NOT IN ({closed}, 'resolved')) q "
            "LEFT JOIN unnest(%(members)s::text[], %(groups)s::text[]) AS m(member, grp) "
            "ON m.member = q.unit_id "
            "GROUP BY GROUPING SETS ((), (m.grp), (q.channel), (q.assignee))"
        ).format(
            overdue=OVERDUE_WHERE, held=HELD_OPEN_WHERE, t=self._t("case_queue"),
            closed=sql.SQL(", ").join(sql.Literal(s) for s in CLOSED_STATUSES),
        )
        params = {"units": units, "today": today, "members": [u for u, _ in members],
                  "groups": [g for _, g in members]}
        found = OpenBreakdown(by_group={g: 0 for g in groups})
        with self.pool.connection() as conn:
            rows = conn.execute(query, params).fetchall()
        for grouping, group, channel, assignee, overdue, held, held_overdue in rows:
            if grouping == 0b111:
                found.overdue = overdue
            elif grouping == 0b011 and group is not None:
                found.by_group[group] = overdue
            elif grouping == 0b101 and overdue:
                found.by_channel[channel] = overdue
            elif grouping == 0b110 and assignee is not None and held:
                found.held[assignee] = HeldOpen(held, held_overdue)
        return found

    def resolution_breakdown(
        self, units: list[str], groups: dict[str, list[str]], start: date, end: date
    ) -> ResolutionBreakdown:
        """Handling times over all ``units``, per group of units (``handling_time_rolled``),
        per channel and per officer (``handling_time_by``), the same figures over the same
        resolutions. Working days are whole numbers, so each grouping reads a histogram
        (resolutions per number of days) and the percentiles are interpolated from it here
        exactly as ``percentile_cont`` does. The whole months of the period are read from
        ``figures_handling`` (resolutions already counted per month and number of days: a
        few thousand rows for a year instead of every resolution), the days before the
        first and after the last whole month from ``figures_resolution``."""
        if not units or not self._resolution_table_exists():
            return ResolutionBreakdown()
        members = [(u, g) for g, group in groups.items() for u in group]
        months_from, months_until = whole_months(start, end)
        if not self.reads_monthly:  # as of a day: every resolution row, none from the months
            months_from = months_until = start
        query = sql.SQL(
            "WITH r AS ("
            "  SELECT unit_id, channel, officer, working_days, resolved, on_time, early, late "
            "  FROM {hist} WHERE unit_id = ANY(%(units)s) "
            "  AND month >= %(months_from)s AND month < %(months_until)s "
            "  UNION ALL "
            "  SELECT unit_id, channel, officer, working_days, 1, "
            "  (answered_on <= due_on)::int, (answered_on < due_on)::int, "
            "  (answered_on > due_on)::int FROM {raw} WHERE unit_id = ANY(%(units)s) "
            "  AND day BETWEEN %(start)s AND %(end)s "
            "  AND NOT (day >= %(months_from)s AND day < %(months_until)s)) "
            "SELECT GROUPING(m.grp, r.channel, r.officer), m.grp, r.channel, r.officer, "
            "r.working_days, sum(r.resolved)::int, sum(r.on_time)::int, sum(r.early)::int, "
            "sum(r.late)::int FROM r "
            "LEFT JOIN unnest(%(members)s::text[], %(groups)s::text[]) AS m(member, grp) "
            "ON m.member = r.unit_id "
            "GROUP BY GROUPING SETS ((r.working_days), (m.grp, r.working_days), "
            "(r.channel, r.working_days), (r.officer, r.working_days))"
        ).format(hist=self._t("figures_handling"), raw=self._t("figures_resolution"))
        params = {"units": units, "members": [u for u, _ in members],
                  "groups": [g for _, g in members], "start": start, "end": end,
                  "months_from": months_from, "months_until": months_until}
        histograms: dict[tuple[int, Any], list[tuple[int, int, int, int, int]]] = {}
        for grouping, group, channel, officer, days, *counts in self._fetch(query, params):
            key = {0b111: None, 0b011: group, 0b101: channel, 0b110: officer}[grouping]
            if grouping == 0b011 and group is None:
                continue  # the subtree's own unit, in no child's group
            histograms.setdefault((grouping, key), []).append((days, *counts))
        found = ResolutionBreakdown()
        for (grouping, key), bins in histograms.items():
            figures = _from_histogram(sorted(bins))
            if grouping == 0b111:
                found.overall = figures
            else:
                into = {0b011: found.by_group, 0b101: found.by_channel,
                        0b110: found.by_officer}[grouping]
                into[key] = figures
        return found

    def overdue_page(
        self, units: list[str], today: date, offset: int, limit: int,
        holder: str | None = None,
    ) -> list[QueueRow]:
        """One page of the overdue list (of one holder when given): the list's order, with
        ``case_id`` last so pages never overlap; the figure counts all pages."""
        where: sql.Composable = OVERDUE_WHERE
        if holder is not None:
            where = sql.SQL("{} AND assignee = %(holder)s").format(OVERDUE_WHERE)
        query = sql.SQL(
            "SELECT * FROM {} WHERE {} ORDER BY due_on, received_at, case_id "
            "OFFSET %(offset)s LIMIT %(limit)s"
        ).format(self._t("case_queue"), where)
        params = {"units": units, "today": today, "holder": holder,
                  "offset": offset, "limit": limit}
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(QueueRow)) as cur:
            return cur.execute(query, params).fetchall()


# The figures tables whose rows carry ``recorded_on`` (``figures_case`` is never read here;
# the monthly roll-ups, ``figures_monthly`` and ``figures_handling``, are read live only).
RECORDED_TABLES = ("figures_daily", "figures_component", "figures_resolution")
_QUEUE_KEPT = tuple(f.name for f in fields(QueueRow) if f.name not in HISTORY_COLUMNS)


class FigureQueriesAsOf(FigureQueries):
    """Every ``FigureQueries`` figure as it stood at the end of the local day ``day``, read
    from the live tables (no replay): each figures table is the rows recorded by then
    (``recorded_on <= day``), the queue is each case's version valid on that day
    (``case_queue_daily``: ``recorded_on <= day < valid_until``) joined to ``case_queue``
    for the columns a case keeps, and "today" is never later than ``day`` (what was overdue
    then). Every table name the queries read goes through ``_t``, so each query is the
    live one over these relations (subqueries without an alias: PostgreSQL 16 or later).
    ``projections.as_of.compare_as_of`` proves it against a replay of the log's prefix."""

    # The monthly roll-ups sum every recorded day: as of a day, the daily rows are read.
    reads_monthly = False

    def __init__(self, pool: ConnectionPool[Any], day: date, schema: str = "views") -> None:
        super().__init__(pool, schema)
        self.day = day

    def _t(self, name: str) -> sql.Composed:
        live = super()._t(name)
        cut = sql.Literal(self.day)
        if name in RECORDED_TABLES:
            return sql.SQL("(SELECT * FROM {} WHERE recorded_on <= {})").format(live, cut)
        if name == "case_queue":
            columns = [sql.SQL("h.{}").format(sql.Identifier(c)) for c in HISTORY_COLUMNS]
            columns += [sql.SQL("q.{}").format(sql.Identifier(c)) for c in _QUEUE_KEPT]
            # The range expression is the GiST index's (views.case_queue_daily_open), verbatim.
            return sql.SQL(
                "(SELECT {columns} FROM {history} h JOIN {queue} q ON q.case_id = h.case_id "
                "WHERE daterange(h.recorded_on, h.valid_until, '[)') @> {cut})"
            ).format(columns=sql.SQL(", ").join(columns), history=super()._t("case_queue_daily"),
                     queue=live, cut=cut)
        return live

    def _then(self, today: date) -> date:
        return min(today, self.day)

    def overdue_count(self, units: list[str], today: date) -> int:
        return super().overdue_count(units, self._then(today))

    def overdue_list(
        self, units: list[str], today: date, limit: int = MAX_OVERDUE_ROWS
    ) -> list[QueueRow]:
        return super().overdue_list(units, self._then(today), limit)

    def overdue_by(
        self, units: list[str], today: date, by: Literal["channel", "assignee"]
    ) -> dict[str, int]:
        return super().overdue_by(units, self._then(today), by)

    def held_open(self, units: list[str], today: date) -> dict[str, HeldOpen]:
        return super().held_open(units, self._then(today))

    def overdue_list_held_by(
        self, units: list[str], today: date, holder: str, limit: int = MAX_OVERDUE_ROWS
    ) -> list[QueueRow]:
        return super().overdue_list_held_by(units, self._then(today), holder, limit)

    def open_breakdown(
        self, units: list[str], groups: dict[str, list[str]], today: date
    ) -> OpenBreakdown:
        return super().open_breakdown(units, groups, self._then(today))

    def overdue_page(
        self, units: list[str], today: date, offset: int, limit: int,
        holder: str | None = None,
    ) -> list[QueueRow]:
        return super().overdue_page(units, self._then(today), offset, limit, holder)


def whole_months(start: date, end: date) -> tuple[date, date]:
    """The first days of the first whole month in ``start``..``end`` and of the month after
    the last one (an empty range, ``from == until``, when no month is whole)."""
    first = start if start.day == 1 else _next_month(start)
    after_end = end + timedelta(days=1)
    until = after_end if after_end.day == 1 else after_end.replace(day=1)
    return (first, until) if first < until else (first, first)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _from_histogram(bins: list[tuple[int, int, int, int, int]]) -> ResolutionFigures:
    """Figures from (working days, resolutions, on time, early, late) sorted by days: the
    median and 90th percentile as ``percentile_cont`` computes them (PostgreSQL's
    orderedsetaggs.c: rows ``floor``/``ceil`` of p·(n−1), ``lo + p' · (hi − lo)``)."""
    total = sum(b[1] for b in bins)

    def nth(row: int) -> int:  # the value of the 0-based ``row`` in sorted order
        seen = 0
        for days, count, *_ in bins:
            seen += count
            if row < seen:
                return days
        raise IndexError(row)

    def percentile(p: float) -> float:
        position = p * (total - 1)
        first = math.floor(position)
        low, high = float(nth(first)), float(nth(math.ceil(position)))
        return low + (position - first) * (high - low)

    return ResolutionFigures(
        total, sum(b[2] for b in bins), sum(b[3] for b in bins), sum(b[4] for b in bins),
        percentile(0.5), percentile(0.9),
    )
