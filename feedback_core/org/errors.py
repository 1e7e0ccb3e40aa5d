"""Domain errors of the organisation: each message says what was refused and why."""

from __future__ import annotations


class OrganisationError(Exception):
    """Base of every refusal by the organisation application."""


class NotFound(OrganisationError, LookupError):
    """No unit, counter or staff member with that id."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no {kind} {ident!r}")
        self.kind = kind
        self.ident = ident


class AlreadyExists(OrganisationError):
    """An id is taken: ids are never reused, even after a unit is closed."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} already exists (ids are never reused)")
        self.kind = kind
        self.ident = ident


class InvalidChange(OrganisationError, ValueError):
    """A command that would break the organisation's rules (closed unit, cycle, ...)."""
