"""A case's audit bundle on real PostgreSQL: submissions recorded, steps taken through the
desk, the chain caught up and signed; the case exported with the CLI, checked offline by
``verify-bundle`` (and a tampered copy refused); the inspector's export route."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from feedback_cli.audit_commands import audit_main, audit_options, signing_key
from feedback_core.application import CasesApplication
from feedback_core.audit.bundle import verify_bundle
from feedback_core.audit.checkpoints import public_key_bytes
from feedback_core.cases import Case
from feedback_core.handling import CaseDesk, Request
from feedback_core.identity import case_id_for
from feedback_core.inspections import InspectionsApplication
from feedback_core.legal_clock import DEFAULT_RULES, BusinessCalendar
from feedback_core.permissions import Action
from feedback_core.roles import Actor, Role
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from projections.audit_chain import AuditChainRunner, make_checkpoints
from projections.queries import ViewQueries
from tests.unit.test_intake import submission
from tests.web.conftest import POPO, build_test_organisation, make_desk
from tests.web.web_doubles import NOW, FakeHealth, RecordingPublisher, StoreQueries, log_in
from web.app import create_app
from web.services import WebServices

pytestmark = pytest.mark.integration

LAN = Actor("canbo.nhattan", Role.HANDLER, "nhat-tan")
OTHERS_SECRET = "Bí mật của người khác: 0987654321"


@dataclass
class Story:
    db: Database
    app: CasesApplication
    settings: Settings
    runner: AuditChainRunner
    case_id: UUID
    code: str
    other: UUID

    def checkpoint(self) -> None:
        self.runner.catch_up()
        key = signing_key(audit_options(self.settings), create=True)
        assert key is not None
        assert make_checkpoints(self.runner.conn, key, datetime.now(UTC), ["cases"])

    def export(self, out: Path) -> tuple[int, Path]:
        code = audit_main(["audit", "export-case", self.code, "--out", str(out)], self.settings)
        return code, out / "bundle.json"


@pytest.fixture
def story(database: Database, tmp_path: Path) -> Iterator[Story]:
    app = open_cases_application(database)
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    subs = [submission(submitted_at=start + timedelta(minutes=i),
                       description=OTHERS_SECRET if i else "Cán bộ hẹn lại nhiều lần.")
            for i in range(3)]
    app.record_submissions(subs)
    mine, other, _ = (case_id_for(s.submission_id) for s in subs)
    desk = CaseDesk(app, lambda actor: {"nhat-tan"}, BusinessCalendar, DEFAULT_RULES)
    clock = iter(start + timedelta(hours=1, minutes=i) for i in range(60))

    def step(case_id: UUID, action: Action, **fields: Any) -> None:
        case: Case = app.repository.get(case_id)
        desk.act(case_id, case.version, LAN, Request(action, **fields), next(clock))

    step(mine, Action.ACCEPT)
    step(other, Action.ACCEPT)  # another case's events between the case's own
    step(mine, Action.CLAIM)
    step(other, Action.NOTE, text=OTHERS_SECRET)
    step(mine, Action.NOTE, text="Đã gọi lại cho công dân.")
    received: Any = next(iter(app.events.get(mine)))
    code = received.tracking_code
    settings = Settings(database_url=database.url, local_dir=tmp_path / "local")
    runner = AuditChainRunner(database.conninfo)
    try:
        found = Story(database, app, settings, runner, mine, code, other)
        found.checkpoint()
        step(other, Action.CLAIM)  # after the checkpoint: not in the bundle
        runner.catch_up()
        yield found
    finally:
        runner.close()
        app.close()


def test_export_then_verify_offline(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, path = story.export(tmp_path / "out")
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"exported 4 event(s) of {story.code}" in out
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [e["originator_version"] for e in document["events"]] == [1, 2, 3, 4]
    assert {e["originator_id"] for e in document["events"]} == {str(story.case_id)}
    with psycopg.connect(story.db.conninfo) as conn:
        stored = conn.execute(
            "SELECT notification_id, state FROM cases_events WHERE originator_id = %s "
            "ORDER BY originator_version", (story.case_id,)).fetchall()
        [(checkpoint_nid,)] = conn.execute(
            "SELECT max(notification_id) FROM audit.checkpoints").fetchall()
        [(head,)] = conn.execute(
            "SELECT notification_id FROM audit.chain_head WHERE application = 'cases'"
        ).fetchall()
    assert [(e["notification_id"], base64.b64decode(e["state"]))
            for e in document["events"]] == [(n, bytes(s)) for n, s in stored]
    links = document["chain"]["links"]
    assert links[-1]["notification_id"] == checkpoint_nid < head
    assert document["chain"]["start"]["notification_id"] < stored[0][0]
    text = path.read_text(encoding="utf-8")
    assert OTHERS_SECRET not in text and str(story.other) not in text
    page = (tmp_path / "out" / "bundle.html").read_text(encoding="utf-8")
    assert story.code in page and 'id="step-4"' in page and "Đã gọi lại" not in page

    assert audit_main(["audit", "verify-bundle", str(path)], Settings()) == 0
    assert capsys.readouterr().out.startswith("valid: 4 event(s)")
    public = base64.b64encode(public_key_bytes(
        signing_key(audit_options(story.settings)))).decode()  # type: ignore[arg-type]
    assert audit_main(["audit", "verify-bundle", "--public-key", public, str(path)],
                      Settings()) == 0
    capsys.readouterr()

    tampered = json.loads(text)
    state = json.loads(base64.b64decode(tampered["events"][2]["state"]))
    state["actor"] = "someone.else"
    tampered["events"][2]["state"] = base64.b64encode(
        json.dumps(state, separators=(",", ":")).encode()).decode()
    copy = tmp_path / "tampered.json"
    copy.write_text(json.dumps(tampered), encoding="utf-8")
    assert audit_main(["audit", "verify-bundle", str(copy)], Settings()) == 1
    out = capsys.readouterr().out
    nid = tampered["events"][2]["notification_id"]
    assert f"event #{nid} (version 3): its canonical bytes do not hash" in out


def test_no_bundle_before_a_checkpoint_covers_the_case(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case: Case = story.app.repository.get(story.case_id)
    desk = CaseDesk(story.app, lambda actor: {"nhat-tan"}, BusinessCalendar, DEFAULT_RULES)
    desk.act(story.case_id, case.version, LAN, Request(Action.START),
             datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    code, _ = story.export(tmp_path / "early")
    assert code == 2
    assert "no signed checkpoint covers the case's last event" in capsys.readouterr().err
    story.checkpoint()
    code, path = story.export(tmp_path / "later")
    assert code == 0
    assert verify_bundle(json.loads(path.read_text(encoding="utf-8"))).valid
    assert audit_main(["audit", "export-case", "HN-NONE-0000", "--out", str(tmp_path)],
                      story.settings) == 2


class DatabaseQueries(StoreQueries):
    """The in-memory views of the test doubles, with the real database's pool (what the
    export route reads the audit chain through)."""

    def __init__(self, app: CasesApplication, conninfo: str) -> None:
        super().__init__(app)
        self.views = ViewQueries(conninfo)
        self.pool = self.views.pool


def test_the_inspectors_export_route(story: Story) -> None:
    organisation = build_test_organisation()
    queries = DatabaseQueries(story.app, story.db.conninfo)
    inspections = InspectionsApplication(env=POPO)
    services = WebServices(
        settings=Settings(secret_key="test-secret"), organisation=organisation,
        publisher=RecordingPublisher(), queries=queries, health=FakeHealth(),
        clock=lambda: NOW, desk=make_desk(story.app, organisation), inspections=inspections,
    )
    try:
        with TestClient(create_app(services), follow_redirects=False) as client:
            log_in(client, "thanhtra.nhattan")
            page = client.get(f"/inspect/cases/{story.case_id}")
            assert f'href="/inspect/cases/{story.case_id}/export.json"' in page.text
            found = client.get(f"/inspect/cases/{story.case_id}/export.json")
            assert found.status_code == 200, found.text
            assert found.headers["cache-control"] == "no-store"
            assert verify_bundle(found.json()).valid
            assert [(r.what, r.case_id) for r in inspections.records()] == [
                ("replay", story.case_id), ("export", story.case_id)]
            assert client.get(f"/inspect/cases/{UUID(int=1)}/export.json").status_code == 404
        with TestClient(create_app(services), follow_redirects=False) as client:
            log_in(client, "canbo.nhattan")  # a handler: not an inspector
            refused = client.get(f"/inspect/cases/{story.case_id}/export.json")
            assert refused.status_code == 403
        assert len(list(inspections.records())) == 2  # refusals are not recorded views
    finally:
        queries.views.close()
