"""The verification walk on rows in memory: each kind of tampering is named at its link."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from feedback_core.audit.chain import chain_over, chain_rows
from feedback_core.audit.verification import BreakKind, ChainWalk, CheckpointRef

TOPIC = "feedback_core.cases:Case.Received"


def log(count: int = 20, gaps: tuple[int, ...] = (7,)) -> list[tuple[Any, ...]]:
    """Events 1..count+len(gaps) with the ids in ``gaps`` missing (rolled-back inserts)."""
    ids = [n for n in range(1, count + len(gaps) + 1) if n not in gaps]
    return [(n, uuid4().bytes, 1, TOPIC, f'{{"n":{n}}}'.encode()) for n in ids]


def walk(events: list[tuple[Any, ...]], chain: list[tuple[Any, ...]], **kw: Any) -> Any:
    head = chain[-1] if chain else None
    return ChainWalk(
        "cases", head[0] if head else 0, head[5] if head else None, **kw
    ).run(events, chain)


def test_an_untouched_log_is_intact_gaps_included() -> None:
    events = log()
    report = walk(events, chain_rows(events))
    assert report.intact and report.breaks == []
    assert report.events == report.chain_rows == 20
    assert report.recomputed_head == chain_over(events)


def test_events_after_the_head_are_pending_not_broken() -> None:
    events = log()
    report = walk(events, chain_rows(events[:15]))
    assert report.intact and report.unchained == 5


def only_break(report: Any) -> Any:
    assert not report.intact
    assert report.first_break is not None
    return report.first_break


def test_altered_state() -> None:
    events = log()
    chain = chain_rows(events)
    events[4] = (*events[4][:4], b'{"n":999}')
    found = only_break(walk(events, chain))
    assert (found.notification_id, found.kind) == (5, BreakKind.ALTERED)
    assert walk(events, chain).breaks_found == 1  # the chain is re-linked past the break


def test_deleted_event() -> None:
    events = log()
    chain = chain_rows(events)
    del events[10]
    found = only_break(walk(events, chain))
    assert (found.notification_id, found.kind) == (12, BreakKind.DELETED)


def test_inserted_into_a_gap() -> None:
    events = log()
    chain = chain_rows(events)
    forged = (7, uuid4().bytes, 1, TOPIC, b'{"forged":true}')
    events.insert(6, forged)
    found = only_break(walk(events, chain))
    assert (found.notification_id, found.kind) == (7, BreakKind.INSERTED)


def test_swapped_states_are_reordered() -> None:
    events = log()
    chain = chain_rows(events)
    a, b = events[2], events[14]
    events[2], events[14] = (*a[:4], b[4]), (*b[:4], a[4])
    report = walk(events, chain)
    assert [(x.notification_id, x.kind) for x in report.breaks] == [
        (3, BreakKind.REORDERED), (16, BreakKind.REORDERED)]
    assert "#16" in report.breaks[0].detail


def test_swapped_notification_ids_are_reordered() -> None:
    events = log()
    chain = chain_rows(events)
    a, b = events[1], events[2]
    events[1], events[2] = (a[0], *b[1:]), (b[0], *a[1:])
    report = walk(events, chain)
    assert [(x.notification_id, x.kind) for x in report.breaks] == [
        (2, BreakKind.REORDERED), (3, BreakKind.REORDERED)]


def test_an_event_moved_into_a_gap_is_reordered() -> None:
    events = log()
    chain = chain_rows(events)
    moved = events.pop(9)
    events.insert(6, (7, *moved[1:]))
    report = walk(events, chain)
    assert [(x.notification_id, x.kind) for x in report.breaks] == [
        (7, BreakKind.REORDERED), (11, BreakKind.REORDERED)]


def test_a_chain_row_altered_alone() -> None:
    events = log()
    chain = chain_rows(events)
    row = chain[8]
    chain[8] = (*row[:5], bytes(32))
    report = walk(events, chain)
    assert {b.kind for b in report.breaks} == {BreakKind.CHAIN_ALTERED}
    assert report.first_break.notification_id == 10  # index 8: id 7 is a gap


def test_a_rewritten_chain_is_caught_by_a_checkpoint() -> None:
    """An intruder alters an event and recomputes every chain row after it: the chain holds
    together, but the recomputed history no longer matches the signed head."""
    events = log()
    signed = CheckpointRef(events[-1][0], chain_over(events), "the test checkpoint")
    events[3] = (*events[3][:4], b'{"n":"rewritten"}')
    report = walk(events, chain_rows(events), checkpoints=[signed])
    found = only_break(report)
    assert (found.notification_id, found.kind) == (21, BreakKind.CHECKPOINT)
    assert report.checkpoints_checked == 1


def test_checkpoints_in_the_middle_and_truncation() -> None:
    events = log()
    chain = chain_rows(events)
    middle = CheckpointRef(10, chain_over(events[:9]), "middle")  # id 7 is a gap
    assert walk(events, chain, checkpoints=[middle]).intact
    truncated = walk(events[:15], chain[:15], checkpoints=[
        middle, CheckpointRef(21, chain_over(events), "end")])
    assert [(b.notification_id, b.kind) for b in truncated.breaks] == [
        (21, BreakKind.CHECKPOINT)]


@pytest.mark.parametrize("keep", [1, 3])
def test_many_breaks_are_counted_and_the_first_ones_kept(keep: int) -> None:
    events = log()
    chain = chain_rows(events)
    for i in range(0, 20, 2):
        events[i] = (*events[i][:4], b"x")
    report = walk(events, chain, keep=keep)
    assert report.breaks_found == 10
    assert len(report.breaks) == keep
    assert report.first_break.notification_id == 1


def test_progress_is_reported() -> None:
    events = log(40_000, gaps=())
    seen: list[int] = []
    assert walk(events, chain_rows(events), progress=seen.append).intact
    assert seen[-1] == 40_000 and len(seen) >= 2
