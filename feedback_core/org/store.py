"""Open the Organisation application on PostgreSQL (table ``organisation_events``)."""

from __future__ import annotations

from feedback_core.org.application import OrganisationApplication
from feedback_core.privacy.staff_secrets import StaffSecretBox
from feedback_core.store import Database, open_application


def open_organisation_application(
    db: Database, staff_secrets: StaffSecretBox | None = None
) -> OrganisationApplication:
    """Construct the application; like ``open_cases_application``, processes starting
    together take turns to create the tables under the same advisory lock. TOTP secrets are
    sealed with ``staff_secrets``, or a box on the configured master key."""
    if staff_secrets is None:
        from feedback_core.settings import Settings

        staff_secrets = StaffSecretBox(Settings().personal_data_master)
    box = staff_secrets
    return open_application(db, lambda env: OrganisationApplication(env=env, staff_secrets=box))
