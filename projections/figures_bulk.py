"""The figures projection folded in memory for a rebuild from position zero, then loaded
with COPY: the same ``fold`` as the live pages, with the case states carried from page to
page in memory instead of read back from ``figures_case``."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Connection

from feedback_core.cases import Case
from feedback_core.legal_clock import BusinessCalendar
from projections.case_views_bulk import copy_rows
from projections.figures import (
    COMPONENT_KEYS,
    COMPONENT_MONTHLY_KEYS,
    DAILY_KEYS,
    HANDLING_KEYS,
    HANDLING_MEASURES,
    MEASURES,
    MONTHLY_KEYS,
    CaseState,
    Resolution,
    components_monthly,
    create_figure_tables,
    fold,
    monthly,
    page_needs_calendar,
)

_CASE_COLUMNS = tuple(CaseState.__dataclass_fields__)
_RESOLUTION_COLUMNS = tuple(Resolution.__dataclass_fields__)
_COMPONENT_MEASURES = ("ratings", "score_sum")


class FiguresBulk:
    """Every case state, count and resolution of the log, ready to COPY."""

    def __init__(self, calendar: Callable[[], BusinessCalendar]) -> None:
        self.calendar = calendar
        self.cases: dict[UUID, CaseState] = {}
        self.daily: defaultdict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        self.components: defaultdict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        self.resolutions: list[Resolution] = []
        self.handling: defaultdict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)

    def add(self, events: Sequence[Any]) -> None:
        stepped = {e.originator_id for e in events if isinstance(e, Case.Step)}
        known = {c: self.cases[c] for c in stepped if c in self.cases}
        page = fold(events, known, self.calendar() if page_needs_calendar(events) else None)
        self.cases.update(page.cases)
        for key, counts in page.daily.items():
            self.daily[key].update(counts)
        for key, counts in page.components.items():
            self.components[key].update(counts)
        self.resolutions.extend(page.resolutions)
        for bin_key, bin_counts in page.handling.items():
            self.handling[bin_key].update(bin_counts)

    def write(self, conn: Connection[Any], schema: str) -> None:
        """Create the figures tables in ``schema`` and COPY the folded rows into them."""
        self.prepare(conn, schema)
        self.write_merged(conn, schema, [self.write_shard(conn, schema, lambda _: None)])

    def settle(self) -> None:
        """The calendar read once, before a rebuild's worker processes fork: none of
        them reads it through a connection it inherited (``bulk_parallel``)."""
        calendar = self.calendar()
        self.calendar = lambda: calendar

    def prepare(self, conn: Connection[Any], schema: str) -> None:
        """Create the figures tables in ``schema``."""
        create_figure_tables(conn, schema)

    def write_shard(
        self, conn: Connection[Any], schema: str, loaded: Callable[[str], None]
    ) -> tuple[Any, ...]:
        """COPY the rows of this shard's cases; return the counts the shards sum."""
        copy_rows(
            conn,
            schema,
            "figures_case",
            _CASE_COLUMNS,
            ([getattr(c, f) for f in _CASE_COLUMNS] for c in self.cases.values()),
        )
        copy_rows(
            conn,
            schema,
            "figures_resolution",
            _RESOLUTION_COLUMNS,
            ([getattr(r, f) for f in _RESOLUTION_COLUMNS] for r in self.resolutions),
        )
        return self.daily, self.components, self.handling

    def write_merged(self, conn: Connection[Any], schema: str, parts: list[Any]) -> None:
        """COPY the counts of every shard (``write_shard``), summed key by key."""
        self.daily, self.components, self.handling = _summed(parts)
        copy_rows(
            conn,
            schema,
            "figures_daily",
            (*DAILY_KEYS, *MEASURES),
            ((*key, *(c[m] for m in MEASURES)) for key, c in self.daily.items()),
        )
        copy_rows(conn, schema, "figures_component",
                  (*COMPONENT_KEYS, *_COMPONENT_MEASURES),
                  ((*key, *(c[m] for m in _COMPONENT_MEASURES))
                   for key, c in self.components.items()))  # fmt: skip
        copy_rows(conn, schema, "figures_component_monthly",
                  (*COMPONENT_MONTHLY_KEYS, *_COMPONENT_MEASURES),
                  ((*key, *(c[m] for m in _COMPONENT_MEASURES))
                   for key, c in components_monthly(self.components).items()))  # fmt: skip
        copy_rows(
            conn,
            schema,
            "figures_monthly",
            (*MONTHLY_KEYS, *MEASURES),
            ((*key, *(c[m] for m in MEASURES)) for key, c in monthly(self.daily).items()),
        )
        copy_rows(
            conn,
            schema,
            "figures_handling",
            (*HANDLING_KEYS, *HANDLING_MEASURES),
            ((*key, *(c[m] for m in HANDLING_MEASURES)) for key, c in self.handling.items()),
        )


def _summed(parts: list[Any]) -> tuple[Any, ...]:
    """The shards' (daily, components, handling) counts added key by key (one shard's as
    they are)."""
    if len(parts) == 1:
        return tuple(parts[0])
    summed: list[defaultdict[tuple[Any, ...], Counter[str]]] = []
    for tables in zip(*parts, strict=True):
        total: defaultdict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        for table in tables:
            for key, counts in table.items():
                total[key].update(counts)
        summed.append(total)
    return tuple(summed)
