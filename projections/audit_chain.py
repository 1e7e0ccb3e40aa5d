"""The audit chain: a projection that follows each application's notification log and keeps,
beside every stored event, a hash over the previous link and the event's canonical bytes
(``feedback_core.audit.chain``); signed checkpoints of the heads; and the verifier that
recomputes everything from the stored events. The design and its limits: docs/audit.md.

Tables, in the schema ``audit`` (never dropped by the code: it is the evidence):

- ``chain`` (application, notification_id) → originator, version, topic, event_sha256,
  chain_sha256: one row per chained event; append-only (a trigger refuses UPDATE, DELETE
  and TRUNCATE, against accidents: the signed checkpoints are what an intruder cannot redo);
- ``chain_head`` per application: the last chained notification id and its link, moved in
  the same transaction as the page of chain rows it ends;
- ``checkpoints``: signed heads (Ed25519), exported for third parties.

The chain reads the event tables directly (``<application>_events``, the library's names),
so it needs no application object, decodes nothing and hashes exactly the stored bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import Connection, sql

from feedback_core.audit.chain import GENESIS, EventHasher, chain_sha256
from feedback_core.audit.checkpoints import (
    Checkpoint,
    SignedCheckpoint,
    key_id,
    public_key_bytes,
    sign,
)
from feedback_core.audit.verification import (
    Break,
    BreakKind,
    ChainReport,
    ChainWalk,
    CheckpointRef,
)

AUDIT_SCHEMA = "audit"
APPLICATIONS = (
    "cases", "organisation", "calendar", "qrcodes", "inspections", "privacy", "devices"
)
_LOCK = "audit-chain:"

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS {schema}",
    """CREATE TABLE IF NOT EXISTS {schema}.chain (
        application text NOT NULL,
        notification_id bigint NOT NULL,
        originator_id uuid NOT NULL,
        originator_version bigint NOT NULL,
        topic text,
        event_sha256 bytea NOT NULL,
        chain_sha256 bytea NOT NULL,
        PRIMARY KEY (application, notification_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.chain_head (
        application text PRIMARY KEY,
        notification_id bigint NOT NULL,
        chain_sha256 bytea NOT NULL,
        events bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
        id bigserial PRIMARY KEY,
        application text NOT NULL,
        notification_id bigint NOT NULL,
        chain_sha256 bytea NOT NULL,
        created_at timestamptz NOT NULL,
        public_key bytea NOT NULL,
        signature bytea NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS checkpoints_by_application
        ON {schema}.checkpoints (application, notification_id)""",
    """CREATE OR REPLACE FUNCTION {schema}.append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit table %.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME;
        END $$""",
    """CREATE OR REPLACE TRIGGER chain_append_only BEFORE UPDATE OR DELETE ON {schema}.chain
        FOR EACH ROW EXECUTE FUNCTION {schema}.append_only()""",
    """CREATE OR REPLACE TRIGGER chain_no_truncate BEFORE TRUNCATE ON {schema}.chain
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.append_only()""",
    """CREATE OR REPLACE TRIGGER checkpoints_append_only
        BEFORE UPDATE OR DELETE ON {schema}.checkpoints
        FOR EACH ROW EXECUTE FUNCTION {schema}.append_only()""",
    """CREATE OR REPLACE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON {schema}.checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.append_only()""",
)


def create_audit_tables(conn: Connection[Any], schema: str = AUDIT_SCHEMA) -> None:
    """Create the audit schema and tables if missing (idempotent, safe to run concurrently)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{_LOCK}ddl:{schema}",))
        for statement in _DDL:
            conn.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class EventLog:
    """An application's event table, named as the library names it."""

    application: str
    table: str
    schema: str = "public"

    @classmethod
    def of(cls, application: str, schema: str = "public") -> EventLog:
        return cls(application, f"{application.lower()}_events", schema)

    @property
    def identifier(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))

    def exists(self, conn: Connection[Any]) -> bool:
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (f'"{self.schema}"."{self.table}"',),
        ).fetchone()
        return bool(row and row[0])


def default_logs(applications: Iterable[str] = APPLICATIONS) -> list[EventLog]:
    return [EventLog.of(name) for name in applications]


@dataclass(frozen=True)
class Head:
    notification_id: int
    chain_sha256: bytes
    events: int


def read_head(conn: Connection[Any], application: str, schema: str = AUDIT_SCHEMA) -> Head:
    row = conn.execute(
        sql.SQL(
            "SELECT notification_id, chain_sha256, events FROM {}.chain_head "
            "WHERE application = %s"
        ).format(sql.Identifier(schema)),
        (application,),
    ).fetchone()
    if row is None:
        return Head(0, GENESIS, 0)
    return Head(int(row[0]), bytes(row[1]), int(row[2]))


class AuditChainRunner:
    """Follows the logs page by page; each page's chain rows and the moved head are one
    transaction, under a per-application advisory lock, so runners can share the work and
    a restart resumes exactly at the head."""

    def __init__(
        self,
        conninfo: str,
        logs: Sequence[EventLog] | None = None,
        schema: str = AUDIT_SCHEMA,
        page_size: int = 5000,
    ) -> None:
        self.logs = list(logs if logs is not None else default_logs())
        self.schema = schema
        self.page_size = page_size
        self.conn = psycopg.connect(conninfo, autocommit=True)
        create_audit_tables(self.conn, schema)
        self._stop = threading.Event()
        self._hasher = EventHasher()

    def head(self, application: str) -> Head:
        return read_head(self.conn, application, self.schema)

    def process_page(self, log: EventLog) -> int:
        """Chain the next page of ``log``; returns how many events it held."""
        if not log.exists(self.conn):
            return 0  # the application has not been opened on this database yet
        schema = sql.Identifier(self.schema)
        with self.conn.transaction():
            self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK + log.application,)
            )
            head = self.head(log.application)
            with self.conn.cursor(binary=True) as cur:
                cur.execute(
                    sql.SQL(
                        "SELECT notification_id, originator_id, originator_version, topic, state "
                        "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                    ).format(log.identifier),
                    (head.notification_id, self.page_size),
                )
                events = cur.fetchall()
            if not events:
                return 0
            link = head.chain_sha256
            hasher = self._hasher
            rows = []
            for nid, originator, version, topic, state in events:
                digest = hasher((nid, originator.bytes, version, topic, state))
                link = chain_sha256(link, digest)
                rows.append((log.application, nid, originator, version, topic, digest, link))
            with self.conn.cursor() as cur:
                copy_sql = sql.SQL(
                    "COPY {}.chain (application, notification_id, originator_id, "
                    "originator_version, topic, event_sha256, chain_sha256) FROM STDIN "
                    "(FORMAT BINARY)"
                ).format(schema)
                with cur.copy(copy_sql) as copy:
                    copy.set_types(["text", "int8", "uuid", "int8", "text", "bytea", "bytea"])
                    for row in rows:
                        copy.write_row(row)
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {}.chain_head AS h "
                        "(application, notification_id, chain_sha256, events) "
                        "VALUES (%(app)s, %(nid)s, %(link)s, %(count)s) "
                        "ON CONFLICT (application) DO UPDATE SET notification_id = %(nid)s, "
                        "chain_sha256 = %(link)s, events = h.events + %(count)s, "
                        "updated_at = now()"
                    ).format(schema),
                    {"app": log.application, "nid": events[-1][0], "link": link,
                     "count": len(events)},
                )
        return len(events)

    def catch_up(self) -> int:
        """Chain every log up to its end; returns the events chained."""
        total = 0
        for log in self.logs:
            while count := self.process_page(log):
                total += count
        return total

    def run_forever(
        self,
        poll_interval: float = 1.0,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        """Follow the logs until ``stop()``; ``on_idle`` runs whenever they are caught up
        (the periodic checkpoint)."""
        while not self._stop.is_set():
            if not self.catch_up():
                if on_idle is not None:
                    on_idle()
                self._stop.wait(poll_interval)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self.conn.close()


# --- checkpoints ---------------------------------------------------------------------------


def _checkpoint_from_row(row: Sequence[Any]) -> SignedCheckpoint:
    application, nid, link, created_at, public_key, signature = row
    return SignedCheckpoint(
        Checkpoint(application, int(nid), bytes(link), created_at),
        public_key=bytes(public_key),
        signature=bytes(signature),
    )


def stored_checkpoints(
    conn: Connection[Any], application: str | None = None, schema: str = AUDIT_SCHEMA
) -> list[SignedCheckpoint]:
    """The checkpoints stored in the database (none when the audit tables do not exist)."""
    if not _table_exists(conn, schema, "checkpoints"):
        return []
    query = sql.SQL(
        "SELECT application, notification_id, chain_sha256, created_at, public_key, signature "
        "FROM {}.checkpoints WHERE %(app)s::text IS NULL OR application = %(app)s "
        "ORDER BY application, notification_id, id"
    ).format(sql.Identifier(schema))
    return [_checkpoint_from_row(r) for r in conn.execute(query, {"app": application})]


def record_checkpoint(
    conn: Connection[Any], signed: SignedCheckpoint, schema: str = AUDIT_SCHEMA
) -> None:
    c = signed.checkpoint
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.checkpoints (application, notification_id, chain_sha256, "
            "created_at, public_key, signature) VALUES (%s, %s, %s, %s, %s, %s)"
        ).format(sql.Identifier(schema)),
        (c.application, c.notification_id, c.chain_sha256, c.created_at, signed.public_key,
         signed.signature),
    )


def make_checkpoints(
    conn: Connection[Any],
    key: Ed25519PrivateKey,
    now: datetime,
    applications: Iterable[str] = APPLICATIONS,
    schema: str = AUDIT_SCHEMA,
    force: bool = False,
    ensure_tables: bool = True,
) -> list[SignedCheckpoint]:
    """Sign and store a checkpoint of each application's chain head; a head that this key
    has already signed is skipped unless ``force``. Returns the new checkpoints."""
    if ensure_tables:
        create_audit_tables(conn, schema)
    public = public_key_bytes(key)
    made = []
    for application in applications:
        head = read_head(conn, application, schema)
        if head.notification_id == 0:
            continue
        already = conn.execute(
            sql.SQL(
                "SELECT 1 FROM {}.checkpoints WHERE application = %s AND notification_id = %s "
                "AND chain_sha256 = %s AND public_key = %s"
            ).format(sql.Identifier(schema)),
            (application, head.notification_id, head.chain_sha256, public),
        ).fetchone() is not None
        if already and not force:
            continue
        signed = sign(Checkpoint(application, head.notification_id, head.chain_sha256, now), key)
        record_checkpoint(conn, signed, schema)
        made.append(signed)
    return made


# --- verification ----------------------------------------------------------------------------


Progress = Callable[[str, int, int], None]  # (application, notification id reached, of)


@dataclass(frozen=True)
class CheckpointJudgement:
    """A signed checkpoint after its signature and key were checked."""

    signed: SignedCheckpoint
    source: str  # "stored" or the export file's name
    problem: str = ""  # empty: usable

    @property
    def label(self) -> str:
        c = self.signed.checkpoint
        return (f"the {self.source} checkpoint of {c.created_at:%Y-%m-%d %H:%M:%SZ} "
                f"(key {self.signed.key_id})")


def judge_checkpoints(
    checkpoints: Iterable[SignedCheckpoint], source: str, trusted: set[bytes] | None
) -> list[CheckpointJudgement]:
    """Check each signature, and the key against ``trusted`` (None: any key)."""
    judged = []
    for signed in checkpoints:
        problem = ""
        if not signed.signature_valid():
            problem = "its signature does not verify"
        elif trusted is not None and signed.public_key not in trusted:
            problem = f"it is signed by key {key_id(signed.public_key)}, which is not trusted"
        judged.append(CheckpointJudgement(signed, source, problem))
    return judged


def verify_log(
    conninfo: str,
    log: EventLog,
    checkpoints: Sequence[CheckpointJudgement] = (),
    schema: str = AUDIT_SCHEMA,
    progress: Progress | None = None,
    fetch_size: int = 20_000,
) -> ChainReport:
    """Recompute ``log``'s chain from its stored events and compare it with the chain rows,
    the head and ``checkpoints`` (already judged), in one consistent snapshot."""
    with psycopg.connect(conninfo) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            head = _head_if_any(conn, log.application, schema)
            mine = [j for j in checkpoints if j.signed.checkpoint.application == log.application]
            refs = [
                CheckpointRef(j.signed.checkpoint.notification_id,
                              j.signed.checkpoint.chain_sha256, j.label)
                for j in mine if not j.problem
            ]
            has_events = log.exists(conn)
            has_chain = head is not None
            bound = max(
                [head.notification_id if head else 0]
                + [r.notification_id for r in refs]
                + [_max_chained(conn, log.application, schema) if has_chain else 0]
            )
            walk = ChainWalk(
                log.application,
                head.notification_id if head else 0,
                head.chain_sha256 if head else None,
                refs,
                progress=(lambda nid: progress(log.application, nid, bound)) if progress else None,
            )
            if progress is not None:
                progress(log.application, 0, bound)
            for j in mine:
                if j.problem:
                    walk.add(Break(log.application, j.signed.checkpoint.notification_id,
                                    BreakKind.CHECKPOINT, f"{j.label}: {j.problem}"))
            with (
                conn.cursor("audit_events", binary=True) as events,
                conn.cursor("audit_chain", binary=True) as chain,
            ):
                events.itersize = chain.itersize = fetch_size
                event_rows: Iterable[tuple[Any, ...]] = ()
                chain_rows: Iterable[tuple[Any, ...]] = ()
                if has_events:
                    events.execute(
                        sql.SQL(
                            "SELECT notification_id, uuid_send(originator_id), "
                            "originator_version, topic, state FROM {} "
                            "WHERE notification_id <= %s ORDER BY notification_id"
                        ).format(log.identifier),
                        (bound,),
                    )
                    event_rows = events
                if has_chain:
                    chain.execute(
                        sql.SQL(
                            "SELECT notification_id, uuid_send(originator_id), "
                            "originator_version, topic, event_sha256, chain_sha256 "
                            "FROM {}.chain WHERE application = %s ORDER BY notification_id"
                        ).format(sql.Identifier(schema)),
                        (log.application,),
                    )
                    chain_rows = chain
                report = walk.run(event_rows, chain_rows)
            if has_events:
                report.unchained += _count_after(conn, log, bound)
    return report


def _table_exists(conn: Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{table}"',)
    ).fetchone()
    return bool(row and row[0])


def _head_if_any(conn: Connection[Any], application: str, schema: str) -> Head | None:
    if not _table_exists(conn, schema, "chain_head"):
        return None
    head = read_head(conn, application, schema)
    return head if head.notification_id else None


def _max_chained(conn: Connection[Any], application: str, schema: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT max(notification_id) FROM {}.chain WHERE application = %s")
        .format(sql.Identifier(schema)),
        (application,),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _count_after(conn: Connection[Any], log: EventLog, bound: int) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE notification_id > %s").format(log.identifier),
        (bound,),
    ).fetchone()
    return int(row[0]) if row else 0


def max_notification_id(conn: Connection[Any], log: EventLog) -> int:
    if not log.exists(conn):
        return 0
    row = conn.execute(sql.SQL("SELECT max(notification_id) FROM {}").format(log.identifier))
    found = row.fetchone()
    return int(found[0]) if found and found[0] is not None else 0
