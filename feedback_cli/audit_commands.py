"""``feedback audit ...`` (the chain, checkpoints, verification) and ``feedback reconcile``.

Exit codes of ``verify`` and ``reconcile``: 0 intact / clean, 1 a break or a discrepancy
was found (the first broken link is named), 2 a usage error (bad arguments, unreadable
checkpoint file or key, no Kafka configured). ``export-case`` / ``verify-bundle``: a case's
audit bundle and its offline check (docs/inspection.md). The design: docs/audit.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

from feedback_core.audit.checkpoints import (
    CheckpointFormatError,
    b64,
    export_document,
    key_id,
    latest_per_application,
    load_signing_key,
    new_signing_key_pem,
    parse_public_key,
    public_key_bytes,
    public_key_pem,
    read_document,
)
from feedback_core.settings import Settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from feedback_cli.services import Core
    from feedback_core.audit.verification import ChainReport
    from projections.audit_chain import AuditChainRunner, CheckpointJudgement

log = logging.getLogger(__name__)

OK, BROKEN, USAGE = 0, 1, 2
KEY_FILE = "audit_signing_key.pem"


class UsageError(Exception):
    """Exit 2 with this message."""


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditOptions:
    signing_key: str = ""  # FEEDBACK_AUDIT_SIGNING_KEY: PEM or base64 of the 32-byte seed
    trusted_keys: str = ""  # FEEDBACK_AUDIT_TRUSTED_KEYS: earlier public keys, comma-separated
    checkpoint_minutes: float = 60.0  # FEEDBACK_AUDIT_CHECKPOINT_MINUTES
    local_dir: Path = Path(".local")


def audit_options(settings: Settings) -> AuditOptions:
    """The audit settings (``Settings.audit_*``; read from the environment by the same names
    where the settings object does not declare them)."""

    def setting(name: str, default: str) -> str:
        value = getattr(settings, name, None)
        if value is None:
            value = os.environ.get(f"FEEDBACK_{name.upper()}", default)
        return str(value)

    return AuditOptions(
        signing_key=setting("audit_signing_key", ""),
        trusted_keys=setting("audit_trusted_keys", ""),
        checkpoint_minutes=float(setting("audit_checkpoint_minutes", "60")),
        local_dir=settings.local_dir,
    )


def signing_key(options: AuditOptions, create: bool = False) -> Ed25519PrivateKey | None:
    """The configured key; else the demo key in the local folder, generated when ``create``
    (like ``Settings.secret``). None when there is none and ``create`` is false."""
    if options.signing_key.strip():
        return load_signing_key(options.signing_key)
    path = options.local_dir / KEY_FILE
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this run made it just now
            time.sleep(0.2)
            return load_signing_key(path.read_text())
        with os.fdopen(fd, "w") as out:
            out.write(new_signing_key_pem())
        key = load_signing_key(path.read_text())
        log.warning(
            "generated a demo audit signing key into %s (public key %s); set "
            "FEEDBACK_AUDIT_SIGNING_KEY in production", path, b64(public_key_bytes(key)),
        )
        return key
    return load_signing_key(path.read_text())


def trusted_keys(options: AuditOptions) -> set[bytes]:
    """The public keys whose stored checkpoints are trusted: the signing key's and the
    earlier ones listed in FEEDBACK_AUDIT_TRUSTED_KEYS."""
    keys = {parse_public_key(k) for k in options.trusted_keys.split(",") if k.strip()}
    key = signing_key(options)
    if key is not None:
        keys.add(public_key_bytes(key))
    return keys


# --- the chain follower ---------------------------------------------------------------------


class PeriodicCheckpoints:
    """``on_idle`` of the runner: signs the heads that moved, at most every ``every_s``
    seconds; while there is nothing to sign (a fresh database, heads already signed) it
    looks again every ``RETRY_S`` seconds, so the first checkpoint comes soon after the
    first events."""

    RETRY_S = 5.0

    def __init__(
        self,
        runner: AuditChainRunner,
        key: Ed25519PrivateKey,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner = runner
        self.key = key
        self.every_s = every_s
        self.clock = clock
        self.next_at: float | None = None

    def __call__(self) -> None:
        from projections.audit_chain import make_checkpoints

        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            return
        made = make_checkpoints(
            self.runner.conn, self.key, datetime.now(UTC),
            [log.application for log in self.runner.logs], self.runner.schema,
            ensure_tables=False,
        )
        self.next_at = now + (self.every_s if made else min(self.every_s, self.RETRY_S))
        for signed in made:
            c = signed.checkpoint
            log.info("audit checkpoint: %s #%d %s (key %s)", c.application, c.notification_id,
                     c.chain_sha256.hex()[:16], signed.key_id)


def chain_runner(conninfo: str) -> AuditChainRunner:
    from projections.audit_chain import AuditChainRunner

    return AuditChainRunner(conninfo)


@contextmanager
def audit_thread(settings: Settings, core: Core) -> Iterator[AuditChainRunner]:
    """The chain follower (and its periodic checkpoints) in a thread of this process, for
    ``feedback run``."""
    options = audit_options(settings)
    runner = chain_runner(core.db.conninfo)
    key = signing_key(options, create=True)
    assert key is not None
    on_idle = PeriodicCheckpoints(runner, key, options.checkpoint_minutes * 60)
    thread = threading.Thread(
        target=runner.run_forever, kwargs={"on_idle": on_idle}, name="audit-chain", daemon=True
    )
    thread.start()
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(timeout=10)
        runner.close()


def _database(settings: Settings) -> Any:
    from feedback_cli.wiring import resolve_database

    return resolve_database(settings)


def cmd_audit_run(settings: Settings, args: argparse.Namespace) -> int:
    """``feedback audit run``: follow the logs until SIGINT/SIGTERM."""
    import signal

    options = audit_options(settings)
    minutes = args.every if args.every is not None else options.checkpoint_minutes
    runner = chain_runner(_database(settings).conninfo)
    key = signing_key(options, create=True)
    assert key is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: runner.stop())
    print(f"following the event logs; a checkpoint every {minutes:g} min, key "
          f"{key_id(public_key_bytes(key))}", flush=True)
    try:
        runner.run_forever(poll_interval=args.poll,
                           on_idle=PeriodicCheckpoints(runner, key, minutes * 60))
    finally:
        runner.close()
    return OK


def cmd_audit_catch_up(settings: Settings, args: argparse.Namespace) -> int:
    runner = chain_runner(_database(settings).conninfo)
    try:
        count = runner.catch_up()
        print(f"chained {count} new events")
        for log_ in runner.logs:
            head = runner.head(log_.application)
            if head.notification_id:
                print(f"  {log_.application}: head #{head.notification_id} "
                      f"{head.chain_sha256.hex()} ({head.events} events)")
    finally:
        runner.close()
    return OK


def cmd_audit_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    """Chain what is new, then sign each head."""
    from projections.audit_chain import make_checkpoints

    key = signing_key(audit_options(settings), create=True)
    assert key is not None
    runner = chain_runner(_database(settings).conninfo)
    try:
        runner.catch_up()
        made = make_checkpoints(runner.conn, key, datetime.now(UTC),
                                [log_.application for log_ in runner.logs], force=args.force)
    finally:
        runner.close()
    for signed in made:
        c = signed.checkpoint
        print(f"{c.application}: checkpoint #{c.notification_id} {c.chain_sha256.hex()} "
              f"at {c.created_at:%Y-%m-%dT%H:%M:%SZ}")
    if not made:
        print("every chain head is already signed (or there is nothing to sign)")
    _print_public_key(public_key_bytes(key), sys.stdout)
    return OK


def _print_public_key(public: bytes, out: TextIO) -> None:
    print(f"public key (Ed25519, key id {key_id(public)}): {b64(public)}", file=out)


def cmd_audit_public_key(settings: Settings, args: argparse.Namespace) -> int:
    key = signing_key(audit_options(settings), create=True)
    assert key is not None
    public = public_key_bytes(key)
    _print_public_key(public, sys.stdout)
    print(public_key_pem(public), end="")
    return OK


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    import psycopg

    from projections.audit_chain import create_audit_tables, stored_checkpoints

    with psycopg.connect(_database(settings).conninfo, autocommit=True) as conn:
        create_audit_tables(conn)
        found = stored_checkpoints(conn, args.application)
    chosen = found if args.all else latest_per_application(found)
    if not chosen:
        raise UsageError("no checkpoint to export yet: run `feedback audit checkpoint` first")
    document = export_document(chosen)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"exported {len(chosen)} checkpoint(s) to {args.out}")
    for signed in chosen:
        c = signed.checkpoint
        print(f"  {c.application} #{c.notification_id} {c.chain_sha256.hex()[:16]}… "
              f"{c.created_at:%Y-%m-%dT%H:%M:%SZ} key {signed.key_id}", file=sys.stderr)
    return OK


# --- a case's audit bundle -------------------------------------------------------------------


def find_case(app: Any, reference: str) -> UUID:
    """A case by its id or its tracking code (read from the store's Received events)."""
    from eventsourcing.utils import get_topic

    from feedback_core.cases import Case
    from feedback_core.identity import normalise_tracking_code

    try:
        return UUID(reference.strip())
    except ValueError:
        pass
    code = normalise_tracking_code(reference)
    topic = get_topic(Case.Received)
    start = 1
    while page := app.recorder.select_notifications(start, 500, topics=[topic]):
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if event.tracking_code == code:
                return UUID(str(event.originator_id))
        start = page[-1].id + 1
    raise UsageError(f"no case with the tracking code {code}")


def export_case(database: Any, reference: str, out_dir: Path, now: datetime) -> Path:
    """Write ``bundle.json`` and ``bundle.html`` of a case into ``out_dir``; returns the
    JSON file. UsageError when the case is unknown or no checkpoint covers it yet."""
    import psycopg

    from feedback_core.audit.bundle import BundleError, read_case_bundle, render_html
    from feedback_core.replay import replay
    from feedback_core.store import open_cases_application
    from projections.audit_chain import create_audit_tables, stored_checkpoints

    app = open_cases_application(database)
    try:
        case_id = find_case(app, reference)
        events = list(app.events.get(case_id))
        if not events:
            raise UsageError(f"no case with the id {case_id}")
        steps = replay(events, lambda v: app.repository.get(case_id, version=v))
    finally:
        app.close()
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        create_audit_tables(conn)
        try:
            document = read_case_bundle(conn, case_id, steps[0].event.tracking_code, now,
                                        stored_checkpoints(conn, "cases"))
        except BundleError as exc:
            raise UsageError(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "bundle.json"
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    (out_dir / "bundle.html").write_text(render_html(document, steps), encoding="utf-8")
    return target


def cmd_audit_export_case(settings: Settings, args: argparse.Namespace) -> int:
    target = export_case(_database(settings), args.case, Path(args.out), datetime.now(UTC))
    document = json.loads(target.read_text(encoding="utf-8"))
    cp = document["checkpoint"]
    print(f"exported {len(document['events'])} event(s) of {document['tracking_code']} with "
          f"{len(document['chain']['links'])} chain link(s) under checkpoint "
          f"#{cp['notification_id']} to {target} and {target.with_suffix('.html')}")
    return OK


def verify_bundle_file(path: str, public_key: str | None, out: TextIO) -> int:
    """``feedback audit verify-bundle``: offline, no database. 0 valid, 1 not (each
    problem named), 2 the file cannot be read."""
    from feedback_core.audit.bundle import verify_bundle

    pinned = parse_public_key(public_key) if public_key else None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc
    report = verify_bundle(document, pinned)
    if report.valid:
        print(f"valid: {report.events} event(s) hash to their links; the chain over "
              f"{report.links} link(s) reaches checkpoint #{report.checkpoint_notification_id}"
              f", whose signature verifies (key {report.key_id})", file=out)
        return OK
    print(f"INVALID: {path}", file=out)
    for problem in report.problems:
        print(f"  {problem}", file=out)
    return BROKEN


def cmd_audit_verify_bundle(settings: Settings, args: argparse.Namespace) -> int:
    return verify_bundle_file(args.file, args.public_key, sys.stdout)


# --- verification -----------------------------------------------------------------------------


class ProgressBar:
    """A bar on a terminal; plain percentage lines (every 10 %) otherwise."""

    WIDTH = 30

    def __init__(self, out: TextIO, tty: bool | None = None) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.started = time.monotonic()
        self._last_step = -1
        self._application = ""

    def __call__(self, application: str, reached: int, total: int) -> None:
        if not total:
            return  # an application with nothing chained
        if application != self._application:
            self._application, self._last_step = application, -1
            self.started = time.monotonic()
        fraction = min(1.0, reached / total) if total else 1.0
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.out.write(f"\rverify {application:<13} [{bar}] {fraction:4.0%} "
                           f"#{reached:,}/{total:,} {elapsed:5.1f} s")
            if fraction >= 1.0:
                self.out.write("\n")
            self.out.flush()
        else:
            step = int(fraction * 10)
            if step > self._last_step:
                self._last_step = step
                print(f"verify {application}: {step * 10}% (#{reached:,} of #{total:,}, "
                      f"{elapsed:.1f} s)", file=self.out, flush=True)


def _load_checkpoint_files(
    paths: Sequence[str], pinned: bytes | None
) -> list[CheckpointJudgement]:
    from projections.audit_chain import judge_checkpoints

    judged = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} is not JSON: {exc}") from exc
        try:
            checkpoints = read_document(data)
        except CheckpointFormatError as exc:
            raise UsageError(f"{path}: {exc}") from exc
        judged += judge_checkpoints(checkpoints, Path(path).name,
                                    {pinned} if pinned is not None else None)
    return judged


@dataclass
class VerifyOutcome:
    reports: list[ChainReport]
    seconds: float

    @property
    def intact(self) -> bool:
        return all(r.intact for r in self.reports)

    @property
    def events(self) -> int:
        return sum(r.events for r in self.reports)


def verify(
    conninfo: str,
    applications: Sequence[str],
    file_checkpoints: Sequence[CheckpointJudgement] = (),
    trusted: set[bytes] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> VerifyOutcome:
    """Verify each application's log against its chain, its stored checkpoints (judged
    against ``trusted``) and the checkpoints given from files."""
    import psycopg

    from projections.audit_chain import (
        default_logs,
        judge_checkpoints,
        stored_checkpoints,
        verify_log,
    )

    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        stored = stored_checkpoints(conn)
    judged = judge_checkpoints(stored, "stored", trusted) + list(file_checkpoints)
    reports = [
        verify_log(conninfo, log_, judged, progress=progress)
        for log_ in default_logs(applications)
    ]
    return VerifyOutcome(reports, time.monotonic() - started)


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from projections.audit_chain import APPLICATIONS

    pinned = parse_public_key(args.public_key) if args.public_key else None
    files = _load_checkpoint_files(args.checkpoint or [], pinned)
    applications = args.application or (
        sorted({j.signed.checkpoint.application for j in files}) if files else APPLICATIONS
    )
    unknown = [a for a in applications if a not in APPLICATIONS]
    if unknown:
        raise UsageError(f"unknown application(s) {', '.join(unknown)}; "
                         f"known: {', '.join(APPLICATIONS)}")
    for judged in files:
        s = judged.signed
        print(f"checkpoint {s.checkpoint.application} #{s.checkpoint.notification_id} from "
              f"{judged.source}: signed by key {s.key_id} "
              f"({'signature valid' if not judged.problem else judged.problem})")
    progress = None if args.quiet else ProgressBar(sys.stderr)
    outcome = verify(_database(settings).conninfo, applications, files,
                     trusted_keys(audit_options(settings)), progress)
    return report_outcome(outcome, sys.stdout)


def report_outcome(outcome: VerifyOutcome, out: TextIO) -> int:
    first = None
    for report in outcome.reports:
        if not report.events and not report.chain_rows:
            print(f"{report.application}: no events", file=out)
            continue
        status = "intact" if report.intact else f"{report.breaks_found} broken link(s)"
        pending = f", {report.unchained:,} not chained yet" if report.unchained else ""
        print(f"{report.application}: {report.events:,} events, chain head "
              f"#{report.head_notification_id}, {report.checkpoints_checked} checkpoint(s) "
              f"checked{pending}: {status}", file=out)
        for found in report.breaks[:10]:
            print(f"  {found.describe()}", file=out)
        if report.breaks_found > 10:
            print(f"  ... and {report.breaks_found - 10} more", file=out)
        if report.first_break and first is None:
            first = report.first_break
    rate = outcome.events / outcome.seconds if outcome.seconds else 0
    if first is None:
        print(f"intact: {outcome.events:,} events verified in {outcome.seconds:.1f} s "
              f"({rate:,.0f} events/s)", file=out)
        return OK
    print(f"BROKEN: first broken link: {first.describe()}", file=out)
    return BROKEN


# --- reconcile ----------------------------------------------------------------------------------


def cmd_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from consumers.reconcile import ReconcileError, ReconcileOptions, reconcile, redrive

    if not settings.kafka_bootstrap_servers:
        raise UsageError("reconcile needs KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092)")
    options = ReconcileOptions(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        conninfo=_database(settings).conninfo,
        topic=settings.intake_topic,
        dlq_topic=settings.dlq_topic,
        group_id=settings.consumer_group,
        views_schema=settings.views_schema,
    )
    try:
        result = reconcile(options)
    except ReconcileError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print_reconciliation(result, options, args.show, sys.stdout)
    if args.redrive:
        subs = result.to_redrive()
        count = redrive(options, subs)
        print(f"re-published {count} missing submission(s) to {options.topic}; the core "
              "stores each once. Run `feedback reconcile` again when the consumer has "
              "caught up.", file=sys.stderr if args.json else sys.stdout)
        if result.partial:
            print(f"{len(result.partial)} partially stored submission(s) cannot be re-driven "
                  "(the core would refuse them whole as duplicates): see the list above",
                  file=sys.stderr)
    return OK if result.clean else BROKEN


def print_reconciliation(result: Any, options: Any, show: int, out: TextIO) -> None:
    ranges = ", ".join(f"p{r.partition} {r.first}–{r.end}" for r in result.ranges)
    print(f"intake topic {result.topic}: {len(result.ranges)} partition(s) ({ranges}), "
          f"{result.messages:,} messages", file=out)
    if any(r.first > 0 for r in result.ranges):
        print("  the topic no longer holds its oldest messages (retention): older "
              "submissions are in the store only", file=out)
    print(f"  {result.submissions:,} submissions: {result.stored:,} stored once, "
          f"{len(result.missing):,} missing ({len(result.lost):,} lost, "
          f"{len(result.missing) - len(result.lost):,} not consumed yet), "
          f"{len(result.partial):,} partial", file=out)
    if result.redelivered:
        extra = sum(result.redelivered.values()) - len(result.redelivered)
        print(f"  {len(result.redelivered):,} submission(s) published more than once "
              f"({extra:,} extra messages: redelivered or resubmitted), each stored once",
              file=out)
    print("  no submission can be stored twice: its aggregates' ids derive from its id and "
          "the store refuses a second version 1", file=out)
    if result.conflicting:
        print(f"  {len(result.conflicting)} resubmission(s) with other content than the first "
              "(the first one is kept)", file=out)
    print(f"  {len(result.dead_letters):,} undecodable (dead letters), "
          f"{len(result.dead_letters_not_in_dlq):,} of them not in {options.dlq_topic}",
          file=out)
    if result.stored_without_message:
        print(f"  {result.stored_without_message:,} rating(s)/case(s) in the store without a "
              "message in the topic (in-process intake, or beyond retention)", file=out)
    if result.views is not None:
        v = result.views
        print(f"  read models ({v.schema}): {v.cases_in_views:,} of {v.cases_stored:,} stored "
              f"cases in case_queue, {v.cases_missing:,} missing, {v.cases_unexplained:,} "
              f"without a stored case; {v.submissions_missing:,} of "
              f"{v.submissions_checked:,} stored submissions missing from submission_status"
              + (f"; the projection is {v.behind:,} event(s) behind" if v.behind else ""),
              file=out)
    if result.missing:
        print("missing (published, not stored):", file=out)
        for m in result.missing[:show]:
            sub = m.message.submission
            state = "lost: the group committed past it" if m.lost else "not consumed yet"
            if m.partial:
                state += "; PARTIAL: " + ", ".join(str(i) for i in m.absent) + " absent"
            print(f"  {sub.submission_id}  p{m.message.partition}@{m.message.offset}  "
                  f"{sub.unit_id}  {sub.submitted_at.isoformat()}  ({state})", file=out)
        if len(result.missing) > show:
            print(f"  ... and {len(result.missing) - show:,} more (--show N, or --json)",
                  file=out)
    for m in result.dead_letters_not_in_dlq[:show]:
        print(f"dead letter not in the DLQ: p{m.partition}@{m.offset}: {m.error}", file=out)
    print("clean" if result.clean else "NOT CLEAN", file=out)


# --- the parsers ----------------------------------------------------------------------------------


def _guarded(command: Callable[[Settings, argparse.Namespace], int]) -> Any:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return command(settings, args)
        except (UsageError, CheckpointFormatError) as exc:
            print(f"feedback: {exc}", file=sys.stderr)
            return USAGE

    return run


def add_audit_parsers(sub: Any) -> None:
    """``feedback audit ...`` and ``feedback reconcile``; each sets ``audit_handler``."""
    audit = sub.add_parser(
        "audit", help="the tamper-evident chain of the event logs: run, checkpoint, verify",
        description="Tamper evidence: a hash chain over every stored event, signed "
        "checkpoints of its head, and verification (docs/audit.md).",
    )
    commands = audit.add_subparsers(dest="audit_command", required=True)

    run = commands.add_parser("run", help="follow the logs, chain new events, checkpoint "
                              "periodically")
    run.add_argument("--every", type=float, metavar="MINUTES",
                     help="minutes between checkpoints (FEEDBACK_AUDIT_CHECKPOINT_MINUTES, 60)")
    run.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                     help="pause when the logs are caught up (1 s)")
    run.set_defaults(audit_handler=_guarded(cmd_audit_run))

    catch_up = commands.add_parser("catch-up", help="chain the events not chained yet, once")
    catch_up.set_defaults(audit_handler=_guarded(cmd_audit_catch_up))

    checkpoint = commands.add_parser("checkpoint", help="chain what is new, then sign and "
                                     "store a checkpoint of each chain head")
    checkpoint.add_argument("--force", action="store_true",
                            help="sign again a head that is already signed")
    checkpoint.set_defaults(audit_handler=_guarded(cmd_audit_checkpoint))

    export = commands.add_parser("export-checkpoint",
                                 help="write the latest signed checkpoints as JSON")
    export.add_argument("--out", required=True, metavar="FILE", help="the file ('-': stdout)")
    export.add_argument("--application", help="only this application's checkpoints")
    export.add_argument("--all", action="store_true", help="every stored checkpoint, not "
                        "only the latest of each application")
    export.set_defaults(audit_handler=_guarded(cmd_audit_export))

    verify_ = commands.add_parser(
        "verify", help="recompute the chain from the stored events; exit 0 intact, 1 broken, "
        "2 usage error")
    verify_.add_argument("--checkpoint", action="append", metavar="FILE",
                         help="an exported checkpoint file to prove the history against "
                         "(repeatable)")
    verify_.add_argument("--public-key", metavar="KEY",
                         help="require the file's checkpoints to be signed by this key "
                         "(base64 or PEM)")
    verify_.add_argument("--application", action="append", metavar="NAME",
                         help="only this application (repeatable); default: all")
    verify_.add_argument("--quiet", action="store_true", help="no progress")
    verify_.set_defaults(audit_handler=_guarded(cmd_audit_verify))

    export_case_ = commands.add_parser(
        "export-case", help="write a case's audit bundle (bundle.json, bundle.html) under "
        "the latest signed checkpoint covering it")
    export_case_.add_argument("case", metavar="TRACKING_CODE", help="the case's tracking "
                              "code (or its id)")
    export_case_.add_argument("--out", required=True, metavar="DIR", help="the folder")
    export_case_.set_defaults(audit_handler=_guarded(cmd_audit_export_case))

    verify_bundle_ = commands.add_parser(
        "verify-bundle", help="check a case's audit bundle offline (no database); exit 0 "
        "valid, 1 not, 2 unreadable")
    verify_bundle_.add_argument("file", metavar="FILE", help="the bundle.json")
    verify_bundle_.add_argument("--public-key", metavar="KEY", help="require the checkpoint "
                                "to be signed by this key (base64 or PEM)")
    verify_bundle_.set_defaults(audit_handler=_guarded(cmd_audit_verify_bundle))

    public = commands.add_parser("public-key", help="print the checkpoint signing public key")
    public.set_defaults(audit_handler=_guarded(cmd_audit_public_key))

    reconcile_ = sub.add_parser(
        "reconcile", help="compare the intake topic with the event store; --redrive the missing",
        description="Read the intake topic from the beginning and check that every "
        "submission became exactly one stored submission; exit 0 clean, 1 not, 2 usage error.",
    )
    reconcile_.add_argument("--redrive", action="store_true",
                            help="re-publish the missing submissions (the core de-duplicates)")
    reconcile_.add_argument("--json", action="store_true", help="the full result as JSON")
    reconcile_.add_argument("--show", type=int, default=50, metavar="N",
                            help="list at most N missing submissions (50)")
    reconcile_.set_defaults(audit_handler=_guarded(cmd_reconcile))


def audit_main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """The audit and reconcile commands alone (``python -m feedback_cli.audit_commands
    audit verify``): what ``feedback`` runs once main.py registers them."""
    parser = argparse.ArgumentParser(prog="feedback")
    add_audit_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("kafka", "aiokafka"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    handler: Callable[[Settings, argparse.Namespace], int] = args.audit_handler
    return handler(settings or Settings(), args)


if __name__ == "__main__":
    sys.exit(audit_main())
