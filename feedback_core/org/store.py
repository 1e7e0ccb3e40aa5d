"""Open the Organisation application on PostgreSQL (table ``organisation_events``)."""

from __future__ import annotations

from feedback_core.org.application import OrganisationApplication
from feedback_core.store import Database, open_application


def open_organisation_application(db: Database) -> OrganisationApplication:
    """Construct the application; like ``open_cases_application``, processes starting
    together take turns to create the tables under the same advisory lock."""
    return open_application(db, lambda env: OrganisationApplication(env=env))
