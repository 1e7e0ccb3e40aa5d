"""Load an organisation data file (``data/demo_organisation.json`` format) into the store.

Idempotent: what exists already (by id) is left as it is, so loading twice records
nothing new and changes made since (renames, mergers) are not undone. Everything new in
the file is created in one transaction, all or nothing.

The format: ``units`` (id, name_vi, name_en, level, parent_id), ``offices`` (id, unit_id,
name_vi, name_en), ``counters`` (id, office_id, name_vi, name_en), ``staff`` (username,
display_name, role, unit_id, password_hash), and optionally ``heads`` (unit_id, username)
and ``effective_on`` (ISO date, used when the caller gives none).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from feedback_core.org.application import OrganisationApplication
from feedback_core.org.changes import OrgChanges
from feedback_core.org.rules import LEVEL_RANK, OFFICE, SYSTEM_ACTOR
from feedback_core.org.timeline import today


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)  # e.g. "unit nhat-tan"
    existing: list[str] = field(default_factory=list)


def load_organisation_file(
    app: OrganisationApplication, path: Path | str, effective_on: date | None = None,
    actor: str = SYSTEM_ACTOR,
) -> LoadReport:
    """Create what the file describes and the store lacks, effective on ``effective_on``
    (default: the file's ``effective_on``, else today)."""
    with open(path, encoding="utf-8") as f:
        return load_organisation_data(app, json.load(f), effective_on, actor)


def load_organisation_data(
    app: OrganisationApplication, data: Mapping[str, Any], effective_on: date | None = None,
    actor: str = SYSTEM_ACTOR,
) -> LoadReport:
    if effective_on is None:
        in_file = data.get("effective_on")
        effective_on = date.fromisoformat(in_file) if in_file else today()
    report = LoadReport()
    with app.changes(actor) as changes:
        changes.read_everything()
        loader = _Loader(changes, effective_on, report)
        # Parents rank above their children, so sorting by level creates parents first.
        for unit in sorted(data.get("units", []), key=lambda u: LEVEL_RANK.get(u["level"], 99)):
            loader.unit(unit)
        for office in data.get("offices", []):
            loader.unit({**office, "level": OFFICE, "parent_id": office["unit_id"]})
        for counter in data.get("counters", []):
            loader.counter(counter)
        for member in data.get("staff", []):
            loader.staff(member)
        for head in data.get("heads", []):
            loader.head(head)
    return report


@dataclass
class _Loader:
    changes: OrgChanges
    on: date
    report: LoadReport

    def unit(self, item: Mapping[str, Any]) -> None:
        if self._known(self.changes.has_unit(item["id"]), f"unit {item['id']}"):
            return
        self.changes.create_unit(
            item["id"], name_vi=item["name_vi"], name_en=item["name_en"], level=item["level"],
            parent_id=item["parent_id"], effective_on=self.on,
        )

    def counter(self, item: Mapping[str, Any]) -> None:
        if self._known(self.changes.has_counter(item["id"]), f"counter {item['id']}"):
            return
        self.changes.create_counter(
            item["id"], office_id=item["office_id"], name_vi=item["name_vi"],
            name_en=item["name_en"], effective_on=self.on,
        )

    def staff(self, item: Mapping[str, Any]) -> None:
        username = item["username"]
        if self._known(self.changes.has_staff(username), f"staff {username}"):
            return
        self.changes.register_staff(
            username, display_name=item["display_name"], role=item["role"],
            unit_id=item["unit_id"], password_hash=item["password_hash"], effective_on=self.on,
        )

    def head(self, item: Mapping[str, Any]) -> None:
        unit = self.changes.unit(item["unit_id"])
        label = f"head of {item['unit_id']}"
        if self._known(bool(unit.heads), label):  # never override a later appointment
            return
        self.changes.appoint_head(item["unit_id"], username=item["username"], effective_on=self.on)
        self.report.created[-1] = f"{label}: {item['username']}"  # name who was appointed

    def _known(self, exists: bool, label: str) -> bool:
        (self.report.existing if exists else self.report.created).append(label)
        return exists
