"""A case's audit bundle, built and verified from in-memory rows: it verifies as made, and
one altered byte of an event, one altered hash or an altered signature each fail with a
reason that names it. The standalone script of docs/inspection.md agrees."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedback_cli.audit_commands import audit_main
from feedback_core.audit.bundle import (
    BundleError,
    build_bundle,
    render_html,
    verify_bundle,
)
from feedback_core.audit.chain import GENESIS, EventRow, chain_rows
from feedback_core.audit.checkpoints import Checkpoint, public_key_bytes, sign
from feedback_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CASE = UUID("5b0c1c2e-6f0a-4a57-9a51-3d4f0b2d6a11")
OTHER = UUID("0e9d7d3a-1111-4a57-9a51-3d4f0b2d6a22")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TOPIC = "feedback_core.cases:Case.Received"


def log_rows() -> list[EventRow]:
    """Two other events, then the case's three interleaved with two others; id 6 a gap."""
    rows: list[EventRow] = []
    other_version = 0
    case_version = 0
    for nid, mine in ((1, False), (2, False), (3, True), (4, False), (5, True), (7, False),
                      (8, True), (9, False)):
        if mine:
            case_version += 1
            rows.append((nid, CASE.bytes, case_version, TOPIC if case_version == 1
                         else "feedback_core.cases:Case.Accepted",
                         json.dumps({"v": case_version, "note": "Đường hỏng"}).encode()))
        else:
            other_version += 1
            rows.append((nid, OTHER.bytes, other_version, TOPIC, b'{"secret":"no"}'))
    return rows


def bundle() -> dict[str, Any]:
    rows = log_rows()
    chained = chain_rows(rows)
    mine = [r for r in rows if r[1] == CASE.bytes]
    start = next(c for c in chained if c[0] == 2)  # the link before the case's first event
    checkpoint = sign(Checkpoint("cases", 9, chained[-1][5], AT), KEY)
    links = [(c[0], c[4]) for c in chained if c[0] > 2]
    return build_bundle(CASE, "HN-ABCD-1234", mine, (start[0], start[5]), links, checkpoint, AT)


def test_a_bundle_verifies_as_made_and_holds_no_one_elses_data() -> None:
    doc = bundle()
    report = verify_bundle(doc, public_key_bytes(KEY))
    assert report.valid, report.problems
    assert (report.events, report.links, report.checkpoint_notification_id) == (3, 6, 9)
    assert [e["notification_id"] for e in doc["events"]] == [3, 5, 8]
    assert base64.b64decode(doc["events"][0]["state"]) == log_rows()[2][4]
    text = json.dumps(doc)
    assert str(OTHER) not in text and "secret" not in base64.b64decode(
        doc["events"][1]["state"]).decode()
    assert set(doc["chain"]["links"][0]) == {"notification_id", "event_sha256"}


def test_a_case_from_the_first_event_starts_at_genesis() -> None:
    rows = [(1, CASE.bytes, 1, TOPIC, b"{}")]
    [row] = chain_rows(rows)
    doc = build_bundle(CASE, "X", rows, (0, GENESIS), [(1, row[4])],
                       sign(Checkpoint("cases", 1, row[5], AT), KEY), AT)
    assert doc["chain"]["start"] == {"notification_id": 0, "chain_sha256": "00" * 32}
    assert verify_bundle(doc).valid


def test_one_altered_byte_of_an_event_is_named() -> None:
    doc = bundle()
    state = bytearray(base64.b64decode(doc["events"][1]["state"]))
    state[3] ^= 1
    doc["events"][1]["state"] = base64.b64encode(bytes(state)).decode()
    report = verify_bundle(doc)
    assert report.problems == [
        "event #5 (version 2): its canonical bytes do not hash to the chained event_sha256 "
        f"{doc['chain']['links'][2]['event_sha256'][:16]}…"
    ]


def test_one_altered_hash_breaks_the_chain() -> None:
    doc = bundle()
    link = doc["chain"]["links"][1]  # another case's event (#4)
    link["event_sha256"] = ("0" if link["event_sha256"][0] != "0" else "1") + link[
        "event_sha256"][1:]
    [problem] = verify_bundle(doc).problems
    assert problem.startswith("the chain recomputed from #2 over 6 link(s) is ")
    assert "not the checkpoint's chain_sha256" in problem


def test_an_altered_case_hash_is_named_twice() -> None:
    doc = bundle()
    doc["chain"]["links"][0]["event_sha256"] = "ab" * 32  # the case's first event (#3)
    problems = verify_bundle(doc).problems
    assert problems[0].startswith("event #3 (version 1): its canonical bytes do not hash")
    assert problems[1].startswith("the chain recomputed")


def test_an_altered_signature_is_named() -> None:
    doc = bundle()
    signature = bytearray(base64.b64decode(doc["checkpoint"]["signature"]))
    signature[0] ^= 1
    doc["checkpoint"]["signature"] = base64.b64encode(bytes(signature)).decode()
    [problem] = verify_bundle(doc).problems
    assert problem.startswith("the checkpoint's Ed25519 signature does not verify")


def test_another_key_a_withheld_event_and_a_malformed_bundle() -> None:
    other = public_key_bytes(Ed25519PrivateKey.generate())
    [problem] = verify_bundle(bundle(), other).problems
    assert "not by the expected key" in problem
    doc = bundle()
    del doc["events"][1]
    assert verify_bundle(doc).problems == ["the case's versions are [1, 3], not 1..2 in order"]
    doc = bundle()
    del doc["chain"]
    [problem] = verify_bundle(doc).problems
    assert problem.startswith("malformed bundle: missing or misplaced field")
    assert verify_bundle({"format": "x"}).problems == [
        "malformed bundle: not a phan-anh/audit-bundle/v1 document"]
    with pytest.raises(BundleError):
        build_bundle(CASE, "X", [], (0, GENESIS), [], sign(
            Checkpoint("cases", 1, GENESIS, AT), KEY), AT)


def test_the_html_lists_the_events_and_the_checkpoint() -> None:
    doc = bundle()
    page = render_html(doc)
    assert "HN-ABCD-1234" in page and doc["checkpoint"]["public_key"] in page
    assert page.count("<tr><td>#") == 3


def test_verify_bundle_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle()))
    settings = Settings(local_dir=tmp_path)
    assert audit_main(["audit", "verify-bundle", str(good)], settings) == 0
    assert capsys.readouterr().out.startswith("valid: 3 event(s)")
    bad = copy.deepcopy(bundle())
    bad["checkpoint"]["signature"] = base64.b64encode(bytes(64)).decode()
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert audit_main(["audit", "verify-bundle", str(tmp_path / "bad.json")], settings) == 1
    assert "signature does not verify" in capsys.readouterr().out
    assert audit_main(["audit", "verify-bundle", str(tmp_path / "none.json")], settings) == 2


def standalone_script() -> str:
    text = (ROOT / "docs" / "inspection.md").read_text(encoding="utf-8")
    [script] = re.findall(r"```python\n(# verify_bundle\.py.*?)```", text, re.S)
    return script


def test_the_documented_standalone_script(tmp_path: Path) -> None:
    script = tmp_path / "verify_bundle.py"
    script.write_text(standalone_script())
    assert len(standalone_script().strip().splitlines()) <= 30
    good = tmp_path / "good.json"
    good.write_text(json.dumps(bundle()))
    ok = subprocess.run([sys.executable, str(script), str(good)], capture_output=True,
                        text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    bad = bundle()
    bad["events"][0]["state"] = base64.b64encode(b"{}").decode()
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    fail = subprocess.run([sys.executable, str(script), str(tmp_path / "bad.json")],
                          capture_output=True, text=True)
    assert fail.returncode == 1 and "event #3" in fail.stdout, fail.stdout + fail.stderr
