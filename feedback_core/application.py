"""The Cases application: the event store of ratings and cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from feedback_core.intake import IntakeSubmission
from feedback_core.intake_service import aggregates_for
from feedback_core.legal_clock import BusinessCalendar
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
        """One key lookup for the batch: the subjects that gave personal data."""
        if self.personal_data is None:
            return None
        subjects = [
            s.submission_id for s in submissions
            if s.contact_email or s.contact_phone or s.contact_zalo
        ]
        return self.personal_data.sealer(subjects)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def record_submissions(self, submissions: Sequence[IntakeSubmission]) -> RecordResult:
        """Store a batch in one transaction; a submission already stored is a duplicate.

        Re-delivery is expected (at-least-once intake), so an existing aggregate is not an
        error: the batch is retried one submission at a time to tell the new from the known.
        """
        unique = list({sub.submission_id: sub for sub in submissions}.values())
        calendar = self.calendar()
        seal = self._sealer(unique)
        try:
            self.save(*(agg for sub in unique for agg in aggregates_for(sub, calendar, seal=seal)))
        except IntegrityError:
            return self._record_one_by_one(unique, seal)
        return RecordResult(recorded=[sub.submission_id for sub in unique], duplicates=[])

    def _record_one_by_one(
        self, submissions: Sequence[IntakeSubmission], seal: Sealer | None
    ) -> RecordResult:
        # save() has collected the pending events of the failed batch: build them anew.
        recorded: list[UUID] = []
        duplicates: list[UUID] = []
        for sub in submissions:
            try:
                self.save(*aggregates_for(sub, self.calendar(), seal=seal))
            except IntegrityError:
                duplicates.append(sub.submission_id)
            else:
                recorded.append(sub.submission_id)
        return RecordResult(recorded=recorded, duplicates=duplicates)
