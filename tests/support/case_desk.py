"""The wards of the unit tests and which units each one's staff may act for."""

from __future__ import annotations

from collections.abc import Collection

from feedback_core.roles import Actor

SCOPES = {"nhat-tan": {"nhat-tan"}, "quang-an": {"quang-an"},
          "tay-ho": {"tay-ho", "nhat-tan", "quang-an"}}  # fmt: skip


def scope_of(actor: Actor) -> Collection[str]:
    return SCOPES[actor.unit_id]
