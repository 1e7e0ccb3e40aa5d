"""The /healthz report: event store, intake log and each projection's position and lag."""

from __future__ import annotations

from typing import Any

import anyio

from consumers.lag import consumer_lag
from consumers.publisher import IntakePublisher
from feedback_core.application import CasesApplication
from feedback_core.settings import Settings
from projections.queries import ViewQueries

PROJECTIONS = ("case_views", "case_figures")


class HealthProbe:
    def __init__(
        self,
        settings: Settings,
        app: CasesApplication,
        views: ViewQueries,
        publisher: IntakePublisher,
    ) -> None:
        self.settings = settings
        self.app = app
        self.views = views
        self.publisher = publisher

    async def __call__(self) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(self.collect)

    def collect(self) -> dict[str, Any]:
        store = self._event_store()
        return {
            "event_store": store,
            "log": self._log(),
            "projections": self._projections(store.get("max_notification_id") or 0),
        }

    def _event_store(self) -> dict[str, Any]:
        try:
            return {"ok": True, "max_notification_id": self.app.recorder.max_notification_id() or 0}
        except Exception as exc:  # a health check reports, it does not raise
            return {"ok": False, "error": type(exc).__name__}

    def _log(self) -> dict[str, Any]:
        report: dict[str, Any] = {"ok": True, **self.publisher.describe()}
        if not self.settings.kafka_bootstrap_servers:
            return report
        try:
            report["consumer"] = consumer_lag(
                self.settings.kafka_bootstrap_servers,
                self.settings.consumer_group,
                self.settings.intake_topic,
            )
        except Exception as exc:
            report.update(ok=False, error=type(exc).__name__)
        return report

    def _projections(self, head: int) -> dict[str, Any]:
        try:
            positions = self.views.positions()
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        report: dict[str, Any] = {"ok": True}
        for name in PROJECTIONS:
            position = positions.get(name, 0)
            report[name] = {"position": position, "lag": head - position}
        return report
