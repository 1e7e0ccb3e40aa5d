"""Long-running services: the web app, the intake consumer, the projection runner."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import textwrap
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn
from faststream import FastStream

from consumers.intake_consumer import ConsumerOptions, build_intake_broker
from consumers.outages import wait_for_broker
from consumers.publisher import IntakePublisher, publish_all
from consumers.sealing_publisher import sealing
from feedback_cli.demo_data import demo_submissions
from feedback_cli.health import HealthProbe
from feedback_cli.wiring import make_publisher, open_organisation, resolve_database
from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication, open_calendar_application
from feedback_core.devices import DevicesApplication
from feedback_core.handling import CaseDesk
from feedback_core.inspections import InspectionsApplication
from feedback_core.legal_clock import DEFAULT_RULES
from feedback_core.organisation import Organisation
from feedback_core.privacy.postgres import open_vault
from feedback_core.qr_codes import QrCodesApplication, keyring_from_config
from feedback_core.settings import Settings
from feedback_core.store import (
    Database,
    open_application,
    open_cases_application,
    wait_for_database,
)
from projections.as_of import daily_verification
from projections.case_views import CaseViews
from projections.figures_runner import figures_beside
from projections.queries import ViewQueries
from projections.runner import BatchedProjectionRunner

if TYPE_CHECKING:
    from fastapi import FastAPI

    from feedback_cli.demo.populate import Report as DemoReport
    from web.services import WebServices

log = logging.getLogger(__name__)


@dataclass
class Core:
    db: Database
    app: CasesApplication
    calendar: CalendarApplication


@contextmanager
def open_core(settings: Settings, wait: bool = False) -> Iterator[Core]:
    """The event-sourced applications of the platform, on one database; with ``wait``
    (the long-running consumer and projections), first wait for PostgreSQL to answer."""
    db = resolve_database(settings)
    if wait:
        wait_for_database(db)
    calendar = open_calendar_application(db)
    vault = open_vault(db.conninfo, settings.personal_data_master)
    app = open_cases_application(db, calendar=calendar.calendar, personal_data=vault)
    try:
        yield Core(db, app, calendar)
    finally:
        app.close()
        calendar.close()


def projection_runner(settings: Settings, core: Core) -> BatchedProjectionRunner:
    return BatchedProjectionRunner(core.app, core.db.conninfo, CaseViews(), settings.views_schema)


@contextmanager
def projection_thread(settings: Settings, core: Core) -> Iterator[BatchedProjectionRunner]:
    """The projection runner in a background thread of this process."""
    runner = projection_runner(settings, core)
    thread = threading.Thread(target=runner.run_forever, name="projections", daemon=True)
    thread.start()
    try:
        with (
            figures_beside(core.app, core.db.conninfo, settings.views_schema),
            daily_verification(core.app, core.db.conninfo),  # yesterday checked by replay
        ):
            yield runner
    finally:
        runner.stop()
        thread.join(timeout=5)
        runner.close()


def open_qr_codes(db: Database) -> QrCodesApplication:
    """The counters' QR codes (table ``qrcodes_events``, a small pool); the caller closes it."""
    return open_application(
        db, lambda env: QrCodesApplication(env={**env, "POSTGRES_POOL_SIZE": "2"})
    )


def open_devices(db: Database) -> DevicesApplication:
    """Counter kiosks and paper-card batches (table ``devices_events``, a small pool)."""
    return open_application(
        db, lambda env: DevicesApplication(env={**env, "POSTGRES_POOL_SIZE": "2"})
    )


def open_inspections(db: Database) -> InspectionsApplication:
    """The inspectors' recorded views (table ``inspections_events``, a small pool)."""
    return open_application(
        db, lambda env: InspectionsApplication(env={**env, "POSTGRES_POOL_SIZE": "2"})
    )


def build_web(settings: Settings, core: Core, publisher: IntakePublisher) -> WebServices:
    """The web app's services. The organisation and QR codes applications opened here (for
    the admin pages, the second factor and the QR pages) are closed when the web app shuts
    down. The publisher seals the citizens' contacts before they reach the intake topic."""
    from feedback_cli.mergers import pass_cases_of_merged_units
    from feedback_core.api_clients import api_clients_from
    from feedback_core.org.directory import directory_as_of
    from web.media import PostgresPhotoStore
    from web.services import WebServices

    publisher = sealing(publisher, core.app.personal_data)
    org_app = open_organisation(settings, core.db)
    qr_codes: QrCodesApplication | None = None
    inspections: InspectionsApplication | None = None
    devices: DevicesApplication | None = None
    try:
        organisation = directory_as_of(org_app)
        clients_file = settings.api_clients_file.read_text(encoding="utf-8")
        api_clients = api_clients_from(json.loads(clients_file))  # Open311 and hotline keys
        keyring = keyring_from_config(settings.qr_keys, settings.secret)
        qr_codes = open_qr_codes(core.db)
        inspections = open_inspections(core.db)
        devices = open_devices(core.db)
        # A code in service for every open counter (idempotent: issues only where none is).
        qr_tokens = qr_codes.ensure_codes(
            [c.id for c in organisation.counters.values() if not c.closed], keyring,
            datetime.now(UTC), actor="system",
        )
        queries = ViewQueries(core.db.conninfo, settings.views_schema)
    except BaseException:
        if devices is not None:
            devices.close()
        if inspections is not None:
            inspections.close()
        if qr_codes is not None:
            qr_codes.close()
        org_app.close()
        raise
    services = WebServices(
        settings=settings,
        organisation=organisation,
        publisher=publisher,
        queries=queries,
        health=HealthProbe(settings, core.app, queries, publisher),
        org_app=org_app,
        calendar_app=core.calendar,
        pass_cases=lambda on: pass_cases_of_merged_units(
            core, org_app, settings.views_schema, on
        ),
        on_shutdown=[org_app.close, qr_codes.close, inspections.close, devices.close],
        api_clients=api_clients,
        qr_codes=qr_codes,
        qr_keyring=keyring,
        inspections=inspections,
        devices=devices,
        photos=PostgresPhotoStore(queries.pool),  # the read side's pool: a few small writes
    )
    services.remember_qr_tokens(qr_tokens)
    # The desk reads the directory the web holds now (admin changes replace it).
    services.desk = CaseDesk(
        core.app,
        scope_of=lambda actor: services.organisation.subtree(actor.unit_id),
        calendar=core.calendar.calendar,
        rules=DEFAULT_RULES,
        unit_exists=lambda unit: unit in services.organisation.units,
    )
    return services


class QuietServer(uvicorn.Server):
    """Stops on SIGINT/SIGTERM like uvicorn, without re-raising the signal afterwards, so
    Ctrl-C ends ``feedback run`` through the normal shutdown path and exit code 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """One place for how the web is served (one process or N workers). The access log is
    off unless asked for: its lines carry citizens' addresses and tracking codes."""
    return {
        "host": settings.host, "port": settings.port, "log_level": "info",
        "proxy_headers": True, "forwarded_allow_ips": settings.trusted_proxies,
        "access_log": settings.access_log,
    }


async def serve_web(settings: Settings, services: WebServices) -> None:
    from web.app import create_app

    config = uvicorn.Config(create_app(services), **uvicorn_options(settings))
    await QuietServer(config).serve()


def consumer_options(settings: Settings) -> ConsumerOptions:
    return ConsumerOptions(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.intake_topic,
        dlq_topic=settings.dlq_topic,
        group_id=settings.consumer_group,
        batch_size=settings.consumer_batch_size,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        crash_after_store=settings.crash_after_store,
    )


def run_consumer(settings: Settings) -> None:
    """``feedback consume``: the intake subscriber until SIGINT/SIGTERM."""
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("feedback consume needs KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092)")
    with open_core(settings, wait=True) as core:
        asyncio.run(_consume(settings, core))


async def _consume(settings: Settings, core: Core) -> None:
    """Started before Kafka (a reboot, ``feedback up``), the consumer waits for the broker
    instead of exiting; once running, aiokafka reconnects by itself after a broker restart."""
    options = consumer_options(settings)
    await wait_for_broker(options.bootstrap_servers)
    await FastStream(build_intake_broker(core.app, options)).run()


def run_projections(settings: Settings) -> None:
    """``feedback project``: the projection runner until SIGINT/SIGTERM."""
    with open_core(settings, wait=True) as core:
        runner = projection_runner(settings, core)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: runner.stop())
        try:
            with (
                figures_beside(core.app, core.db.conninfo, settings.views_schema),
                daily_verification(core.app, core.db.conninfo),  # yesterday checked by replay
            ):
                runner.run_forever()
        finally:
            runner.close()


def run_web(settings: Settings, workers: int = 1) -> None:
    """``feedback web [--workers N]``: the HTTP app alone (consumers and projections run
    elsewhere). With N > 1, uvicorn's supervisor runs N worker processes on one listening
    socket (a dead worker is replaced); each builds its app from the environment
    (``web_app_from_environment``), so settings reach them only as environment variables."""
    if workers <= 1:
        with open_core(settings) as core:
            services = build_web(settings, core, make_publisher(settings, core.app))
            follow_other_processes(services)
            asyncio.run(serve_web(settings, services))
        return
    prepare_web_workers(settings)
    uvicorn.run(WEB_APP_FACTORY, factory=True, workers=workers, **uvicorn_options(settings))


WEB_APP_FACTORY = "feedback_cli.services:web_app_from_environment"


def prepare_web_workers(settings: Settings) -> None:
    """What must happen once, not once per worker, before the workers start: the database
    (the embedded server started, its URL handed down), the secret key (the session cookies
    of one worker are read by the others), the tables, the organisation file loaded and a
    QR code for every counter (concurrent workers would race to issue the same first code)."""
    db = resolve_database(settings)
    os.environ["FEEDBACK_DATABASE_URL"] = db.url
    os.environ["FEEDBACK_SECRET_KEY"] = settings.secret.decode()
    with open_core(settings) as core:
        build_web(settings, core, make_publisher(settings, core.app)).shutdown()


def web_app_from_environment() -> FastAPI:
    """One web worker's app (uvicorn calls this in each worker process): the services of
    ``build_web`` on ``Settings()`` from the environment, closed when the app stops."""
    from feedback_cli.wiring import init_sentry
    from web.app import create_app

    settings = Settings()
    init_sentry(settings)
    resources = ExitStack()
    core = resources.enter_context(open_core(settings))
    try:
        services = build_web(settings, core, make_publisher(settings, core.app))
    except BaseException:
        resources.close()
        raise
    services.on_shutdown.insert(0, resources.close)  # run last: the core after the rest
    follow_other_processes(services)
    return create_app(services)


FOLLOW_SECONDS = 1.0


def follow_other_processes(services: WebServices, every: float = FOLLOW_SECONDS) -> None:
    """Keep this web process's in-memory copies in step with changes saved by other
    processes (another web worker's admin page, ``feedback org ...``, ``feedback qr ...``):
    a thread asks the organisation's and the QR codes' logs for their last position every
    ``every`` seconds and, when one moved, reads today's directory again or forgets the
    counters' QR tokens shown on the home page. Two cheap queries a second; stopped with
    the app. (The QR *checks* have their own bound: web.qr_cache.)"""
    stop = threading.Event()

    def positions() -> tuple[int, int]:
        org = services.org_app.recorder.max_notification_id() if services.org_app else 0
        qr = services.qr_codes.max_notification_id() if services.qr_codes else 0
        return org or 0, qr

    def follow() -> None:
        seen, failing = positions(), False
        while not stop.wait(every):
            try:
                now = positions()
                if now[0] != seen[0]:
                    services.refresh_organisation()
                if now[1] != seen[1]:
                    for counter_id in list(services.organisation.counters):
                        services.forget_qr_token(counter_id)
                seen, failing = now, False
            except Exception as exc:  # the database restarting: said once, tried again
                if not failing:
                    log.warning("following the organisation and QR logs: %s", exc)
                failing = True

    thread = threading.Thread(target=follow, name="follow-logs", daemon=True)
    thread.start()
    services.on_shutdown.append(stop.set)  # popped first: stops before the apps close


def run_all_in_one(settings: Settings, seed: bool = True) -> None:
    """``feedback run``: web, projections, the outbound publisher, the audit chain and (with
    Kafka) the consumer in one process; the notifier too when a channel is configured.

    The embedded PostgreSQL server is stopped on the way out when this command started it.
    """
    from feedback_cli.audit_commands import audit_thread
    from feedback_cli.notifications import notification_threads

    with (
        embedded_database_scope(settings),
        open_core(settings) as core,
        projection_thread(settings, core),
        notification_threads(settings, core),
        audit_thread(settings, core),
    ):
        if seed:  # before the web reads the organisation: the district adds wards and officers
            seed_district(settings, core)
        publisher = make_publisher(settings, core.app)
        services = build_web(settings, core, publisher)
        asyncio.run(_all_in_one(settings, core, services, seed))


@contextmanager
def embedded_database_scope(settings: Settings) -> Iterator[None]:
    if settings.database_url:
        yield
        return
    from infra import postgres

    was_running = postgres.is_running()
    try:
        yield
    finally:
        if not was_running:
            postgres.stop()


async def _all_in_one(settings: Settings, core: Core, services: WebServices, seed: bool) -> None:
    broker = None
    if settings.kafka_bootstrap_servers:
        broker = build_intake_broker(core.app, consumer_options(settings))
        await broker.start()
    try:
        if seed:
            await seed_demo(settings, core, services.organisation, with_district=False)
        print_welcome(settings, services)
        await serve_web(settings, services)
    finally:
        if broker is not None:
            await broker.stop()


async def seed_demo(
    settings: Settings, core: Core, organisation: Organisation, with_district: bool = True
) -> int:
    """Publish the demo submissions through the same path as the citizens', and (unless
    already done) store the small demo district (both idempotent)."""
    if with_district:
        await anyio.to_thread.run_sync(seed_district, settings, core)
    submissions = demo_submissions(organisation, datetime.now(UTC))
    publisher = sealing(make_publisher(settings, core.app), core.app.personal_data)
    await publish_all(publisher, submissions)
    return len(submissions)


def seed_district(settings: Settings, core: Core) -> DemoReport:
    """The small demo district (``feedback demo-district --scale small``), up to now:
    its wards and officers, a quarter of ratings and complaints, the handlers' steps."""
    from feedback_cli.demo.district import generate_district

    org_app = open_organisation(settings, core.db)
    try:
        report = generate_district(core.app, org_app, scale="small")
    finally:
        org_app.close()
    print(f"demo district: {report.line()}", flush=True)
    return report


def print_welcome(settings: Settings, services: WebServices) -> None:
    from feedback_cli.demo.organisation import added_logins
    from web.open311 import BASE_PATH, DEMO_API_KEY

    district_logins = added_logins()

    base = settings.public_base_url
    clients = services.api_clients
    demo_key = clients is not None and clients.authenticate(DEMO_API_KEY, "open311") is not None
    org = services.organisation
    handler_units = {a.unit_id for a in org.staff.values() if a.role == "handler"}
    first = next(c for u, _, c in org.iter_counters() if u.id in handler_units)
    lines = [
        "",
        "Phản ánh is running.",
        f"  Home page:            {base}/",
        f"  Demo citizen QR page: {base}/q/{services.qr_token_of(first.id)}"
        f"  ({first.name_vi})",
        f"  Staff login:          {base}/login",
        f"  Health:               {base}/healthz",
        f"  Open311 GeoReport v2: {base}{BASE_PATH}/  (discovery.json, docs/open311.md)",
        *([f"  Demo Open311 api_key: {DEMO_API_KEY}"] if demo_key else []),
        "  Demo logins (password demo-2026):",
        *(f"    {a.username:<22} {a.role:<8} {a.unit_id}" for a in org.staff.values()
          if a.username not in district_logins),
        *textwrap.wrap(", ".join(sorted(district_logins & set(org.staff))), width=92,
                       initial_indent="    and the demo district's handlers: ",
                       subsequent_indent="      "),
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
