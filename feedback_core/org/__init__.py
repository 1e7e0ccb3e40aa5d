"""The organisation tree, event-sourced: units, offices, counters, staff and heads.

``OrganisationApplication`` records the changes (``application``); ``directory`` answers
questions on a date (the ``Organisation`` read model, successors, heads, history);
``loading`` reads a data file; ``store.open_organisation_application`` opens it on
PostgreSQL.
"""

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.changes import ConflictingChange, OrgChanges
from feedback_core.org.directory import (
    directory_as_of,
    head_of,
    responsible_unit,
    staff_history,
    successor_of,
    unit_history,
)
from feedback_core.org.errors import AlreadyExists, InvalidChange, NotFound, OrganisationError
from feedback_core.org.loading import LoadReport, load_organisation_file
from feedback_core.org.passwords import hash_password, verify_password
from feedback_core.org.totp import new_totp_secret, provisioning_uri, verify_totp

__all__ = [
    "AlreadyExists", "ConflictingChange", "InvalidChange", "LoadReport", "NotFound",
    "OrgChanges", "OrganisationApplication", "OrganisationError", "directory_as_of",
    "hash_password", "head_of", "load_organisation_file", "new_totp_secret",
    "provisioning_uri", "responsible_unit", "staff_history", "successor_of", "unit_history",
    "verify_password", "verify_totp",
]
