"""DDL of the view tables. Everything lives in one schema, tracking position included,
so a rebuild can write a fresh schema and swap it in whole."""

from __future__ import annotations

from psycopg import Connection, sql

TABLES = (
    "case_queue", "submission_status", "case_timeline", "open311_request", "projection_position",
    "case_queue_daily",
)
# Bump when the DDL changes: a schema of another version is dropped and replayed from zero
# (``create_views`` drops the whole schema, figures tables and positions included, so every
# projection in it replays). 5: ``case_queue_daily``.
VIEWS_VERSION = 5
# The statuses every open-case figure leaves out (``figures_queries``' OVERDUE_WHERE,
# HELD_OPEN_WHERE, ``open_breakdown``): the predicate of the history's partial index.
NOT_OPEN_STATUSES = ("refused", "closed", "withdrawn", "merged", "resolved")

_DDL = (
    """CREATE TABLE IF NOT EXISTS {schema}.case_queue (
        case_id uuid PRIMARY KEY,
        tracking_code text NOT NULL,
        unit_id text NOT NULL,
        office_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        category text NOT NULL,
        summary text NOT NULL,
        description text NOT NULL,
        status text NOT NULL,
        rating int,
        received_at timestamptz NOT NULL,
        due_on date NOT NULL,
        assignee text,
        pending_transfer text,
        escalated boolean NOT NULL DEFAULT false,
        waiting_since date,
        merged_into uuid,
        version int NOT NULL,
        updated_at timestamptz NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS case_queue_by_unit_due
        ON {schema}.case_queue (unit_id, due_on, received_at)""",
    """CREATE INDEX IF NOT EXISTS case_queue_by_assignee
        ON {schema}.case_queue (assignee, due_on) WHERE assignee IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS case_queue_by_transfer
        ON {schema}.case_queue (pending_transfer) WHERE pending_transfer IS NOT NULL""",
    # The handlers' queue pages (projections.queries.search_queue): open cases in due order,
    # per unit and across a scope of units; the predicate is the queries' _OPEN, verbatim.
    # The filter columns are included so that counting a filtered queue reads the index only.
    """CREATE INDEX IF NOT EXISTS case_queue_open_by_unit_due
        ON {schema}.case_queue (unit_id, due_on, received_at, case_id)
        INCLUDE (status, category, channel, assignee, waiting_since)
        WHERE status NOT IN ('refused', 'closed', 'withdrawn', 'merged')""",
    """CREATE INDEX IF NOT EXISTS case_queue_open_by_due
        ON {schema}.case_queue (due_on, received_at, case_id)
        WHERE status NOT IN ('refused', 'closed', 'withdrawn', 'merged')""",
    # The dashboard's open cases (projections.figures_queries.open_breakdown): those not
    # resolved yet, a few per cent of the table, read from the index alone.
    """CREATE INDEX IF NOT EXISTS case_queue_unresolved_by_unit
        ON {schema}.case_queue (unit_id)
        INCLUDE (channel, assignee, status, due_on, waiting_since)
        WHERE status NOT IN ('refused', 'closed', 'withdrawn', 'merged', 'resolved')""",
    # Open311's GET requests without a unit: the newest in a window of received_at.
    """CREATE INDEX IF NOT EXISTS case_queue_by_received
        ON {schema}.case_queue (received_at DESC)""",
    # Search in the citizen's words (ILIKE '%...%'): trigrams (pg_trgm, a trusted extension).
    """CREATE EXTENSION IF NOT EXISTS pg_trgm""",
    """CREATE INDEX IF NOT EXISTS case_queue_text_trgm
        ON {schema}.case_queue USING gin (description gin_trgm_ops)""",
    # The queue's history: the changing columns of each case at the end of every local day
    # (Asia/Ho_Chi_Minh) on which the store recorded an event of it, valid from that day
    # until the next version's (NULL while current). "As of D" reads the versions with
    # recorded_on <= D < valid_until, joined to case_queue for the columns a case keeps.
    """CREATE TABLE IF NOT EXISTS {schema}.case_queue_daily (
        case_id uuid NOT NULL,
        recorded_on date NOT NULL,
        valid_until date,
        unit_id text NOT NULL,
        status text NOT NULL,
        due_on date NOT NULL,
        assignee text,
        pending_transfer text,
        escalated boolean NOT NULL,
        waiting_since date,
        merged_into uuid,
        version int NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (case_id, recorded_on))""",
    # The open versions valid on a day: a range containment (``@>``) on a GiST index, as
    # cheap for a day 300 days back as for yesterday; only versions still open (a few per
    # case), the predicate every as-of open-case figure implies.
    """CREATE INDEX IF NOT EXISTS case_queue_daily_open
        ON {schema}.case_queue_daily USING gist (daterange(recorded_on, valid_until, '[)'))
        WHERE status NOT IN ('refused', 'closed', 'withdrawn', 'merged', 'resolved')""",
    """CREATE TABLE IF NOT EXISTS {schema}.case_timeline (
        case_id uuid NOT NULL,
        version int NOT NULL,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        actor text NOT NULL,
        actor_role text NOT NULL,
        actor_unit text NOT NULL,
        reason text NOT NULL,
        text text NOT NULL,
        public boolean NOT NULL,
        PRIMARY KEY (case_id, version))""",
    """CREATE TABLE IF NOT EXISTS {schema}.submission_status (
        tracking_code text PRIMARY KEY,
        submission_id uuid NOT NULL UNIQUE,
        case_id uuid,
        unit_id text NOT NULL,
        office_id text NOT NULL,
        counter_id text NOT NULL,
        channel text NOT NULL,
        rating int,
        category text,
        status text NOT NULL,
        received_at timestamptz NOT NULL,
        due_on date)""",
    # The case-views projection updates a submission's status by its case: without this
    # index each case event scanned the table (replay fell to ~400 events/s at 600 k events).
    # IF NOT EXISTS at every start gives an existing deployment the index with no replay.
    """CREATE INDEX IF NOT EXISTS submission_status_by_case
        ON {schema}.submission_status (case_id) WHERE case_id IS NOT NULL""",
    # Open311 (web/open311, docs/open311.md): the public id of every case (not the tracking
    # code, which stays the citizen's) and the place it is about, when a channel gave one.
    """CREATE TABLE IF NOT EXISTS {schema}.open311_request (
        case_id uuid PRIMARY KEY,
        service_request_id text NOT NULL UNIQUE,
        address text NOT NULL,
        latitude double precision,
        longitude double precision)""",
    """CREATE TABLE IF NOT EXISTS {schema}.projection_position (
        projection text PRIMARY KEY,
        notification_id bigint NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {schema}.meta (version int NOT NULL)""",
)


def _is_index(statement: str) -> bool:
    return statement.lstrip().startswith("CREATE INDEX")


def create_views(conn: Connection, schema: str, indexes: bool = True) -> None:
    """Create the schema and its tables if missing (idempotent); a schema made by another
    version of this module is dropped first, so the runner replays it from position zero.
    ``indexes=False`` leaves out the secondary indexes, for a bulk load into a fresh schema
    that builds them afterwards (``create_view_indexes``): one sort beats index upkeep."""
    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"views:{schema}",))
        if _version(conn, schema) not in (None, VIEWS_VERSION):
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(name))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        for statement in _DDL:
            if indexes or not _is_index(statement):
                conn.execute(sql.SQL(statement).format(schema=name))  # type: ignore[arg-type]
        meta = sql.SQL("{}.meta").format(name)
        if conn.execute(sql.SQL("SELECT 1 FROM {}").format(meta)).fetchone() is None:
            conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(meta), (VIEWS_VERSION,))


def create_view_indexes(conn: Connection, schema: str) -> None:
    """The secondary indexes ``create_views(..., indexes=False)`` left out (idempotent)."""
    for statement in view_index_statements(schema):
        conn.execute(statement)


def view_index_statements(schema: str) -> list[sql.Composed]:
    """The ``CREATE INDEX IF NOT EXISTS`` statements of ``create_view_indexes``, for a
    caller that spreads them over connections (the parallel rebuild)."""
    name = sql.Identifier(schema)
    return [sql.SQL(s).format(schema=name) for s in _DDL if _is_index(s)]  # type: ignore[arg-type]


def _version(conn: Connection, schema: str) -> int | None:
    """The version recorded in the schema; 1 for a schema from before versioning."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        )
    }
    if not tables:
        return None
    if "meta" not in tables:
        return 1
    row = conn.execute(sql.SQL("SELECT version FROM {}.meta").format(sql.Identifier(schema)))
    found = row.fetchone()
    return int(found[0]) if found else None
