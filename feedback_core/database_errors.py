"""Which database errors are an outage (wait and try again) rather than a refusal."""

from __future__ import annotations

import psycopg
from eventsourcing import persistence

# The exceptions that mean "PostgreSQL is unreachable or restarting" (connection refused or
# broken, the server shutting down, no pooled connection in time), raised by psycopg, its
# pool (PoolTimeout is an OperationalError) and the eventsourcing library's recorders.
DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)
