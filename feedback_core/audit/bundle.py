"""A case's audit bundle: its stored events, the chain links that carry them up to a signed
checkpoint, and that checkpoint; checkable offline, without our database or code.

The bundle (JSON, format ``phan-anh/audit-bundle/v1``) holds:

- ``events``: every stored event of the case (application ``cases``) as it is in the table:
  ``notification_id``, ``originator_id``, ``originator_version``, ``topic`` and ``state``
  (base64 of the stored bytes);
- ``chain.start``: the chain link just before the case's first event (its notification id
  and ``chain_sha256``; id 0 and 32 zero bytes when the case's first event is the log's
  first);
- ``chain.links``: every chained event after it up to the checkpoint, each as its
  ``notification_id`` and ``event_sha256`` only: other cases' events leave as hashes;
- ``checkpoint``: the latest signed checkpoint covering the case's last event, with its
  public key (``feedback_core.audit.checkpoints``).

``verify_bundle`` checks that each event's canonical bytes hash to the link at its
notification id, that the chain recomputed from ``start`` over every link reaches the
checkpoint's ``chain_sha256``, and that the Ed25519 signature verifies (docs/inspection.md
shows the same check in about twenty lines of standalone Python).

What a bundle does not prove on its own: that no *later* event of the case was withheld
(the versions must run 1..n without a gap, but the last ones could be left out). The other
links are hashes only, so a reader cannot tell whose they are; a later bundle or the full
``feedback audit verify`` settles it.
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from feedback_core.audit.chain import GENESIS, EventRow, chain_sha256, event_sha256
from feedback_core.audit.checkpoints import (
    CheckpointFormatError,
    SignedCheckpoint,
    b64,
    key_id,
)

if TYPE_CHECKING:
    from psycopg import Connection

    from feedback_core.replay import ReplayStep

BUNDLE_FORMAT = "phan-anh/audit-bundle/v1"
APPLICATION = "cases"


class BundleError(ValueError):
    """A bundle cannot be made (no checkpoint covers the case yet, an unknown case)."""


# --- building ----------------------------------------------------------------------------


def build_bundle(
    case_id: UUID,
    tracking_code: str,
    events: Sequence[EventRow],
    start: tuple[int, bytes],
    links: Sequence[tuple[int, bytes]],
    checkpoint: SignedCheckpoint,
    exported_at: datetime,
) -> dict[str, Any]:
    """The bundle document. ``events``: the case's stored rows; ``start``: the link before
    the first of them (notification id, chain_sha256); ``links``: (notification id,
    event_sha256) of every chained event after ``start`` up to the checkpoint."""
    if not events:
        raise BundleError(f"the case {case_id} has no stored event")
    return {
        "format": BUNDLE_FORMAT,
        "application": APPLICATION,
        "case_id": str(case_id),
        "tracking_code": tracking_code,
        "exported_at": exported_at.isoformat(),
        "events": [
            {
                "notification_id": nid,
                "originator_id": str(UUID(bytes=bytes(originator))),
                "originator_version": version,
                "topic": topic,
                "state": None if state is None else b64(bytes(state)),
            }
            for nid, originator, version, topic, state in events
        ],
        "chain": {
            "start": {"notification_id": start[0], "chain_sha256": bytes(start[1]).hex()},
            "links": [
                {"notification_id": nid, "event_sha256": bytes(digest).hex()}
                for nid, digest in links
            ],
        },
        "checkpoint": checkpoint.to_json(),
    }


def read_case_bundle(
    conn: Connection[Any],
    case_id: UUID,
    tracking_code: str,
    exported_at: datetime,
    checkpoints: Sequence[SignedCheckpoint],
    events_table: str = "cases_events",
    schema: str = "audit",
) -> dict[str, Any]:
    """Read a case's bundle from the event table and the audit chain (one snapshot);
    ``checkpoints``: the stored ones of ``cases`` (only those whose signature verifies
    are used)."""
    from psycopg import sql

    audit = sql.Identifier(schema)
    with conn.transaction():
        events = [
            (int(r[0]), bytes(r[1]), int(r[2]), r[3], None if r[4] is None else bytes(r[4]))
            for r in conn.execute(
                sql.SQL(
                    "SELECT notification_id, uuid_send(originator_id), originator_version, "
                    "topic, state FROM {} WHERE originator_id = %s ORDER BY originator_version"
                ).format(sql.Identifier(events_table)),
                (case_id,),
            )
        ]
        if not events:
            raise BundleError(f"no stored event of the case {case_id}")
        first = min(e[0] for e in events)
        last = max(e[0] for e in events)
        covering = [
            c for c in checkpoints
            if c.checkpoint.application == APPLICATION
            and c.checkpoint.notification_id >= last and c.signature_valid()
        ]
        if not covering:
            raise BundleError(
                f"no signed checkpoint covers the case's last event (#{last}) yet: "
                "run `feedback audit checkpoint`"
            )
        signed = max(covering, key=lambda c: (c.checkpoint.notification_id,
                                              c.checkpoint.created_at))
        before = conn.execute(
            sql.SQL(
                "SELECT notification_id, chain_sha256 FROM {}.chain WHERE application = %s "
                "AND notification_id < %s ORDER BY notification_id DESC LIMIT 1"
            ).format(audit),
            (APPLICATION, first),
        ).fetchone()
        start = (int(before[0]), bytes(before[1])) if before else (0, GENESIS)
        links = [
            (int(r[0]), bytes(r[1]))
            for r in conn.execute(
                sql.SQL(
                    "SELECT notification_id, event_sha256 FROM {}.chain WHERE application = %s "
                    "AND notification_id > %s AND notification_id <= %s ORDER BY notification_id"
                ).format(audit),
                (APPLICATION, start[0], signed.checkpoint.notification_id),
            )
        ]
    return build_bundle(case_id, tracking_code, events, start, links, signed, exported_at)


# --- verifying (offline) -----------------------------------------------------------------


@dataclass
class BundleReport:
    events: int = 0
    links: int = 0
    checkpoint_notification_id: int = 0
    key_id: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def _hex32(text: object, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(text))
    except ValueError as exc:
        raise BundleError(f"{what} is not hex") from exc
    if len(raw) != 32:
        raise BundleError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def _integer(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BundleError(f"{what} must be an integer")
    return value


def _event_row(item: Mapping[str, Any], index: int) -> EventRow:
    what = f"event {index + 1}"
    try:
        state = item["state"]
        return (
            _integer(item["notification_id"], f"{what}: notification_id"),
            UUID(str(item["originator_id"])).bytes,
            _integer(item["originator_version"], f"{what}: originator_version"),
            item["topic"],
            None if state is None else base64.b64decode(str(state), validate=True),
        )
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise BundleError(f"{what} is malformed: {exc!r}") from exc


def verify_bundle(document: object, public_key: bytes | None = None) -> BundleReport:
    """Check a bundle offline; ``public_key`` (raw 32 bytes) pins the signing key. Every
    problem found is named in ``problems``; an unreadable bundle gives one problem."""
    report = BundleReport()
    try:
        _verify(document, public_key, report)
    except (BundleError, CheckpointFormatError) as exc:
        report.problems.append(f"malformed bundle: {exc}")
    return report


def _verify(document: object, public_key: bytes | None, report: BundleReport) -> None:
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not a {BUNDLE_FORMAT} document")
    try:
        case_id = UUID(str(document["case_id"]))
        chain = document["chain"]
        start_nid = _integer(chain["start"]["notification_id"], "chain.start.notification_id")
        start = _hex32(chain["start"]["chain_sha256"], "chain.start.chain_sha256")
        raw_links = chain["links"]
        raw_events = document["events"]
        checkpoint_json = document["checkpoint"]
    except (KeyError, TypeError) as exc:
        raise BundleError(f"missing or misplaced field {exc}") from exc
    if not isinstance(raw_links, list) or not isinstance(raw_events, list) or not raw_events:
        raise BundleError("chain.links and events must be non-empty lists")
    links: list[tuple[int, bytes]] = []
    for i, link in enumerate(raw_links):
        if not isinstance(link, dict):
            raise BundleError(f"link {i + 1} is not an object")
        links.append((_integer(link.get("notification_id"), f"link {i + 1}: notification_id"),
                      _hex32(link.get("event_sha256"), f"link {i + 1}: event_sha256")))
    events = [_event_row(e if isinstance(e, dict) else {}, i) for i, e in enumerate(raw_events)]
    signed = SignedCheckpoint.from_json(checkpoint_json)
    cp = signed.checkpoint
    report.events, report.links = len(events), len(links)
    report.checkpoint_notification_id, report.key_id = cp.notification_id, signed.key_id
    problems = report.problems

    # the signature, and whose key it is
    if cp.application != document.get("application", APPLICATION):
        problems.append(f"the checkpoint is of the application {cp.application!r}, "
                        f"not {document.get('application')!r}")
    if not signed.signature_valid():
        problems.append(f"the checkpoint's Ed25519 signature does not verify "
                        f"(key {signed.key_id})")
    if public_key is not None and signed.public_key != public_key:
        problems.append(f"the checkpoint is signed by key {signed.key_id}, not by the "
                        f"expected key {key_id(public_key)}")

    # the links run from the start to the checkpoint, in order
    nids = [nid for nid, _ in links]
    if any(b <= a for a, b in zip([start_nid, *nids], nids, strict=False)):
        problems.append("the links' notification ids do not increase from the start link")
    if not links or nids[-1] != cp.notification_id:
        problems.append(f"the links end at #{nids[-1] if links else start_nid}, not at the "
                        f"checkpoint's #{cp.notification_id}")

    # the case's events: theirs, complete from version 1, each hashing to its link
    by_nid = dict(links)
    versions = [e[2] for e in events]
    if versions != list(range(1, len(events) + 1)):
        problems.append(f"the case's versions are {versions}, not 1..{len(events)} in order")
    for nid, originator, version, topic, state in events:
        name = f"event #{nid} (version {version})"
        if originator != case_id.bytes:
            problems.append(f"{name} belongs to {UUID(bytes=originator)}, not to the case")
        chained = by_nid.get(nid)
        if chained is None:
            problems.append(f"{name} is not among the chain links")
        elif event_sha256((nid, originator, version, topic, state)) != chained:
            problems.append(f"{name}: its canonical bytes do not hash to the chained "
                            f"event_sha256 {chained.hex()[:16]}…")

    # the chain from the start link over every hash reaches the signed head
    link = start
    for _, digest in links:
        link = chain_sha256(link, digest)
    if link != cp.chain_sha256:
        problems.append(
            f"the chain recomputed from #{start_nid} over {len(links)} link(s) is "
            f"{link.hex()[:16]}…, not the checkpoint's chain_sha256 "
            f"{cp.chain_sha256.hex()[:16]}… (#{cp.notification_id})"
        )


# --- the human-readable rendering ------------------------------------------------------------


def render_html(document: Mapping[str, Any], steps: Sequence[ReplayStep] = ()) -> str:
    """A self-contained HTML page of the bundle: the replay steps (who, when, what, why, the
    state after each), the stored events with their hashes, and the checkpoint."""
    e = html.escape
    cp = document["checkpoint"]
    chain = document["chain"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        f"<title>Audit bundle {e(document['tracking_code'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em;vertical-align:top;text-align:left}"
        "code{word-break:break-all}</style></head><body>",
        f"<h1>Phản ánh {e(document['tracking_code'])}</h1>",
        "<dl>",
        f"<dt>Case id</dt><dd><code>{e(document['case_id'])}</code></dd>",
        f"<dt>Exported at</dt><dd>{e(document['exported_at'])}</dd>",
        f"<dt>Checkpoint</dt><dd>{e(cp['application'])} #{cp['notification_id']}, "
        f"{e(cp['created_at'])}, chain_sha256 <code>{e(cp['chain_sha256'])}</code></dd>",
        f"<dt>Public key (Ed25519)</dt><dd><code>{e(cp['public_key'])}</code></dd>",
        f"<dt>Chain</dt><dd>from #{chain['start']['notification_id']} "
        f"(<code>{e(chain['start']['chain_sha256'])}</code>) over "
        f"{len(chain['links'])} link(s)</dd>",
        "</dl>",
    ]
    if steps:
        out += [
            "<h2>Replay</h2>",
            '<table id="replay"><thead><tr><th>#</th><th>When</th><th>Recorded</th>'
            "<th>Who</th><th>What</th><th>Why</th><th>State after it</th></tr></thead><tbody>",
        ]
        for s in steps:
            state = s.state
            after = ", ".join(x for x in (
                state.status, state.unit_id, state.assignee or "", f"due {state.due_on}",
                f"→ {state.pending_transfer}" if state.pending_transfer else "",
            ) if x)
            links = "; ".join(
                (link.tracking_code or str(link.case_id)) if link.case_id
                else f"{link.from_unit} → {link.to_unit}".strip(" →")
                for link in s.links
            )
            what = s.event_type + (f" ({links})" if links else "")
            who = " · ".join(x for x in (s.actor, s.actor_role, s.actor_unit) if x)
            out.append(
                f'<tr id="step-{s.version}"><td>{s.version}</td><td>{e(s.at.isoformat())}</td>'
                f"<td>{e(s.recorded_at.isoformat())}</td><td>{e(who)}</td><td>{e(what)}</td>"
                f"<td>{e(s.reason)}</td><td>{e(after)}</td></tr>"
            )
        out.append("</tbody></table>")
    out += [
        "<h2>Stored events</h2>",
        "<table><thead><tr><th>Notification</th><th>Version</th><th>Topic</th>"
        "<th>event_sha256</th></tr></thead><tbody>",
    ]
    hashes = {link["notification_id"]: link["event_sha256"] for link in chain["links"]}
    for ev in document["events"]:
        out.append(
            f"<tr><td>#{ev['notification_id']}</td><td>{ev['originator_version']}</td>"
            f"<td>{e(str(ev['topic']))}</td>"
            f"<td><code>{e(hashes.get(ev['notification_id'], '?'))}</code></td></tr>"
        )
    out += [
        "</tbody></table>",
        "<p>Check this bundle offline: <code>feedback audit verify-bundle bundle.json</code>, "
        "or the standalone script in docs/inspection.md.</p>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)
