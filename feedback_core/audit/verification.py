"""Walk the stored events beside the chain and name every broken link (pure: no I/O).

The walk merges two streams in notification order: the events as they are in the store now,
and the chain rows written when they were first seen. At each notification id:

- an event and a chain row: the recomputed event hash must equal the chained one, and the
  chain row must link to the previous one (``altered`` / ``chain-altered`` otherwise);
- a chain row without an event: ``deleted``;
- an event without a chain row, at or below the chain head: ``inserted`` (above the head it
  is simply not chained yet);
- any of those explained by an event (or an event's state) found at another chained
  position: ``reordered``.

Two running hashes are kept: the chain recomputed from the events alone (compared with the
signed checkpoints, which an intruder cannot re-sign) and the stored chain re-linked from the
row before, so that one break does not hide the next ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from feedback_core.audit.chain import GENESIS, EventHasher, _sha256

# A chain row: (notification_id, originator_id as 16 bytes, originator_version, topic,
# event_sha256, chain_sha256).
ChainRow = tuple[int, bytes, int, "str | None", bytes, bytes]

PROGRESS_EVERY = 16_384


class BreakKind(StrEnum):
    ALTERED = "altered"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    CHAIN_ALTERED = "chain-altered"
    CHECKPOINT = "checkpoint-mismatch"


@dataclass(frozen=True)
class Break:
    application: str
    notification_id: int
    kind: BreakKind
    detail: str

    def describe(self) -> str:
        return f"{self.application} #{self.notification_id}: {self.kind.value}: {self.detail}"


@dataclass(frozen=True)
class CheckpointRef:
    """A chain head that must be recomputed exactly: a signed checkpoint, stored or exported."""

    notification_id: int
    chain_sha256: bytes
    label: str


@dataclass
class ChainReport:
    application: str
    head_notification_id: int
    events: int = 0
    chain_rows: int = 0
    unchained: int = 0  # events after the chain head, not chained yet
    checkpoints_checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    breaks_found: int = 0  # all of them; ``breaks`` keeps the first ones
    recomputed_head: bytes = GENESIS

    @property
    def intact(self) -> bool:
        return self.breaks_found == 0

    @property
    def first_break(self) -> Break | None:
        return min(self.breaks, key=lambda b: b.notification_id) if self.breaks else None


@dataclass
class _Suspect:
    notification_id: int
    kind: BreakKind
    event: tuple[Any, ...] | None
    chained: tuple[Any, ...] | None


def _name(originator: bytes, version: int, topic: str | None) -> str:
    short = (topic or "?").rpartition(":")[2] or topic
    return f"{UUID(bytes=bytes(originator))} v{version} ({short})"


class ChainWalk:
    """One application's walk; ``run`` consumes both streams once."""

    def __init__(
        self,
        application: str,
        head_notification_id: int,
        head_sha256: bytes | None = None,
        checkpoints: Sequence[CheckpointRef] = (),
        keep: int = 100,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.application = application
        self.head_notification_id = head_notification_id
        self.head_sha256 = head_sha256
        self.checkpoints = sorted(checkpoints, key=lambda c: c.notification_id)
        self.keep = keep
        self.progress = progress
        self.report = ChainReport(application, head_notification_id)
        self._suspects: list[_Suspect] = []
        self._hasher = EventHasher()

    # --- the walk ------------------------------------------------------------------------

    def run(
        self, events: Iterable[tuple[Any, ...]], chain: Iterable[tuple[Any, ...]]
    ) -> ChainReport:
        report = self.report
        head = self.head_notification_id
        hasher = self._hasher
        sha = _sha256
        progress = self.progress
        checkpoints = self.checkpoints
        next_cp = checkpoints[0].notification_id if checkpoints else None
        cp_index = 0

        recomputed = GENESIS  # from the events alone
        linked = GENESIS  # the stored chain, re-linked row by row
        at_head = GENESIS
        last_chain_nid = 0
        n_events = n_chain = unchained = 0

        event_iter = iter(events)
        chain_iter = iter(chain)
        e: Any = next(event_iter, None)  # Any: the hot loop narrows by hand
        c: Any = next(chain_iter, None)
        steps = 0
        while e is not None or c is not None:
            nid = e[0] if c is None else c[0] if e is None else min(e[0], c[0])
            while next_cp is not None and next_cp < nid:
                self._check_checkpoint(checkpoints[cp_index], recomputed)
                cp_index += 1
                next_cp = (
                    checkpoints[cp_index].notification_id if cp_index < len(checkpoints) else None
                )
            steps += 1
            if progress is not None and steps % PROGRESS_EVERY == 0:
                progress(nid)
            if c is None or (e is not None and e[0] < c[0]):
                n_events += 1
                recomputed = sha(recomputed + hasher(e)).digest()
                if nid <= head:
                    self._suspect(nid, BreakKind.INSERTED, e, None)
                else:
                    unchained += 1
                e = next(event_iter, None)
            elif e is None or c[0] < e[0]:
                n_chain += 1
                last_chain_nid = nid
                self._suspect(nid, BreakKind.DELETED, None, c)
                linked = self._relink(linked, c)
                c = next(chain_iter, None)
            else:
                n_events += 1
                n_chain += 1
                last_chain_nid = nid
                digest = hasher(e)
                previous = recomputed
                recomputed = sha(previous + digest).digest()
                if digest != c[4]:
                    self._suspect(nid, BreakKind.ALTERED, e, c)
                    linked = self._relink(linked, c)
                else:
                    if linked == previous:  # in step: the recomputed link is the stored one
                        if recomputed != c[5]:
                            self._chain_row_altered(nid, "its chain hash is not the next link")
                        linked = c[5]
                    else:
                        linked = self._relink(linked, c)
                    if e[1] != c[1] or e[2] != c[2] or e[3] != c[3]:
                        self._chain_row_altered(nid, "its description differs from the event")
                e = next(event_iter, None)
                c = next(chain_iter, None)
            if nid <= head:
                at_head = recomputed
        for cp in checkpoints[cp_index:]:
            self._check_checkpoint(cp, recomputed)
        if progress is not None:
            progress(max(head, last_chain_nid))

        report.events, report.chain_rows, report.unchained = n_events, n_chain, unchained
        report.recomputed_head = at_head
        self._check_head(last_chain_nid, linked)
        self._classify()
        return report

    def _relink(self, linked: bytes, c: tuple[Any, ...]) -> bytes:
        """Check that chain row ``c`` links to the row before it; returns its stored hash."""
        if _sha256(linked + c[4]).digest() != c[5]:
            self._chain_row_altered(c[0], "its chain hash does not follow from the row before")
        return bytes(c[5])

    # --- findings ------------------------------------------------------------------------

    def add(self, found: Break) -> None:
        self.report.breaks_found += 1
        if len(self.report.breaks) < self.keep:
            self.report.breaks.append(found)

    def _suspect(
        self,
        nid: int,
        kind: BreakKind,
        event: tuple[Any, ...] | None,
        chained: tuple[Any, ...] | None,
    ) -> None:
        self.report.breaks_found += 1
        if len(self._suspects) < self.keep:
            self._suspects.append(_Suspect(nid, kind, event, chained))

    def _chain_row_altered(self, nid: int, why: str) -> None:
        self.add(Break(self.application, nid, BreakKind.CHAIN_ALTERED, f"chain row: {why}"))

    def _check_checkpoint(self, cp: CheckpointRef, recomputed: bytes) -> None:
        self.report.checkpoints_checked += 1
        if recomputed != cp.chain_sha256:
            self.add(Break(
                self.application, cp.notification_id, BreakKind.CHECKPOINT,
                f"the history up to #{cp.notification_id} is not the one {cp.label} signed "
                f"(recomputed {recomputed.hex()[:16]}…, signed {cp.chain_sha256.hex()[:16]}…)",
            ))

    def _check_head(self, last_chain_nid: int, linked: bytes) -> None:
        head_sha = self.head_sha256
        if head_sha is None:
            return
        if last_chain_nid != self.head_notification_id or linked != head_sha:
            self.add(Break(
                self.application, self.head_notification_id, BreakKind.CHAIN_ALTERED,
                f"the chain head (#{self.head_notification_id}) is not the last chain row "
                f"(#{last_chain_nid})",
            ))

    def _classify(self) -> None:
        """Name each suspect: reordered when another position explains it, else its kind."""
        for s in self._suspects:
            detail = self._reordering(s)
            if detail:
                kind = BreakKind.REORDERED
            elif s.kind is BreakKind.INSERTED:
                assert s.event is not None
                kind, detail = s.kind, (
                    f"{_name(*s.event[1:4])} is in the store below the chain head "
                    "but was never chained"
                )
            else:
                assert s.chained is not None
                what = _name(*s.chained[1:4])
                kind, detail = s.kind, (
                    f"{what}: its bytes differ from those chained" if s.kind is BreakKind.ALTERED
                    else f"{what} was chained here and is gone from the store"
                )
            self._keep(Break(self.application, s.notification_id, kind, detail))
        self.report.breaks.sort(key=lambda b: (b.notification_id, b.kind.value))

    def _reordering(self, s: _Suspect) -> str:
        """How another broken position explains this one, or "" when none does."""
        hasher = self._hasher
        here = s.notification_id
        others = [o for o in self._suspects if o.notification_id != here]
        if s.event is not None:
            rest = tuple(s.event[1:])
            for o in others:
                if o.chained is not None and hasher((o.notification_id, *rest)) == o.chained[4]:
                    return (f"the event chained at #{o.notification_id} "
                            f"({_name(*rest[:3])}) is now at #{here}")
        if s.chained is not None:
            c = s.chained
            what = _name(c[1], c[2], c[3])
            for o in others:
                if o.event is None:
                    continue
                if hasher((here, *o.event[1:])) == c[4]:
                    return f"the event chained here ({what}) is now at #{o.notification_id}"
                if hasher((here, c[1], c[2], c[3], o.event[4])) == c[4]:
                    return (f"the state chained here for {what} is now in the event "
                            f"at #{o.notification_id}")
        return ""

    def _keep(self, found: Break) -> None:
        if len(self.report.breaks) < self.keep:
            self.report.breaks.append(found)
