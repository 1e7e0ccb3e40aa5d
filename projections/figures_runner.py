"""Runs the figures projection beside the case views: its own runner (own position in the
same views schema) in a thread of its own, for as long as a ``with`` block lasts.

A separate position keeps the two projections independent: the figures can be rebuilt
(or added to an existing deployment, replaying from zero) without touching the queue.
When ``feedback rebuild`` swaps in a case-views schema without the figures tables, the
figures projection creates them again on its next page and replays from position zero.
Tables of an older version of the projection (``FIGURES_VERSION``) are dropped before the
runner starts, with the position, so an upgraded deployment never serves stale columns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.application import Application

from feedback_core.legal_clock import BusinessCalendar
from projections.figures import FiguresViews, ensure_current_version
from projections.runner import BatchedProjectionRunner


def figures_projection(app: Application[Any]) -> FiguresViews:
    """The projection counting working days with the application's calendar (decreed days
    included) when it has one."""
    calendar: Callable[[], BusinessCalendar] | None = getattr(app, "calendar", None)
    return FiguresViews(calendar if callable(calendar) else None)


@contextmanager
def figures_beside(
    app: Application[Any], conninfo: str, schema: str = "views"
) -> Iterator[BatchedProjectionRunner]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ensure_current_version(conn, schema)
    runner = BatchedProjectionRunner(app, conninfo, figures_projection(app), schema)
    thread = threading.Thread(target=runner.run_forever, name="figures", daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(timeout=5)
        runner.close()
