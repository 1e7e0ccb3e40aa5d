"""Read side of the figures: totals over a period and a set of units (a subtree, rolled up
when read), trends, SIPAS components, and the open overdue cases with the same predicate
for the figure and for its list, so "12 overdue" always lists 12 cases."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

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


assert tuple(f.name for f in fields(Totals)) == MEASURES  # one list of measures


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
