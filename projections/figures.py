"""The figures projection: what heads of agencies are accountable for, per unit, counter,
channel and local day (Asia/Ho_Chi_Minh), in the views schema beside the case tables.

Tables (created by the projection itself, so the case views' DDL is untouched):

- ``figures_case``: one row per case with what timeliness needs at resolution: the unit
  holding it now, its counter and channel, the local dates of receipt, of the last answer
  and of the last resolution, the due date as the case's own events set it (acceptance,
  the citizen's reply, extensions) and its status.
- ``figures_daily``: additive counts per (day, unit, counter, channel). Workflow steps are
  counted for the unit holding the case when the step happens; receipts and ratings for
  the unit they were made at.
- ``figures_component``: per (day, unit, counter, SIPAS component): ratings and score sum.
- ``figures_resolution``: one row per ``Resolved`` step (so a case reopened and resolved
  again has two): the holding unit, counter, channel, the officer who gave the answer that
  resolved it, the day, the due date then and the handling time in **working days** from
  receipt to that answer (the legal clock's calendar: weekends, public holidays, decreed
  days off and make-up days). Percentiles are computed over these rows when read, so the
  sample behind a median is exactly the *resolved* figure of the same units and period.
- ``figures_handling``: ``figures_resolution`` counted per (month, unit, channel, officer,
  working days), with on time / early / late, all recorded days together: additive, so the
  live handling-time percentiles of whole months read counts instead of every resolution
  (``resolution_breakdown``); as of a past day they read the resolutions.
- ``figures_monthly``: ``figures_daily`` summed per (month, unit, counter, channel), all
  recorded days together: the live totals of whole months read these rows instead of every
  day's (``totals_breakdown``: a year is 12 rows per place instead of 365 or more). Figures
  "as of" a past day read the daily rows, which carry the recorded day.
- ``figures_component_monthly``: ``figures_component`` summed per (month, unit, component)
  likewise (``components``).

Definitions (docs/accountability.md explains them for readers):

- *received*: a case opened (a submission with complaint text), on its local day of receipt.
- *accepted* / *refused*: the acceptance (thụ lý) or refusal steps.
- *resolved*: a ``Resolved`` step (the answered case confirmed resolved). Its timeliness is
  judged on the day the answer that resolved it was given: *on time* when that day is on or
  before the due date, *early* when strictly before it, *late* otherwise. A case reopened
  and resolved again counts again (as a resolution, and in *reopened*).
- *ratings*, *satisfied* (score 4 or 5), *score_sum*; per component: ratings and sum.
- *harassment*, *second_trip*: complaints received in those categories ("3 không").
- *confirmed*: a ``CitizenConfirmed`` step (the citizen answered "Đã giải quyết" on the
  tracking page), on its day, for the unit holding the case; read as a share of *resolved*.
- *working days*: the days counted by the legal clock in (receipt, answer]: the day of
  receipt never counts, a case answered on the day it came in took 0 working days.

Every additive row also carries ``recorded_on``, the local day the store *recorded* the
event that made the increment (its ``timestamp``): a paper card typed in a week after its
business day adds to its business day's row under the day it was typed. Summing the rows
recorded by the end of D gives the figures "as of" D exactly (``web.as_of``); live reads
sum over ``recorded_on`` as they always summed (nearly every event is recorded on its
business day, so the rows barely multiply). ``figures_resolution`` rows carry it too. The
monthly roll-ups (``figures_monthly``, ``figures_handling``) do not: with it they would keep
a row per recorded day, as many as the daily rows they stand for.

Roll-ups up the organisation tree are made when reading (``FigureQueries``), over the
units of a subtree: no parent totals are stored, so merging or moving units needs no
replay. Counts are sums of per-event increments, so a replay from zero with any page size
gives the same rows (``rebuild_into`` + ``compare_schemas`` with ``FIGURE_TABLES``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from psycopg import Connection, Cursor, sql

from feedback_core.cases import Case
from feedback_core.intake import ComplaintCategory
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.local_time import local_date
from feedback_core.ratings import Rating

if TYPE_CHECKING:
    from projections.figures_bulk import FiguresBulk

PROJECTION_NAME = "case_figures"
FIGURE_TABLES = (
    "figures_case", "figures_daily", "figures_component", "figures_resolution",
    "figures_handling", "figures_monthly", "figures_component_monthly",
)
FIGURES_VERSION = 6  # 3: the citizens' confirmations (``confirmed``); 4: ``figures_handling``;
# 5: ``recorded_on`` (the local day each increment was recorded: figures "as of" a past day);
# 6: ``figures_monthly`` and ``figures_component_monthly`` (whole months of the live totals),
# ``figures_handling`` without ``recorded_on``
"""Bumped with every change of the tables' shape or meaning: ``ensure_current_version``
drops tables of another version and resets the position, so they replay from zero."""
_VERSION_MARK = f"{PROJECTION_NAME} version {FIGURES_VERSION}"
SATISFIED_FROM = 4  # a score of 4 or 5 is "satisfied" (hài lòng)

MEASURES = (
    "received",
    "accepted",
    "refused",
    "resolved",
    "on_time",
    "early",
    "late",
    "reopened",
    "ratings",
    "satisfied",
    "score_sum",
    "harassment",
    "second_trip",
    "confirmed",
)

HANDLING_MEASURES = ("resolved", "on_time", "early", "late")
HANDLING_KEYS = ("month", "unit_id", "channel", "officer", "working_days")
DAILY_KEYS = ("day", "recorded_on", "unit_id", "counter_id", "channel")
MONTHLY_KEYS = ("month", "unit_id", "counter_id", "channel")
COMPONENT_MONTHLY_KEYS = ("month", "unit_id", "component")
COMPONENT_MEASURES = ("ratings", "score_sum")
COMPONENT_KEYS = ("day", "recorded_on", "unit_id", "counter_id", "component")

_DDL = (
    """CREATE TABLE IF NOT EXISTS {schema}.figures_case (
        case_id uuid PRIMARY KEY,
        unit_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        category text NOT NULL,
        received_on date NOT NULL,
        due_on date NOT NULL,
        answered_on date,
        resolved_on date,
        status text NOT NULL,
        answered_by text,
        working_days int)""",
    "CREATE TABLE IF NOT EXISTS {schema}.figures_daily (\n"
    "    day date NOT NULL, unit_id text NOT NULL, counter_id text NOT NULL,\n"
    "    channel text NOT NULL, recorded_on date NOT NULL,\n"
    + "".join(f"    {m} int NOT NULL DEFAULT 0,\n" for m in MEASURES)
    + "    PRIMARY KEY (unit_id, day, counter_id, channel, recorded_on))",
    """CREATE TABLE IF NOT EXISTS {schema}.figures_component (
        day date NOT NULL,
        unit_id text NOT NULL,
        counter_id text NOT NULL,
        component text NOT NULL,
        recorded_on date NOT NULL,
        ratings int NOT NULL DEFAULT 0,
        score_sum int NOT NULL DEFAULT 0,
        PRIMARY KEY (unit_id, day, counter_id, component, recorded_on))""",
    """CREATE TABLE IF NOT EXISTS {schema}.figures_resolution (
        case_id uuid NOT NULL,
        version int NOT NULL,
        day date NOT NULL,
        unit_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        officer text NOT NULL,
        answered_on date NOT NULL,
        due_on date NOT NULL,
        working_days int NOT NULL,
        recorded_on date NOT NULL,
        PRIMARY KEY (case_id, version))""",
    "CREATE INDEX IF NOT EXISTS figures_resolution_unit_day "
    "ON {schema}.figures_resolution (unit_id, day)",
    # ``figures_resolution`` counted per month and number of working days: the handling-time
    # percentiles of whole months read these few rows instead of every resolution.
    "CREATE TABLE IF NOT EXISTS {schema}.figures_handling (\n"
    "    month date NOT NULL, unit_id text NOT NULL, channel text NOT NULL,\n"
    "    officer text NOT NULL, working_days int NOT NULL,\n"
    + "".join(f"    {m} int NOT NULL DEFAULT 0,\n" for m in HANDLING_MEASURES)
    + "    PRIMARY KEY (unit_id, month, channel, officer, working_days))",
    # ``figures_daily`` per month (its first day), every recorded day summed: whole months.
    "CREATE TABLE IF NOT EXISTS {schema}.figures_monthly (\n"
    "    month date NOT NULL, unit_id text NOT NULL, counter_id text NOT NULL,\n"
    "    channel text NOT NULL,\n"
    + "".join(f"    {m} int NOT NULL DEFAULT 0,\n" for m in MEASURES)
    + "    PRIMARY KEY (unit_id, month, counter_id, channel))",
    """CREATE TABLE IF NOT EXISTS {schema}.figures_component_monthly (
        month date NOT NULL,
        unit_id text NOT NULL,
        component text NOT NULL,
        ratings int NOT NULL DEFAULT 0,
        score_sum int NOT NULL DEFAULT 0,
        PRIMARY KEY (unit_id, month, component))""",
    "COMMENT ON TABLE {schema}.figures_case IS " + "'" + _VERSION_MARK + "'",
)


def create_figure_tables(conn: Connection[Any] | Cursor[Any], schema: str) -> None:
    """Create the figures tables if missing (idempotent)."""
    name = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
    for statement in _DDL:
        conn.execute(sql.SQL(statement).format(schema=name))  # type: ignore[arg-type]


def ensure_current_version(conn: Connection[Any], schema: str) -> bool:
    """Drop figures tables written by another version of this projection, and its position,
    in one transaction, so the runner replays from zero into the current tables. Returns
    True when it dropped something. Called before a runner starts (``figures_beside``)."""
    name = sql.Identifier(schema)
    with conn.transaction():
        found = conn.execute(
            "SELECT to_regclass(%(t)s) IS NOT NULL, "
            "obj_description(to_regclass(%(t)s), 'pg_class'), to_regclass(%(p)s) IS NOT NULL",
            {"t": f'"{schema}".figures_case', "p": f'"{schema}".projection_position'},
        ).fetchone()
        if found is None or not found[0] or found[1] == _VERSION_MARK:
            return False
        for table in FIGURE_TABLES:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(name, sql.Identifier(table)))
        if found[2]:
            conn.execute(
                sql.SQL("DELETE FROM {}.projection_position WHERE projection = %s").format(name),
                (PROJECTION_NAME,),
            )
        create_figure_tables(conn, schema)
    return True


def working_days_between(start: date, end: date, calendar: BusinessCalendar) -> int:
    """Working days in (start, end]: the legal clock's count (the first day never counts);
    0 when ``end`` is not after ``start``."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


@dataclass
class CaseState:
    case_id: UUID
    unit_id: str
    counter_id: str
    channel: str
    category: str
    received_on: date
    due_on: date
    answered_on: date | None
    resolved_on: date | None
    status: str
    answered_by: str | None = None
    working_days: int | None = None


@dataclass(frozen=True)
class Resolution:
    """One ``Resolved`` step, with its handling time in working days."""

    case_id: UUID
    version: int
    day: date
    unit_id: str
    counter_id: str
    channel: str
    officer: str
    answered_on: date
    due_on: date
    working_days: int
    recorded_on: date  # the local day the store recorded the ``Resolved`` step


DailyKey = tuple[date, date, str, str, str]  # day, recorded on, unit, counter, channel
ComponentKey = tuple[date, date, str, str, str]  # day, recorded on, unit, counter, component
MonthlyKey = tuple[date, str, str, str]  # month (first day), unit, counter, channel
ComponentMonthlyKey = tuple[date, str, str]  # month (first day), unit, component
HandlingKey = tuple[date, str, str, str, int]  # month, unit, channel, officer, working days


@dataclass
class PageFigures:
    """What one page of events adds: increments, and the case rows it changed."""

    daily: defaultdict[DailyKey, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    components: defaultdict[ComponentKey, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    cases: dict[UUID, CaseState] = field(default_factory=dict)
    changed: set[UUID] = field(default_factory=set)
    resolutions: list[Resolution] = field(default_factory=list)
    handling: defaultdict[HandlingKey, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    recorded_on: date = date.min  # the local recording day of the event being folded

    def add(self, day: date, case: CaseState, **counts: int) -> None:
        key = (day, self.recorded_on, case.unit_id, case.counter_id, case.channel)
        self.daily[key].update(counts)


_STATUS = {
    Case.Accepted: "accepted",
    Case.Refused: "refused",
    Case.Started: "in_progress",
    Case.CitizenAsked: "waiting_for_citizen",
    Case.CitizenReplied: "in_progress",
    Case.Answered: "answered",
    Case.Resolved: "resolved",
    Case.Closed: "closed",
    Case.Withdrawn: "withdrawn",
    Case.Reopened: "in_progress",
    Case.MergedInto: "merged",
}


def fold(
    events: Sequence[Any],
    known: dict[UUID, CaseState],
    calendar: BusinessCalendar | None = None,
) -> PageFigures:
    """The increments of a page, in log order (pure, so tests can recount independently).
    ``calendar`` counts working days (no decreed days when None)."""
    page = PageFigures(cases=dict(known), calendar=calendar or BusinessCalendar())
    for event in events:
        page.recorded_on = recorded_day(event)
        if isinstance(event, Rating.Given):
            _rating(page, event)
        elif isinstance(event, Case.Received):
            _received(page, event)
        elif isinstance(event, Case.Step):
            case = page.cases.get(event.originator_id)
            if case is not None:
                _step(page, case, event)
                page.changed.add(case.case_id)
    return page


def recorded_day(event: Any) -> date:
    """The local day (Asia/Ho_Chi_Minh) the store recorded ``event`` (its ``timestamp``):
    what "as of" a past day cuts on, whatever business time the event carries."""
    return local_date(event.timestamp)


def _rating(page: PageFigures, event: Rating.Given) -> None:
    day = local_date(event.given_at)
    key = (day, page.recorded_on, event.unit_id, event.counter_id, event.channel)
    page.daily[key].update(
        ratings=1,
        satisfied=int(event.score >= SATISFIED_FROM),
        score_sum=event.score,
    )
    for component, score in event.components.items():
        page.components[(day, page.recorded_on, event.unit_id, event.counter_id, component)].update(
            ratings=1, score_sum=score
        )


def _received(page: PageFigures, event: Case.Received) -> None:
    case = CaseState(
        case_id=event.originator_id,
        unit_id=event.unit_id,
        counter_id=event.counter_id,
        channel=event.channel,
        category=event.category,
        received_on=local_date(event.received_at),
        due_on=event.due_on,
        answered_on=None,
        resolved_on=None,
        status="received",
    )
    page.cases[case.case_id] = case
    page.changed.add(case.case_id)
    page.add(
        case.received_on,
        case,
        received=1,
        harassment=int(event.category == ComplaintCategory.HARASSMENT),
        second_trip=int(event.category == ComplaintCategory.SECOND_TRIP),
    )


def _step(page: PageFigures, case: CaseState, event: Any) -> None:
    day = local_date(event.at)
    status = _STATUS.get(type(event))
    if status is not None:
        case.status = status
    match event:
        case Case.Accepted() | Case.CitizenReplied() | Case.DeadlineExtended():
            case.due_on = event.due_on
    match event:
        case Case.Accepted():
            page.add(day, case, accepted=1)
        case Case.Refused():
            page.add(day, case, refused=1)
        case Case.Answered():
            case.answered_on = day
            case.answered_by = event.actor
        case Case.Resolved():
            answered = case.answered_on or day
            case.working_days = working_days_between(case.received_on, answered, page.calendar)
            resolution = Resolution(
                case.case_id, event.originator_version, day, case.unit_id, case.counter_id,
                case.channel, case.answered_by or event.actor, answered, case.due_on,
                case.working_days, page.recorded_on,
            )
            page.resolutions.append(resolution)
            timeliness = {
                "on_time": int(answered <= case.due_on),
                "early": int(answered < case.due_on),
                "late": int(answered > case.due_on),
            }
            page.add(day, case, resolved=1, **timeliness)
            page.handling[handling_key(resolution)].update(resolved=1, **timeliness)
            case.resolved_on = day
        case Case.Reopened():
            page.add(day, case, reopened=1)
        case Case.CitizenConfirmed():
            page.add(day, case, confirmed=1)
        case Case.TransferAccepted():
            case.unit_id = event.to_unit


def handling_key(resolution: Resolution) -> HandlingKey:
    """The ``figures_handling`` row a resolution counts in (its month's first day)."""
    r = resolution
    return (r.day.replace(day=1), r.unit_id, r.channel, r.officer, r.working_days)


def monthly(daily: dict[DailyKey, Counter[str]]) -> defaultdict[MonthlyKey, Counter[str]]:
    """The daily increments summed per ``figures_monthly`` row (month, unit, counter,
    channel): the recorded day dropped, the day turned into its month's first day."""
    found: defaultdict[MonthlyKey, Counter[str]] = defaultdict(Counter)
    for (day, _, unit_id, counter_id, channel), counts in daily.items():
        found[(day.replace(day=1), unit_id, counter_id, channel)].update(counts)
    return found


def components_monthly(
    components: dict[ComponentKey, Counter[str]],
) -> defaultdict[ComponentMonthlyKey, Counter[str]]:
    """The components' daily increments summed per ``figures_component_monthly`` row."""
    found: defaultdict[ComponentMonthlyKey, Counter[str]] = defaultdict(Counter)
    for (day, _, unit_id, _counter, component), counts in components.items():
        found[(day.replace(day=1), unit_id, component)].update(counts)
    return found


def page_needs_calendar(events: Sequence[Any]) -> bool:
    """Only resolutions count working days: other pages need not build the calendar."""
    return any(isinstance(e, Case.Resolved) for e in events)


_SELECT_CASES = "SELECT {columns} FROM {schema}.figures_case WHERE case_id = ANY(%s)"
_CASE_COLUMNS = tuple(CaseState.__dataclass_fields__)


class FiguresViews:
    """The figures projection, applied by ``projections.runner.BatchedProjectionRunner``."""

    name = PROJECTION_NAME

    def __init__(self, calendar: Callable[[], BusinessCalendar] | None = None) -> None:
        """``calendar`` gives the business calendar in force (the cases application's
        ``calendar``, decreed days included); weekends and public holidays only when None."""
        self.calendar = calendar or BusinessCalendar

    def bulk_loader(self) -> FiguresBulk:
        """The rebuild's path: the whole log folded in memory, then COPY (fresh tables)."""
        from projections.figures_bulk import FiguresBulk

        return FiguresBulk(self.calendar)

    def apply(self, cur: Cursor[Any], schema: str, events: Sequence[Any]) -> None:
        name = sql.Identifier(schema)
        found = cur.execute(
            "SELECT to_regclass(%s)", (f'"{schema}".figures_case',)
        ).fetchone()
        if found is None or found[0] is None:
            # A fresh schema (a rebuild, or a case-views rebuild swapped in without them).
            create_figure_tables(cur, schema)
        wanted = list({e.originator_id for e in events if isinstance(e, Case.Step)})
        known: dict[UUID, CaseState] = {}
        if wanted:
            query = sql.SQL(_SELECT_CASES).format(
                columns=sql.SQL(", ").join(map(sql.Identifier, _CASE_COLUMNS)), schema=name
            )
            for row in cur.execute(query, (wanted,)).fetchall():
                state = CaseState(*row)
                known[state.case_id] = state
        page = fold(events, known, self.calendar() if page_needs_calendar(events) else None)
        self._write_cases(cur, name, [page.cases[c] for c in page.changed])
        self._write_resolutions(cur, name, page.resolutions)
        self._write_counts(cur, name, "figures_daily", DAILY_KEYS, MEASURES, page.daily)
        self._write_counts(
            cur, name, "figures_monthly", MONTHLY_KEYS, MEASURES, monthly(page.daily)
        )
        self._write_counts(
            cur, name, "figures_component", COMPONENT_KEYS, COMPONENT_MEASURES, page.components
        )
        self._write_counts(
            cur, name, "figures_component_monthly", COMPONENT_MONTHLY_KEYS, COMPONENT_MEASURES,
            components_monthly(page.components),
        )
        self._write_counts(
            cur, name, "figures_handling", HANDLING_KEYS, HANDLING_MEASURES, page.handling
        )

    @staticmethod
    def _write_resolutions(
        cur: Cursor[Any], schema: sql.Identifier, rows: list[Resolution]
    ) -> None:
        if not rows:
            return
        columns = tuple(Resolution.__dataclass_fields__)
        query = sql.SQL(
            "INSERT INTO {schema}.figures_resolution ({columns}) VALUES ({values}) "
            "ON CONFLICT (case_id, version) DO NOTHING"
        ).format(
            schema=schema,
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        cur.executemany(query, [tuple(getattr(r, c) for c in columns) for r in rows])

    @staticmethod
    def _write_cases(cur: Cursor[Any], schema: sql.Identifier, cases: list[CaseState]) -> None:
        if not cases:
            return
        columns = sql.SQL(", ").join(map(sql.Identifier, _CASE_COLUMNS))
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in _CASE_COLUMNS[1:]
        )
        query = sql.SQL(
            "INSERT INTO {schema}.figures_case ({columns}) VALUES ({values}) "
            "ON CONFLICT (case_id) DO UPDATE SET {updates}"
        ).format(
            schema=schema,
            columns=columns,
            values=sql.SQL(", ").join(sql.Placeholder() * len(_CASE_COLUMNS)),
            updates=updates,
        )
        cur.executemany(query, [tuple(getattr(c, f) for f in _CASE_COLUMNS) for c in cases])

    @staticmethod
    def _write_counts(
        cur: Cursor[Any],
        schema: sql.Identifier,
        table: str,
        keys: tuple[str, ...],
        measures: tuple[str, ...],
        counts: dict[tuple[Any, ...], Counter[str]],
    ) -> None:
        if not counts:
            return
        columns = keys + measures
        query = sql.SQL(
            "INSERT INTO {schema}.{table} AS t ({columns}) VALUES ({values}) "
            "ON CONFLICT ({keys}) DO UPDATE SET {updates}"
        ).format(
            schema=schema,
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            keys=sql.SQL(", ").join(map(sql.Identifier, keys)),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = t.{0} + EXCLUDED.{0}").format(sql.Identifier(m)) for m in measures
            ),
        )
        rows = [(*key, *(counter[m] for m in measures)) for key, counter in counts.items()]
        cur.executemany(query, rows)
