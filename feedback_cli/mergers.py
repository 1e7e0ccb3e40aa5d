"""When a unit is merged into another, its open cases pass to the successor.

The organisation records the merger (with the date it takes effect); this process moves
the cases on or after that date, through the case desk, as the system. It is idempotent:
run it again and only cases still held by a merged unit move.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from feedback_cli.services import Core
from feedback_core.handling import CaseDesk
from feedback_core.legal_clock import DEFAULT_RULES
from feedback_core.local_time import local_date
from feedback_core.org.application import OrganisationApplication
from feedback_core.org.directory import directory_as_of, successor_of
from feedback_core.roles import SYSTEM
from feedback_core.settings import Settings
from projections.unit_cases import open_case_ids


def pass_cases_of_merged_units(
    core: Core, org_app: OrganisationApplication, views_schema: str, on: date | None = None
) -> dict[str, int]:
    """Move the open cases of every unit merged by ``on``; returns {unit: cases moved}."""
    on = on or local_date(datetime.now(UTC))
    directory = directory_as_of(org_app, on, include_retired=True)
    desk = CaseDesk(core.app, scope_of=lambda _actor: (), calendar=core.calendar.calendar,
                    rules=DEFAULT_RULES)
    moved: dict[str, int] = {}
    for unit in directory.units.values():
        successor = successor_of(org_app, unit.id, on) if unit.successor_id else None
        if not successor:
            continue
        case_ids = open_case_ids(core.db.conninfo, unit.id, views_schema)
        if case_ids:
            reason = f"{unit.id} merged into {successor}"
            desk.move_cases_of_merged_unit(case_ids, successor, SYSTEM, datetime.now(UTC), reason)
            moved[unit.id] = len(case_ids)
    return moved


def run_pass_cases(settings: Settings) -> dict[str, int]:
    """``feedback pass-cases`` (and after ``feedback org merge-unit``)."""
    from feedback_cli.services import open_core
    from feedback_core.org.store import open_organisation_application

    with open_core(settings) as core:
        org_app = open_organisation_application(core.db)
        try:
            return pass_cases_of_merged_units(core, org_app, settings.views_schema)
        finally:
            org_app.close()
