"""Read side of the figures: totals over a period and a set of units (a subtree, rolled up
when read), trends, SIPAS components, and the open overdue cases with the same predicate
for the figure and for its list, so "12 overdue" always lists 12 cases.

Handling times in working days are percentiles (``percentile_cont``: the median and the
90th percentile, interpolated) over the ``figures_resolution`` rows of the units and
period, computed in SQL at read time: never averages of averages, and the sample is the
*resolved* figure of the same units and period."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from projections.figures import MEASURES
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


@dataclass(frozen=True)
class ResolutionRow:
    """One resolution: the drill-down list behind the handling-time figures."""

    case_id: Any
    version: int
    day: date
    unit_id: str
    counter_id: str
    channel: str
    officer: str
    answered_on: date
    due_on: date
    working_days: int


assert tuple(f.name for f in fields(Totals)) == MEASURES  # one list of measures
_RESOLUTION_COLUMNS = tuple(f.name for f in fields(ResolutionRow))
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

    def _fetch(self, query: sql.Composable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".figures_daily',)
            ).fetchone()
            if exists is None or exists[0] is None:
                return []  # the projection has not run yet
            return conn.execute(query, params).fetchall()

    def by_unit(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        """Totals per unit over the local days ``start``..``end`` (inclusive)."""
        query = sql.SQL(
            "SELECT unit_id, {sums} FROM {t} WHERE unit_id = ANY(%(units)s) "
            "AND day BETWEEN %(start)s AND %(end)s GROUP BY unit_id"
        ).format(
            sums=sql.SQL(", ").join(
                sql.SQL("sum({})::int").format(sql.Identifier(m)) for m in MEASURES
            ),
            t=self._t("figures_daily"),
        )
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return {row[0]: Totals(*row[1:]) for row in rows}

    def by_counter(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        query = sql.SQL(
            "SELECT counter_id, {sums} FROM {t} WHERE unit_id = ANY(%(units)s) "
            "AND day BETWEEN %(start)s AND %(end)s GROUP BY counter_id"
        ).format(
            sums=sql.SQL(", ").join(
                sql.SQL("sum({})::int").format(sql.Identifier(m)) for m in MEASURES
            ),
            t=self._t("figures_daily"),
        )
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return {row[0]: Totals(*row[1:]) for row in rows}

    def totals(self, units: list[str], start: date, end: date) -> Totals:
        total = Totals()
        for unit_totals in self.by_unit(units, start, end).values():
            total += unit_totals
        return total

    def components(self, units: list[str], start: date, end: date) -> list[ComponentFigure]:
        query = sql.SQL(
            "SELECT component, sum(ratings)::int, sum(score_sum)::int FROM {t} "
            "WHERE unit_id = ANY(%(units)s) AND day BETWEEN %(start)s AND %(end)s "
            "GROUP BY component ORDER BY component"
        ).format(t=self._t("figures_component"))
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return [ComponentFigure(*row) for row in rows]

    def trend(self, units: list[str], start: date, end: date) -> list[DayFigure]:
        """Received and resolved per day, every day of the period (zeros included)."""
        query = sql.SQL(
            "SELECT d::date, coalesce(sum(f.received), 0)::int, coalesce(sum(f.resolved), 0)::int "
            "FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d "
            "LEFT JOIN {t} f ON f.day = d::date AND f.unit_id = ANY(%(units)s) "
            "GROUP BY d ORDER BY d"
        ).format(t=self._t("figures_daily"))
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return [DayFigure(*row) for row in rows]

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
    ) -> list[ResolutionRow]:
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
        return [ResolutionRow(*row) for row in rows]

    # --- by channel --------------------------------------------------------------------

    def by_channel(self, units: list[str], start: date, end: date) -> dict[str, Totals]:
        """Totals per intake channel (qr, kiosk, paper, zalo, hotline, open311)."""
        query = sql.SQL(
            "SELECT channel, {sums} FROM {t} WHERE unit_id = ANY(%(units)s) "
            "AND day BETWEEN %(start)s AND %(end)s GROUP BY channel"
        ).format(
            sums=sql.SQL(", ").join(
                sql.SQL("sum({})::int").format(sql.Identifier(m)) for m in MEASURES
            ),
            t=self._t("figures_daily"),
        )
        rows = self._fetch(query, {"units": units, "start": start, "end": end})
        return {row[0]: Totals(*row[1:]) for row in rows}

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
