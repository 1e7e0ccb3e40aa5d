"""Store a planned district: submissions through the intake handler, steps through the desk.

Submissions go to ``CasesApplication.record_submissions`` in batches, exactly as the
intake consumer (or ``feedback run``'s in-process publisher) hands them over. Each planned
step is a real ``CaseDesk.act`` — permission check, workflow transition, due dates from the
legal clock — on the step's business time. The only difference from the web is batching:
``BatchingDesk`` keeps the cases of a batch in memory between steps and saves them all in
one transaction, because a save per step (a table lock each) would take hours at a million
events.

Idempotent: a batch whose last submission is stored is not sent again (batches commit whole,
so the stored part of a plan is a prefix), and a case is handled only while it has its
received event alone and the receipt time the plan expects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from uuid import UUID

from feedback_cli.demo.plan import Planned
from feedback_core.application import CasesApplication
from feedback_core.cases import Case
from feedback_core.handling import CaseChanged, CaseDesk, Request
from feedback_core.identity import case_id_for, rating_id_for
from feedback_core.legal_clock import DEFAULT_RULES
from feedback_core.organisation import Organisation

BATCH = 1000


@dataclass
class BatchingDesk(CaseDesk):
    """The case desk with its saves collected: ``flush`` writes them in one transaction."""

    loaded: dict[UUID, Case] = field(default_factory=dict)
    changed: dict[UUID, Case] = field(default_factory=dict)

    def _load(self, case_id: UUID, expected_version: int | None = None) -> Case:
        case = self.loaded.get(case_id)
        if case is None:
            case = super()._load(case_id)
            self.loaded[case_id] = case
        if expected_version is not None and case.version != expected_version:
            raise CaseChanged(f"case {case.tracking_code} is at version {case.version}")
        return case

    def case(self, case_id: UUID) -> Case:
        return self._load(case_id)

    def _save(self, *cases: Case) -> int:
        for case in cases:
            self.changed[case.id] = case
        return 0  # nothing waits for a notification id here

    def flush(self) -> int:
        """Save the changed cases; returns how many events were stored."""
        stored = 0
        if self.changed:
            recordings = self.app.save(*self.changed.values())
            stored = len(recordings)
        self.changed.clear()
        self.loaded.clear()
        return stored


@dataclass
class Report:
    submissions: int = 0
    recorded: int = 0  # new submissions stored
    recorded_events: int = 0  # their ratings and cases
    steps: int = 0  # new workflow events stored
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return self.recorded_events + self.steps

    def line(self) -> str:
        rate = self.events / self.seconds if self.seconds else 0.0
        return (
            f"{self.submissions:,} submissions planned, {self.recorded:,} stored now; "
            f"{self.events:,} new events in {self.seconds:.1f} s ({rate:,.0f} events/s)"
        )


def populate(
    app: CasesApplication,
    organisation: Organisation,
    plan: Iterable[Planned],
    batch: int = BATCH,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Store what ``plan`` describes and the store lacks; see the module's docstring."""
    desk = BatchingDesk(
        app,
        scope_of=lambda actor: organisation.subtree(actor.unit_id),
        calendar=app.calendar,
        rules=DEFAULT_RULES,
        unit_exists=lambda unit: unit in organisation.units,
    )
    report = Report()
    started = time.perf_counter()
    for chunk in _chunks(plan, batch):
        report.submissions += len(chunk)
        if not _stored(app, chunk[-1]):
            result = app.record_submissions([p.submission for p in chunk])
            new = set(result.recorded)
            report.recorded += len(new)
            report.recorded_events += sum(
                int(p.submission.has_rating) + int(p.submission.has_complaint)
                for p in chunk
                if p.submission.submission_id in new
            )
        for planned in chunk:
            if planned.steps:
                _handle(desk, planned)
        report.steps += desk.flush()
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(report)
    return report


def _handle(desk: BatchingDesk, planned: Planned) -> None:
    case_id = case_id_for(planned.submission.submission_id)
    case = desk.case(case_id)
    if case.version != 1 or case.received_at != planned.submission.submitted_at:
        return  # handled by an earlier run, or planned then with another receipt time
    for step in planned.steps:
        if step.action == "confirm":
            desk.confirm_resolved(case_id, step.at)
            continue
        request = Request(
            step.action,
            reason=step.reason,
            text=step.text,
            assignee=step.assignee,
            to_unit=step.to_unit,
            days=step.days,
        )
        desk.act(case_id, case.version, step.actor, request, step.at)


def _stored(app: CasesApplication, planned: Planned) -> bool:
    sid = planned.submission.submission_id
    known = rating_id_for(sid) if planned.submission.has_rating else case_id_for(sid)
    return known in app.repository


def _chunks(plan: Iterable[Planned], size: int) -> Iterator[list[Planned]]:
    items = iter(plan)
    while chunk := list(islice(items, size)):
        yield chunk
