"""Build the platform's parts from the settings: database, organisation, publisher."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from consumers.publisher import InProcessIntakePublisher, IntakePublisher, KafkaIntakePublisher
from feedback_core.application import CasesApplication
from feedback_core.organisation import Organisation
from feedback_core.settings import Settings
from feedback_core.store import Database

if TYPE_CHECKING:
    from feedback_core.org.application import OrganisationApplication

log = logging.getLogger(__name__)


def resolve_database(settings: Settings) -> Database:
    """FEEDBACK_DATABASE_URL, or the embedded PostgreSQL server (started if needed)."""
    if settings.database_url:
        return Database.from_url(settings.database_url)
    from infra import postgres

    params = postgres.ensure_running()
    return Database(
        host=str(params["host"]),
        port=int(params["port"]),
        user=str(params["user"]),
        password=str(params["password"]),
        dbname=str(params["dbname"]),
    )


def load_organisation(settings: Settings) -> Organisation:
    """Today's organisation from its event store, after loading the organisation file
    (idempotent: only what is missing is created). Read once at start."""
    from feedback_core.org.directory import directory_as_of

    app = open_organisation(settings, resolve_database(settings))
    try:
        return directory_as_of(app)
    finally:
        app.close()


def open_organisation(settings: Settings, db: Database) -> OrganisationApplication:
    """The organisation application on ``db`` (a small pool: the web's admin pages write to
    it now and then), after loading the organisation file (idempotent). The caller closes it."""
    from feedback_core.org.application import OrganisationApplication
    from feedback_core.org.loading import load_organisation_file
    from feedback_core.privacy.staff_secrets import StaffSecretBox
    from feedback_core.store import open_application

    box = StaffSecretBox(settings.personal_data_master)  # seals TOTP secrets (privacy.md)
    app = open_application(
        db,
        lambda env: OrganisationApplication(
            env={**env, "POSTGRES_POOL_SIZE": "2"}, staff_secrets=box
        ),
    )
    try:
        load_organisation_file(app, settings.organisation_file)
    except BaseException:
        app.close()
        raise
    return app


def make_publisher(settings: Settings, app: CasesApplication) -> IntakePublisher:
    if settings.kafka_bootstrap_servers:
        return KafkaIntakePublisher(
            settings.kafka_bootstrap_servers, settings.intake_topic,
            timeout_s=settings.intake_publish_timeout_s,
        )
    return InProcessIntakePublisher(app)


def init_sentry(settings: Settings, transport: Any = None) -> None:
    """Error reporting, without citizens' personal data: no default PII, no local variables
    in stack frames (they hold forms and submissions), and every event, breadcrumb and log
    scrubbed before it leaves (``feedback_cli.scrubbing``). ``transport`` replaces the
    network (tests keep the envelopes)."""
    if not settings.sentry_dsn:
        return
    import sentry_sdk

    from feedback_cli.scrubbing import scrub_breadcrumb, scrub_event

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        transport=transport,
    )
    log.info("Sentry error reporting is on")
