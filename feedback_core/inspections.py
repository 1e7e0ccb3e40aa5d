"""The inspectors' own trail: every time an inspector (or a head) opens a case's replay or
exports it, one event is stored here (who, when, which case and unit, as of which moment).

Why an event-sourced application rather than a row in ``audit.inspections``: it runs on the
same store as the cases (in memory in the tests, PostgreSQL in production, the table
``inspections_events``), needs no other connection in the web app, and its notification
log can be chained by the audit chain like any other application. Each view is its own small
aggregate (a random id, one event), so two pages opened at once never conflict; the log page
reads the notification log (newest first, bounded). See docs/inspection.md.

A dashboard seen "as of" a past day (``?as_of=``, docs/accountability.md) is recorded too,
as a ``DashboardView`` in the same log (who, which unit, which day, when, which page), so
the audit chain that covers the inspections log covers these views with no change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from feedback_core.event_log import logged_events


class InspectionView(Aggregate):
    """One look at one case."""

    class Recorded(Aggregate.Created):
        inspector: str
        role: str
        inspector_unit: str
        case_id: UUID
        tracking_code: str
        case_unit: str
        at: datetime
        as_of: datetime | None
        what: str

    @event(Recorded)
    def __init__(  # noqa: PLR0913 - the record names everything about the look
        self,
        *,
        inspector: str,
        role: str,
        inspector_unit: str,
        case_id: UUID,
        tracking_code: str,
        case_unit: str,
        at: datetime,
        as_of: datetime | None,
        what: str,  # "replay" | "export"
    ) -> None:
        self.inspector = inspector
        self.role = role
        self.inspector_unit = inspector_unit
        self.case_id = case_id
        self.tracking_code = tracking_code
        self.case_unit = case_unit
        self.at = at
        self.as_of = as_of
        self.what = what

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid4()


class DashboardView(Aggregate):
    """One look at a unit's figures as of a past day."""

    class Recorded(Aggregate.Created):
        inspector: str
        role: str
        inspector_unit: str
        unit_id: str
        as_of: str  # the day, YYYY-MM-DD
        at: datetime
        page: str  # the path: the dashboard, its overdue list, an export

    @event(Recorded)
    def __init__(  # noqa: PLR0913 - the record names everything about the look
        self, *, inspector: str, role: str, inspector_unit: str, unit_id: str, as_of: str,
        at: datetime, page: str,
    ) -> None:
        self.inspector = inspector
        self.role = role
        self.inspector_unit = inspector_unit
        self.unit_id = unit_id
        self.as_of = as_of
        self.at = at
        self.page = page

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid4()


@dataclass(frozen=True)
class DashboardViewRecord:
    notification_id: int
    inspector: str
    role: str
    inspector_unit: str
    unit_id: str
    as_of: date
    at: datetime
    page: str


@dataclass(frozen=True)
class InspectionRecord:
    notification_id: int
    inspector: str
    role: str
    inspector_unit: str
    case_id: UUID
    tracking_code: str
    case_unit: str
    at: datetime
    as_of: datetime | None
    what: str


class InspectionsApplication(Application[UUID]):
    name = "inspections"

    def record(  # noqa: PLR0913
        self,
        *,
        inspector: str,
        role: str,
        inspector_unit: str,
        case_id: UUID,
        tracking_code: str,
        case_unit: str,
        at: datetime,
        as_of: datetime | None = None,
        what: str = "replay",
    ) -> int:
        """Store one view; returns its notification id."""
        view = InspectionView(
            inspector=inspector, role=role, inspector_unit=inspector_unit, case_id=case_id,
            tracking_code=tracking_code, case_unit=case_unit, at=at, as_of=as_of, what=what,
        )
        return self._saved(view)

    def record_dashboard(  # noqa: PLR0913
        self, *, inspector: str, role: str, inspector_unit: str, unit_id: str, as_of: date,
        at: datetime, page: str,
    ) -> int:
        """Store one as-of view of a unit's figures; returns its notification id."""
        view = DashboardView(
            inspector=inspector, role=role, inspector_unit=inspector_unit, unit_id=unit_id,
            as_of=as_of.isoformat(), at=at, page=page,
        )
        return self._saved(view)

    def records(self, page: int = 1000) -> Iterator[InspectionRecord]:
        """Every recorded view of a case, oldest first."""
        for notification_id, recorded in logged_events(self, page):
            if isinstance(recorded, InspectionView.Recorded):
                yield _record(notification_id, recorded)

    def dashboard_records(self, page: int = 1000) -> Iterator[DashboardViewRecord]:
        """Every recorded as-of view of a dashboard, oldest first."""
        for notification_id, e in logged_events(self, page):
            if isinstance(e, DashboardView.Recorded):
                yield DashboardViewRecord(
                    notification_id=notification_id, inspector=e.inspector, role=e.role,
                    inspector_unit=e.inspector_unit, unit_id=e.unit_id,
                    as_of=date.fromisoformat(e.as_of), at=e.at, page=e.page,
                )

    def _saved(self, view: Aggregate) -> int:
        """Store one view's event; its notification id."""
        return max(r.notification.id for r in self.save(view))


def _record(notification_id: int, e: InspectionView.Recorded) -> InspectionRecord:
    return InspectionRecord(
        notification_id=notification_id, inspector=e.inspector, role=e.role,
        inspector_unit=e.inspector_unit, case_id=e.case_id, tracking_code=e.tracking_code,
        case_unit=e.case_unit, at=e.at, as_of=e.as_of, what=e.what,
    )
