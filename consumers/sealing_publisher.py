"""An intake publisher that seals the citizen's contact before handing the submission on.

Wraps the Kafka or in-process publisher of the web process, so every channel (QR form,
hotline, API, Open311, Zalo, kiosks, paper cards) publishes sealed contacts without each
knowing about it: the intake topic ``feedback.intake.v1`` carries no contact in clear
(docs/privacy.md).
"""

from __future__ import annotations

import anyio

from consumers.publisher import IntakePublisher
from feedback_core.intake import IntakeSubmission
from feedback_core.privacy.submissions import has_clear_contact, seal_submission
from feedback_core.privacy.vault import PersonalDataVault


class SealingIntakePublisher:
    def __init__(self, inner: IntakePublisher, vault: PersonalDataVault) -> None:
        self.inner = inner
        self.vault = vault

    async def start(self) -> None:
        await self.inner.start()

    async def publish(self, submission: IntakeSubmission) -> None:
        if has_clear_contact(submission):  # most carry none: no worker-thread hop for them
            submission = await anyio.to_thread.run_sync(seal_submission, self.vault, submission)
        await self.inner.publish(submission)

    async def stop(self) -> None:
        await self.inner.stop()

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "contacts": "sealed"}


def sealing(publisher: IntakePublisher, vault: PersonalDataVault | None) -> IntakePublisher:
    """``publisher`` sealing contacts with ``vault``; as it is without a vault (in-memory
    tests) or when it already seals."""
    if vault is None or isinstance(publisher, SealingIntakePublisher):
        return publisher
    return SealingIntakePublisher(publisher, vault)
