"""Runs the figures projection beside the case views: its own runner (own position in the
same views schema) in a thread of its own, for as long as a ``with`` block lasts.

A separate position keeps the two projections independent: the figures can be rebuilt
(or added to an existing deployment, replaying from zero) without touching the queue.
When ``feedback rebuild`` swaps in a case-views schema without the figures tables, the
figures projection creates them again on its next page and replays from position zero.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application

from projections.figures import FiguresViews
from projections.runner import BatchedProjectionRunner


@contextmanager
def figures_beside(
    app: Application[Any], conninfo: str, schema: str = "views"
) -> Iterator[BatchedProjectionRunner]:
    runner = BatchedProjectionRunner(app, conninfo, FiguresViews(), schema)
    thread = threading.Thread(target=runner.run_forever, name="figures", daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(timeout=5)
        runner.close()
