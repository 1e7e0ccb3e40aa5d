"""The audit chain on real PostgreSQL: every stored event chained, and verify naming the
first broken link when an event is altered, deleted, reordered or inserted by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from feedback_cli.audit_commands import (
    PeriodicCheckpoints,
    audit_main,
    audit_options,
    signing_key,
)
from feedback_core.application import CasesApplication
from feedback_core.audit.checkpoints import b64, public_key_bytes
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from projections.audit_chain import (
    AuditChainRunner,
    EventLog,
    make_checkpoints,
    stored_checkpoints,
    verify_log,
)
from tests.support.audit import chain_heads
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def record(app: CasesApplication, count: int, again: Any = None) -> list[Any]:
    start = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    subs = [
        submission(submitted_at=start + timedelta(minutes=i),
                   description="" if i % 3 == 2 else f"Phản ánh số {i}")
        for i in range(count)
    ]
    app.record_submissions([*subs, *([again] if again else [])])
    return subs


@dataclass
class Chained:
    db: Database
    app: CasesApplication
    runner: AuditChainRunner
    settings: Settings
    gap: int  # a notification id that no event has (a rolled-back insert)

    def sql(self, statement: str, *params: Any) -> None:
        with psycopg.connect(self.db.conninfo, autocommit=True) as conn:
            conn.execute(statement, params)  # type: ignore[arg-type]

    def ids(self) -> list[int]:
        with psycopg.connect(self.db.conninfo) as conn:
            return [r[0] for r in conn.execute(
                "SELECT notification_id FROM cases_events ORDER BY notification_id")]


@pytest.fixture
def chained(database: Database, tmp_path: Path) -> Iterator[Chained]:
    app = open_cases_application(database)
    first = record(app, 100)
    # A re-delivered submission at the end of a batch: the batch's insert is rolled back
    # (its notification ids are spent: a gap) and retried one by one.
    record(app, 20, again=first[0])
    record(app, 60)
    runner = AuditChainRunner(database.conninfo, page_size=64)
    try:
        assert runner.catch_up() == len(ids_of(database)) == 301  # 180 ratings, 121 cases
        ids = [n for n in range(1, max(ids_of(database)) + 1) if n not in set(ids_of(database))]
        assert ids, "the rolled-back batch should have left a gap"
        settings = Settings(database_url=database.url, local_dir=tmp_path)
        yield Chained(database, app, runner, settings, gap=ids[0])
    finally:
        runner.close()
        app.close()


def ids_of(db: Database) -> list[int]:
    with psycopg.connect(db.conninfo) as conn:
        return [r[0] for r in conn.execute("SELECT notification_id FROM cases_events")]


def verify(c: Chained, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = audit_main(["audit", "verify", "--quiet", *extra], c.settings)
    return code, capsys.readouterr().out


def test_every_event_is_chained_and_verifies(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    head = chained.runner.head("cases")
    assert head.notification_id == max(chained.ids()) and head.events == 301
    with psycopg.connect(chained.db.conninfo) as conn:
        rows = conn.execute("SELECT count(*) FROM audit.chain WHERE application = 'cases'")
        assert rows.fetchone() == (301,)
    code, out = verify(chained, capsys=capsys)
    assert code == 0, out
    assert "cases: 301 events" in out and "intact" in out


def test_the_runner_resumes_at_its_head(chained: Chained) -> None:
    record(chained.app, 10)
    again = AuditChainRunner(chained.db.conninfo, page_size=7)
    try:
        assert again.catch_up() == 17  # 10 ratings, 7 cases; nothing chained twice
        assert again.catch_up() == 0
    finally:
        again.close()
    assert verify_log(chained.db.conninfo, EventLog.of("cases")).intact


def test_the_chain_tables_are_append_only(chained: Chained) -> None:
    for statement in ("UPDATE audit.chain SET topic = 'x' WHERE notification_id = 1",
                      "DELETE FROM audit.chain WHERE notification_id = 1",
                      "TRUNCATE audit.chain"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            chained.sql(statement)


# --- tampering by hand, each in a fresh database ---------------------------------------------


def alter(c: Chained) -> tuple[int, str]:
    c.sql("UPDATE cases_events SET state = overlay(state placing '\\x58'::bytea from 12 for 1) "
          "WHERE notification_id = %s", 41)
    return 41, "altered"


def delete(c: Chained) -> tuple[int, str]:
    c.sql("DELETE FROM cases_events WHERE notification_id = %s", 77)
    return 77, "deleted"


def swap_states(c: Chained) -> tuple[int, str]:
    a, b = 30, 31  # a rating and its case: both are the citizen's own words
    c.sql("UPDATE cases_events e SET state = o.state FROM cases_events o "
          "WHERE (e.notification_id, o.notification_id) IN ((%s, %s), (%s, %s))", a, b, b, a)
    return a, "reordered"


def swap_ids(c: Chained) -> tuple[int, str]:
    a, b = 120, 150
    c.sql("UPDATE cases_events SET notification_id = -notification_id "
          "WHERE notification_id = %s", a)
    c.sql("UPDATE cases_events SET notification_id = %s WHERE notification_id = %s", a, b)
    c.sql("UPDATE cases_events SET notification_id = %s WHERE notification_id = %s", b, -a)
    return a, "reordered"


def insert(c: Chained) -> tuple[int, str]:
    forged = submission(description="Bịa đặt")
    c.sql("INSERT INTO cases_events (originator_id, originator_version, topic, state, "
          "notification_id) VALUES (gen_random_uuid(), 1, 'feedback_core.cases:Case.Received', "
          "convert_to(%s, 'UTF8'), %s)", json.dumps({"submission_id": str(forged.submission_id)}),
          c.gap)
    return c.gap, "inserted"


@pytest.mark.parametrize("tamper", [alter, delete, swap_states, swap_ids, insert])
def test_verify_names_the_first_broken_link(
    chained: Chained, tamper: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nid, kind = tamper(chained)
    code, out = verify(chained, capsys=capsys)
    assert code == 1, out
    assert f"BROKEN: first broken link: cases #{nid}: {kind}:" in out
    report = verify_log(chained.db.conninfo, EventLog.of("cases"))
    assert report.first_break is not None
    assert (report.first_break.notification_id, report.first_break.kind.value) == (nid, kind)
    expected = 2 if kind == "reordered" else 1  # a swap breaks both places, nothing more
    assert report.breaks_found == expected, report.breaks


def test_verify_exits_1_as_a_process_and_reports_progress(chained: Chained) -> None:
    alter(chained)
    env = {**os.environ, "FEEDBACK_DATABASE_URL": chained.db.url,
           "FEEDBACK_LOCAL_DIR": str(chained.settings.local_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "feedback_cli.audit_commands", "audit", "verify"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "first broken link: cases #41: altered" in done.stdout
    assert "verify cases: 100%" in done.stderr  # plain percentage lines off a terminal


def test_usage_errors_exit_2(
    chained: Chained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(chained, "--checkpoint", str(tmp_path / "none.json"), capsys=capsys)[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert verify(chained, "--checkpoint", str(bad), capsys=capsys)[0] == 2
    bad.write_text('{"format": "something else"}')
    assert verify(chained, "--checkpoint", str(bad), capsys=capsys)[0] == 2
    assert verify(chained, "--application", "nonsense", capsys=capsys)[0] == 2
    assert verify(chained, "--public-key", "AAAA", capsys=capsys)[0] == 2
    with pytest.raises(SystemExit) as exit_:
        audit_main(["audit", "verify", "--no-such-option"], chained.settings)
    assert exit_.value.code == 2


# --- signed checkpoints ----------------------------------------------------------------------


def checkpoint_and_export(c: Chained, capsys: pytest.CaptureFixture[str]) -> Path:
    assert audit_main(["audit", "checkpoint"], c.settings) == 0
    out = c.settings.local_dir / "checkpoint.json"
    assert audit_main(["audit", "export-checkpoint", "--out", str(out)], c.settings) == 0
    capsys.readouterr()
    return out


def rewrite_chain_from(c: Chained, nid: int) -> None:
    """What an intruder with superuser rights can do: drop the chain from ``nid`` on (the
    append-only triggers disabled), move the head back, and chain the altered events again;
    the stored checkpoints deleted too."""
    with psycopg.connect(c.db.conninfo, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM audit.chain WHERE application = 'cases' AND "
                     "notification_id >= %s", (nid,))
        conn.execute("DELETE FROM audit.checkpoints")
        conn.execute(
            "UPDATE audit.chain_head h SET notification_id = c.notification_id, "
            "chain_sha256 = c.chain_sha256, events = (SELECT count(*) FROM audit.chain "
            "WHERE application = 'cases') FROM audit.chain c WHERE c.application = 'cases' "
            "AND h.application = 'cases' AND c.notification_id = (SELECT max(notification_id) "
            "FROM audit.chain WHERE application = 'cases')"
        )
    c.runner.catch_up()


def test_a_checkpoint_proves_history_unchanged_and_survives_new_events(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = checkpoint_and_export(chained, capsys)
    document = json.loads(exported.read_text())
    (cp,) = document["checkpoints"]
    key = signing_key_of(chained)
    assert cp["public_key"] == b64(public_key_bytes(key))
    assert cp["notification_id"] == chained.runner.head("cases").notification_id

    record(chained.app, 15)  # history goes on after the checkpoint
    chained.runner.catch_up()
    code, out = verify(chained, "--checkpoint", str(exported), "--public-key", cp["public_key"],
                       capsys=capsys)
    assert code == 0, out
    assert "signature valid" in out and "2 checkpoint(s) checked" in out  # stored + file


def signing_key_of(c: Chained) -> Any:
    return signing_key(audit_options(c.settings))


def test_history_altered_before_a_checkpoint_fails_it(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = checkpoint_and_export(chained, capsys)
    signed_at = chained.runner.head("cases").notification_id
    alter(chained)
    code, out = verify(chained, "--checkpoint", str(exported), capsys=capsys)
    assert code == 1
    assert "first broken link: cases #41: altered" in out
    assert f"cases #{signed_at}: checkpoint-mismatch" in out


def test_a_rewritten_chain_is_caught_only_by_the_exported_checkpoint(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = checkpoint_and_export(chained, capsys)
    signed_at = chained.runner.head("cases").notification_id
    alter(chained)
    rewrite_chain_from(chained, 41)
    # The database alone now tells a consistent story: that is why checkpoints leave it.
    code, out = verify(chained, capsys=capsys)
    assert code == 0, out
    code, out = verify(chained, "--checkpoint", str(exported), capsys=capsys)
    assert code == 1
    assert f"first broken link: cases #{signed_at}: checkpoint-mismatch" in out


def test_a_forged_or_foreign_checkpoint_file_fails(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = checkpoint_and_export(chained, capsys)
    document = json.loads(exported.read_text())
    forged = dict(document["checkpoints"][0], chain_sha256="00" * 32)
    exported.write_text(json.dumps({**document, "checkpoints": [forged]}))
    code, out = verify(chained, "--checkpoint", str(exported), capsys=capsys)
    assert code == 1 and "its signature does not verify" in out

    other = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="  # the vector's key, not ours
    exported.write_text(json.dumps(document))
    code, out = verify(chained, "--checkpoint", str(exported), "--public-key", other,
                       capsys=capsys)
    assert code == 1 and "not trusted" in out


def test_stored_checkpoints_by_an_unknown_key_are_reported(
    chained: Chained, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    make_checkpoints(chained.runner.conn, Ed25519PrivateKey.generate(), datetime.now(UTC))
    signing_key(audit_options(chained.settings), create=True)  # ours: another key
    code, out = verify(chained, capsys=capsys)
    assert code == 1 and "not trusted" in out


def test_follow_the_logs_and_checkpoint_periodically(database: Database) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    app = open_cases_application(database)
    runner = AuditChainRunner(database.conninfo, page_size=50)
    key = Ed25519PrivateKey.generate()
    clock = [0.0]
    periodic = PeriodicCheckpoints(runner, key, every_s=600, clock=lambda: clock[0])
    thread = threading.Thread(target=runner.run_forever,
                              kwargs={"poll_interval": 0.05, "on_idle": periodic})
    try:
        thread.start()  # on an empty database: nothing to sign yet
        wait_for(lambda: periodic.next_at == PeriodicCheckpoints.RETRY_S)
        record(app, 30)
        wait_for(lambda: runner.head("cases").notification_id == app.recorder.max_notification_id())
        clock[0] = 5.0  # it looks again soon: the first checkpoint follows the first events
        wait_for(lambda: checkpoints_in(database) == 1)
        record(app, 30)
        wait_for(lambda: runner.head("cases").notification_id == app.recorder.max_notification_id())
        clock[0] = 300.0
        time.sleep(0.3)
        assert checkpoints_in(database) == 1  # not before the interval
        clock[0] = 605.0  # ten minutes after the first: the moved head is signed
        wait_for(lambda: checkpoints_in(database) == 2)
    finally:
        runner.stop()
        thread.join(timeout=10)
        runner.close()
        app.close()
    report = verify_log(database.conninfo, EventLog.of("cases"))
    assert report.intact and report.events == 100


def checkpoints_in(db: Database) -> int:
    with psycopg.connect(db.conninfo) as conn:
        return len(stored_checkpoints(conn))


def wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_application_has_its_own_chain(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedback_core.calendar_app import open_calendar_application
    from feedback_core.org.loading import load_organisation_file
    from feedback_core.org.store import open_organisation_application
    from feedback_core.settings import DEMO_ORGANISATION

    org = open_organisation_application(database)
    calendar = open_calendar_application(database)
    cases = open_cases_application(database)
    try:
        load_organisation_file(org, DEMO_ORGANISATION)
        calendar.decree_day_off(date(2026, 12, 31), "Quyết định số 1/QĐ-UBND", "quantri.tayho")
        record(cases, 5)
        settings = Settings(database_url=database.url, local_dir=tmp_path)
        assert audit_main(["audit", "checkpoint"], settings) == 0
        heads = chain_heads(database)
        assert set(heads) == {"cases", "organisation", "calendar"}
        assert heads["cases"] == 9 and heads["calendar"] == 2
        capsys.readouterr()
        assert audit_main(["audit", "verify", "--quiet"], settings) == 0
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute("DELETE FROM organisation_events WHERE notification_id = 3")
        assert audit_main(["audit", "verify", "--quiet"], settings) == 1
        out = capsys.readouterr().out
        assert "first broken link: organisation #3: deleted" in out
        assert "cases: 9 events" in out and "qrcodes: no events" in out
    finally:
        cases.close()
        calendar.close()
        org.close()
