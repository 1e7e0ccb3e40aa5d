"""The whole platform in a background thread: web on a free port, the Kafka intake
consumer and the projection runner, wired exactly as ``feedback run`` wires them."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from consumers.intake_consumer import build_intake_broker
from feedback_cli.services import Core, build_web, consumer_options, projection_thread
from feedback_cli.wiring import make_publisher
from feedback_core.calendar_app import open_calendar_application
from feedback_core.settings import Settings
from feedback_core.store import Database, open_cases_application
from projections.queries import ViewQueries
from web.app import create_app
from web.services import WebServices


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings(db: Database, bootstrap: str, topic: str, dlq: str, local: Path) -> Settings:
    return Settings(
        database_url=db.url,
        kafka_bootstrap_servers=bootstrap,
        intake_topic=topic,
        dlq_topic=dlq,
        consumer_group=f"core-{topic}",
        consumer_session_timeout_ms=6000,
        port=free_port(),
        secret_key="integration-test-secret",
        local_dir=local,
    )


class LivePlatform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database.from_url(settings.database_url)
        calendar = open_calendar_application(self.db)
        self.core = Core(self.db, open_cases_application(self.db, calendar.calendar), calendar)
        self.services: WebServices = build_web(
            settings, self.core, make_publisher(settings, self.core.app)
        )
        self.base_url = settings.public_base_url
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="platform", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    async def _serve(self) -> None:
        broker = build_intake_broker(self.core.app, consumer_options(self.settings))
        await broker.start()
        config = uvicorn.Config(
            create_app(self.services),
            host="127.0.0.1",
            port=self.settings.port,
            log_level="warning",
        )
        self._server = uvicorn.Server(config)
        try:
            with projection_thread(self.settings, self.core):
                await self._server.serve()
        finally:
            await broker.stop()

    def start(self, timeout: float = 60) -> LivePlatform:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._error:
                raise RuntimeError("the platform failed to start") from self._error
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code < 600:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise TimeoutError(f"the platform did not answer on {self.base_url} in {timeout} s")

    def wait_for_submission(self, code: str, timeout: float = 60) -> None:
        """Wait until the consumer and the projection have both seen a submission."""
        deadline = time.monotonic() + timeout
        while self.services.queries.submission(code) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"submission {code} did not reach the views in {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        self._thread.join(timeout=30)
        queries = self.services.queries
        if isinstance(queries, ViewQueries):
            queries.close()
        self.core.app.close()
        self.core.calendar.close()
