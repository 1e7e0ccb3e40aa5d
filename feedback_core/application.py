"""The Cases application: the event store of ratings and cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding

from feedback_core.database_errors import DATABASE_OUTAGES
from feedback_core.intake import IntakeSubmission
from feedback_core.intake_service import created_events_for
from feedback_core.legal_clock import BusinessCalendar
from feedback_core.privacy.submissions import has_clear_contact
from feedback_core.privacy.vault import PersonalDataVault, Sealer


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class RecordResult:
    recorded: list[UUID]
    duplicates: list[UUID]
    # Submissions the store refuses for good (not an outage, not a duplicate), with the
    # reason: the consumer dead-letters them rather than re-delivering its batch forever.
    rejected: list[tuple[UUID, str]] = field(default_factory=list)


class CasesApplication(Application[UUID]):
    """Records intake submissions; ``name`` scopes its environment (``CASES_*``)."""

    name = "cases"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        calendar: Callable[[], BusinessCalendar] = BusinessCalendar,
        personal_data: PersonalDataVault | None = None,
    ):
        """``calendar`` gives the business calendar in force (decreed days included);
        ``personal_data`` seals the citizens' contact in the events (docs/privacy.md;
        without it, as in the in-memory tests, the contact is stored as given)."""
        super().__init__(env)
        self.calendar = calendar
        self.personal_data = personal_data

    def _sealer(self, submissions: Sequence[IntakeSubmission]) -> Sealer | None:
        """One key lookup for the batch: the subjects whose contact is still in clear.

        None (no lookup at all) when every contact was sealed at the edge already, as the
        web does: ``seal_contact`` keeps those as they are, so the keys are not needed."""
        if self.personal_data is None:
            return None
        subjects = [s.submission_id for s in submissions if has_clear_contact(s)]
        return self.personal_data.sealer(subjects) if subjects else None

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def save_events(self, events: Sequence[DomainEventProtocol[UUID]]) -> list[Recording[UUID]]:
        """``save(*events)`` for a list known to hold domain events only (no aggregates).

        ``Application.save`` sorts what it is given with two ``isinstance`` checks against
        runtime Protocols (``DomainEventProtocol``, ``CollectEventsProtocol``), which walk
        every attribute of the classes on each call: a fifth of the intake consumer's time
        in ``record_submissions`` (docs/benchmarks.md). This is ``save`` with the events put
        in the ``ProcessingEvent`` directly; the rest is the library's own: ``_record`` (one
        transaction, the recorder's NOTIFY), snapshots, ``_notify`` and the deprecated
        ``notify``, and the recordings returned.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events = list(events)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        return recordings

    def record_submissions(self, submissions: Sequence[IntakeSubmission]) -> RecordResult:
        """Store a batch in one transaction; a submission already stored is a duplicate.

        Re-delivery is expected (at-least-once intake), so an existing aggregate is not an
        error: the batch is retried one submission at a time to tell the new from the known.
        The store is given the created events, not the aggregates (``created_events_for``):
        the same rows, without building objects nobody reads.
        """
        unique = list({sub.submission_id: sub for sub in submissions}.values())
        calendar = self.calendar()  # one calendar (and one read of it) for the whole batch
        seal = self._sealer(unique)
        try:
            events = [e for sub in unique for e in created_events_for(sub, calendar, seal=seal)]
            self.save_events(events)
        except DATABASE_OUTAGES:
            raise  # the caller waits and tries the batch again
        except Exception:  # a duplicate, or a submission the store refuses: find which
            return self._record_one_by_one(unique, calendar, seal)
        return RecordResult(recorded=[sub.submission_id for sub in unique], duplicates=[])

    def _record_one_by_one(
        self,
        submissions: Sequence[IntakeSubmission],
        calendar: BusinessCalendar,
        seal: Sealer | None,
    ) -> RecordResult:
        # One submission per transaction, to tell the stored ones (IntegrityError) and the
        # refused ones (any other error but an outage) apart.
        result = RecordResult(recorded=[], duplicates=[])
        for sub in submissions:
            try:
                self.save_events(created_events_for(sub, calendar, seal=seal))
            except IntegrityError:
                result.duplicates.append(sub.submission_id)
            except DATABASE_OUTAGES:
                raise
            except Exception as exc:
                result.rejected.append((sub.submission_id, f"{type(exc).__name__}: {exc}"))
            else:
                result.recorded.append(sub.submission_id)
        return result
