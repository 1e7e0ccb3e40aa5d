"""Reconcile the Kafka intake topic with the event store (``feedback reconcile``).

Reads the intake topic from the beginning with kafka-python (no consumer group: every
partition assigned, sought to its first offset and read up to the end offsets taken at the
start), decodes each message as the intake consumer does, and checks that every submission
became its aggregates in the store: the Rating (``rating_id_for``) when the citizen rated,
the Case (``case_id_for``) when they complained, each with its version 1 stored.

- *missing*: published, not stored. Split by the core group's committed offsets into
  *pending* (the consumer has not committed past it yet) and *lost* (it has: a restored
  backup, offsets moved by hand, a bug). ``--redrive`` re-publishes them through the same
  publisher as the web; the core de-duplicates by identity, so re-driving is safe.
- *redelivered*: a submission id seen more than once in the topic (a retried POST, a
  re-published message): stored once, which is what the core guarantees. A submission
  cannot be stored twice: its aggregates' ids are functions of its id and the store refuses
  a second version 1 of an aggregate (primary key ``(originator_id, originator_version)``).
- *conflicting*: the same id published again with other content: the first one counts.
- *dead letters*: messages that do not decode, each of which the consumer must have put on
  the DLQ topic (its ``source`` header is ``topic/partition/offset``), and messages that
  decode but that the store refused for good (also on the DLQ, with the store's reason).
- *read models* (when the views schema exists): every Case stored is a row of
  ``case_queue`` and every stored submission a row of ``submission_status``, nothing more;
  a projection still behind the log explains absent rows (``behind``), nothing else does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from psycopg import sql

from consumers.publisher import KafkaIntakePublisher, publish_all_blocking
from feedback_core.identity import case_id_for, rating_id_for
from feedback_core.intake import IntakeError, IntakeSubmission, from_json

CHUNK = 10_000


class ReconcileError(RuntimeError):
    """The reconciliation cannot be done (unknown topic, broker unreachable, ...)."""


@dataclass(frozen=True)
class IntakeMessage:
    partition: int
    offset: int
    submission: IntakeSubmission | None
    error: str = ""

    @property
    def source(self) -> str:
        return f"{self.partition}/{self.offset}"


def expected_aggregates(sub: IntakeSubmission) -> list[UUID]:
    """The aggregates ``aggregates_for`` creates for ``sub`` (tested against it)."""
    ids = []
    if sub.rating is not None:
        ids.append(rating_id_for(sub.submission_id))
    if sub.has_complaint:
        ids.append(case_id_for(sub.submission_id))
    return ids


# --- reading Kafka -------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRange:
    partition: int
    first: int  # the earliest offset still held (retention may have deleted older ones)
    end: int  # the end offset when the reading started


def read_topic(
    bootstrap_servers: str, topic: str, idle_timeout_s: float = 30.0
) -> tuple[list[TopicRange], Iterator[Any]]:
    """The partitions' ranges and an iterator over every record up to the end offsets."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="feedback-reconcile",
        request_timeout_ms=30_000,
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ReconcileError(f"the topic {topic!r} does not exist on {bootstrap_servers}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        firsts = consumer.beginning_offsets(tps)
        ends = consumer.end_offsets(tps)
        consumer.seek_to_beginning(*tps)
    except BaseException:
        consumer.close()
        raise
    ranges = [TopicRange(tp.partition, firsts[tp], ends[tp]) for tp in tps]
    return ranges, _records(consumer, ends, idle_timeout_s)


def _records(
    consumer: KafkaConsumer, ends: dict[TopicPartition, int], idle_timeout_s: float
) -> Iterator[Any]:
    try:
        remaining = {tp for tp, end in ends.items() if consumer.position(tp) < end}
        last_progress = time.monotonic()
        while remaining:
            batch = consumer.poll(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > idle_timeout_s:
                raise ReconcileError(
                    f"no progress for {idle_timeout_s:.0f} s reading "
                    f"{', '.join(f'{tp.topic}/{tp.partition}' for tp in sorted(remaining))}"
                )
            remaining = {tp for tp in remaining if consumer.position(tp) < ends[tp]}
    finally:
        consumer.close()


def decode(records: Iterable[Any]) -> list[IntakeMessage]:
    messages = []
    for record in records:
        try:
            messages.append(IntakeMessage(record.partition, record.offset, from_json(record.value)))
        except IntakeError as exc:
            messages.append(IntakeMessage(record.partition, record.offset, None, str(exc)))
    return messages


def dead_letter_sources(bootstrap_servers: str, dlq_topic: str) -> set[str]:
    """The ``source`` headers (``topic/partition/offset``) of the dead-letter topic."""
    _, records = read_topic(bootstrap_servers, dlq_topic)
    sources = set()
    for record in records:
        for key, value in record.headers or ():
            if key == "source" and value is not None:
                sources.add(value.decode("utf-8", "replace"))
    return sources


def committed_offsets(bootstrap_servers: str, group_id: str, topic: str) -> dict[int, int]:
    """The core group's committed offset per partition (missing: nothing committed)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    try:
        offsets = admin.list_group_offsets(group_id).get(group_id, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()
            if tp.topic == topic and meta.offset >= 0}


# --- reading the store ---------------------------------------------------------------------


def stored_aggregates(conninfo: str, ids: Sequence[UUID], table: str = "cases_events") -> set[UUID]:
    """Which of ``ids`` have their version 1 in the event store."""
    found: set[UUID] = set()
    query = sql.SQL(
        "SELECT originator_id FROM {} WHERE originator_version = 1 AND originator_id = ANY(%s)"
    ).format(sql.Identifier(table))
    with psycopg.connect(conninfo) as conn:
        for start in range(0, len(ids), CHUNK):
            found.update(row[0] for row in conn.execute(query, (list(ids[start:start + CHUNK]),)))
    return found


def created_from_submissions(conninfo: str, table: str = "cases_events") -> set[UUID]:
    """Every Rating and Case created in the store (to find those no message explains)."""
    from eventsourcing.utils import get_topic

    from feedback_core.cases import Case
    from feedback_core.ratings import Rating

    topics = [get_topic(Rating.Given), get_topic(Case.Received)]
    query = sql.SQL(
        "SELECT originator_id FROM {} WHERE originator_version = 1 AND topic = ANY(%s)"
    ).format(sql.Identifier(table))
    with psycopg.connect(conninfo) as conn:
        return {row[0] for row in conn.execute(query, (topics,))}


# --- reading the read models ---------------------------------------------------------------


@dataclass(frozen=True)
class ViewsCheck:
    """The event store against the read models of the views schema."""

    schema: str
    cases_stored: int
    cases_in_views: int
    cases_missing: int  # stored, not in case_queue
    cases_unexplained: int  # in case_queue, not stored
    submissions_checked: int
    submissions_missing: int  # stored, not in submission_status
    behind: int  # notifications the case views have not applied yet

    @property
    def clean(self) -> bool:
        return not (self.cases_missing or self.cases_unexplained or self.submissions_missing)


def check_views(
    conninfo: str, schema: str, submission_ids: Sequence[UUID], table: str = "cases_events"
) -> ViewsCheck | None:
    """Compare the stored Cases and ``submission_ids`` with the views; None when the
    schema does not exist (no projection runs against this database)."""
    from eventsourcing.utils import get_topic

    from feedback_core.cases import Case

    received = get_topic(Case.Received)
    names = {"v": sql.Identifier(schema), "e": sql.Identifier(table)}
    with psycopg.connect(conninfo) as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if exists.fetchone() is None:
            return None
        stored, missing = conn.execute(sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE q.case_id IS NULL) FROM {e} e "
            "LEFT JOIN {v}.case_queue q ON q.case_id = e.originator_id "
            "WHERE e.originator_version = 1 AND e.topic = %s").format(**names),
            (received,)).fetchone() or (0, 0)
        in_views, unexplained = conn.execute(sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE e.originator_id IS NULL) "
            "FROM {v}.case_queue q LEFT JOIN {e} e "
            "ON e.originator_id = q.case_id AND e.originator_version = 1").format(**names),
        ).fetchone() or (0, 0)
        absent = 0
        for start in range(0, len(submission_ids), CHUNK):
            chunk = list(submission_ids[start:start + CHUNK])
            row = conn.execute(sql.SQL(
                "SELECT count(*) FROM unnest(%s::uuid[]) AS s(id) WHERE NOT EXISTS "
                "(SELECT 1 FROM {v}.submission_status t WHERE t.submission_id = s.id)"
            ).format(**names), (chunk,)).fetchone()
            absent += int(row[0]) if row else 0
        head = conn.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {e}")
                            .format(**names)).fetchone()
        position = conn.execute(sql.SQL(
            "SELECT coalesce(max(notification_id), 0) FROM {v}.projection_position"
        ).format(**names)).fetchone()
    behind = max(0, int(head[0] if head else 0) - int(position[0] if position else 0))
    return ViewsCheck(schema, int(stored), int(in_views), int(missing), int(unexplained),
                      len(submission_ids), absent, behind)


# --- the comparison (pure) -----------------------------------------------------------------


@dataclass
class Missing:
    message: IntakeMessage
    absent: list[UUID]  # the expected aggregates not in the store
    lost: bool  # the core group committed past it

    @property
    def partial(self) -> bool:
        assert self.message.submission is not None
        return len(self.absent) < len(expected_aggregates(self.message.submission))


@dataclass
class Reconciliation:
    topic: str
    ranges: list[TopicRange]
    messages: int = 0
    submissions: int = 0
    stored: int = 0
    missing: list[Missing] = field(default_factory=list)
    redelivered: dict[UUID, int] = field(default_factory=dict)
    conflicting: list[IntakeMessage] = field(default_factory=list)
    dead_letters: list[IntakeMessage] = field(default_factory=list)
    dead_letters_not_in_dlq: list[IntakeMessage] = field(default_factory=list)
    stored_without_message: int = 0
    views: ViewsCheck | None = None

    @property
    def clean(self) -> bool:
        views_clean = self.views is None or self.views.clean
        return not self.missing and not self.dead_letters_not_in_dlq and views_clean

    def stored_submission_ids(self, messages: Sequence[IntakeMessage]) -> list[UUID]:
        """The submissions of ``messages`` stored whole (those the views must show)."""
        absent = {m.message.submission.submission_id for m in self.missing
                  if m.message.submission is not None}
        absent |= {m.submission.submission_id for m in self.dead_letters if m.submission}
        return sorted({m.submission.submission_id for m in messages
                       if m.submission is not None} - absent)

    @property
    def lost(self) -> list[Missing]:
        return [m for m in self.missing if m.lost]

    @property
    def partial(self) -> list[Missing]:
        return [m for m in self.missing if m.partial]

    def to_redrive(self) -> list[IntakeSubmission]:
        """The missing submissions that re-publishing can repair: nothing of them stored
        (a partial one would be refused whole as a duplicate)."""
        return [m.message.submission for m in self.missing
                if m.message.submission is not None and not m.partial]

    def to_json(self) -> dict[str, Any]:
        def message(m: IntakeMessage) -> dict[str, Any]:
            sub = m.submission
            return {
                "partition": m.partition,
                "offset": m.offset,
                "submission_id": str(sub.submission_id) if sub else None,
                "unit_id": sub.unit_id if sub else None,
                "submitted_at": sub.submitted_at.isoformat() if sub else None,
                "error": m.error or None,
            }

        return {
            "topic": self.topic,
            "partitions": [vars(r) for r in self.ranges],
            "messages": self.messages,
            "submissions": self.submissions,
            "stored": self.stored,
            "missing": [{**message(m.message), "lost": m.lost, "partial": m.partial,
                         "absent": [str(i) for i in m.absent]} for m in self.missing],
            "redelivered": {str(k): v for k, v in self.redelivered.items()},
            "conflicting": [message(m) for m in self.conflicting],
            "dead_letters": [message(m) for m in self.dead_letters],
            "dead_letters_not_in_dlq": [message(m) for m in self.dead_letters_not_in_dlq],
            "stored_without_message": self.stored_without_message,
            "views": None if self.views is None else {**vars(self.views),
                                                      "clean": self.views.clean},
            "clean": self.clean,
        }


def compare(
    topic: str,
    ranges: list[TopicRange],
    messages: Sequence[IntakeMessage],
    stored: set[UUID],
    committed: dict[int, int],
    dead_letter_sources: set[str],
    created: set[UUID] | None = None,
) -> Reconciliation:
    """Compare decoded messages with the aggregates found in the store (pure)."""
    result = Reconciliation(topic, ranges, messages=len(messages))
    first: dict[UUID, IntakeMessage] = {}
    counts: dict[UUID, int] = {}
    sources: dict[UUID, set[str]] = {}
    for m in sorted(messages, key=lambda m: (m.partition, m.offset)):
        if m.submission is None:
            result.dead_letters.append(m)
            if f"{topic}/{m.partition}/{m.offset}" not in dead_letter_sources:
                result.dead_letters_not_in_dlq.append(m)
            continue
        sid = m.submission.submission_id
        counts[sid] = counts.get(sid, 0) + 1
        sources.setdefault(sid, set()).add(f"{topic}/{m.partition}/{m.offset}")
        if sid not in first:
            first[sid] = m
        elif m.submission != first[sid].submission:
            result.conflicting.append(m)
    result.submissions = len(first)
    result.redelivered = {sid: n for sid, n in counts.items() if n > 1}
    expected: set[UUID] = set()
    for m in first.values():
        assert m.submission is not None
        ids = expected_aggregates(m.submission)
        expected.update(ids)
        absent = [i for i in ids if i not in stored]
        if absent and sources[m.submission.submission_id] & dead_letter_sources:
            result.dead_letters.append(m)  # decoded, but refused by the store: dead-lettered
        elif absent:
            lost = m.offset < committed.get(m.partition, -1)
            result.missing.append(Missing(m, absent, lost))
        else:
            result.stored += 1
    if created is not None:
        result.stored_without_message = len(created - expected)
    return result


# --- the whole reconciliation --------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileOptions:
    bootstrap_servers: str
    conninfo: str
    topic: str = "feedback.intake.v1"
    dlq_topic: str = "feedback.intake.dlq.v1"
    group_id: str = "core"
    events_table: str = "cases_events"
    views_schema: str = ""  # empty: the read models are not checked


def reconcile(options: ReconcileOptions) -> Reconciliation:
    ranges, records = read_topic(options.bootstrap_servers, options.topic)
    messages = decode(records)
    ids = sorted({i for m in messages if m.submission for i in expected_aggregates(m.submission)})
    stored = stored_aggregates(options.conninfo, ids, options.events_table)
    # The dead-letter topic explains poison and submissions the store refused: read it then.
    unexplained = any(m.submission is None for m in messages) or any(i not in stored for i in ids)
    sources = dead_letter_sources(options.bootstrap_servers, options.dlq_topic) if unexplained \
        else set()
    result = compare(
        options.topic,
        ranges,
        messages,
        stored,
        committed_offsets(options.bootstrap_servers, options.group_id, options.topic),
        sources,
        created_from_submissions(options.conninfo, options.events_table),
    )
    if options.views_schema:
        result.views = check_views(options.conninfo, options.views_schema,
                                   result.stored_submission_ids(messages), options.events_table)
    return result


def redrive(options: ReconcileOptions, submissions: Sequence[IntakeSubmission]) -> int:
    """Re-publish ``submissions`` to the intake topic (the core stores each once)."""
    if submissions:
        publisher = KafkaIntakePublisher(options.bootstrap_servers, options.topic)
        publish_all_blocking(publisher, submissions)
    return len(submissions)
