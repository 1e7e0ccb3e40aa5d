"""One settings object, read from the environment (documented in the README)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_ORGANISATION = Path(__file__).resolve().parent / "data" / "demo_organisation.json"
DEMO_API_CLIENTS = Path(__file__).resolve().parent / "data" / "demo_api_clients.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="",
        description="postgresql://user:password@host:port/dbname; empty = the embedded server",
    )
    kafka_bootstrap_servers: str = Field(
        default="",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        description="empty = hand submissions to the intake handler in-process",
    )
    sentry_dsn: str = Field(default="", validation_alias=AliasChoices("SENTRY_DSN"))
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "FEEDBACK_PORT"))
    host: str = "127.0.0.1"
    base_url: str = ""
    secret_key: str = ""
    local_dir: Path = PROJECT_ROOT / ".local"
    organisation_file: Path = DEMO_ORGANISATION
    api_clients_file: Path = DEMO_API_CLIENTS
    qr_keys: str = Field(
        default="",
        description="QR signing keys 'k2=secret;k1=old-secret@YYYY-MM-DD', newest first; "
        "empty = one key derived from the secret key",
    )
    deadline_rules_file: str = Field(
        default="",
        description="JSON deadline rules overriding (by code) or adding to the packaged "
        "feedback_core/data/deadline_rules.json; empty = the packaged rules only",
    )
    # Abuse limits on POST /q/{token}, counted in memory per web process (web.rate_limit).
    qr_posts_per_client_per_minute: int = Field(
        default=10, description="per client IP address; 0 = no limit"
    )
    qr_posts_per_token_per_minute: int = Field(
        default=60, description="per QR code (one counter); 0 = no limit"
    )
    intake_publish_timeout_s: float = Field(
        default=3.0,
        description="how long an intake waits for Kafka's acknowledgement before the sender "
        "is told to try again (503); the retry carries the same submission id",
    )
    # TLS: HSTS and Secure cookies follow the request's scheme (web.middleware).
    secure_cookies: bool = Field(
        default=False, description="mark cookies Secure even on a plain-HTTP request (a TLS "
        "proxy that sends no X-Forwarded-Proto)",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1", description="addresses whose X-Forwarded-Proto/-For are believed "
        "(uvicorn's forwarded_allow_ips); comma-separated, '*' = any, '' = none",
    )
    access_log: bool = Field(
        default=False, description="uvicorn's access log; off by default: its lines carry "
        "citizens' IP addresses and paths with tracking codes (docs/security.md)",
    )
    intake_topic: str = "feedback.intake.v1"
    dlq_topic: str = "feedback.intake.dlq.v1"
    consumer_group: str = "core"
    consumer_batch_size: int = 2000
    consumer_session_timeout_ms: int = 10_000
    views_schema: str = "views"
    # Citizens hear back (docs/notifications.md): the outbound publisher and the notifier.
    case_events_topic: str = "feedback.case-events.v1"
    outbound_schema: str = "outbound"
    notifier_group: str = "notifier"
    notify_attempts: int = 3
    notify_backoff_s: float = 2.0
    notify_max_age_hours: float = Field(
        default=168.0, description="older notices are recorded as expired, not sent; 0 = any"
    )
    smtp_host: str = Field(default="", description="empty = no e-mail channel")
    smtp_port: int = 587
    smtp_from: str = "Phản ánh <no-reply@localhost>"
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    sms_gateway_url: str = Field(default="", description="empty = no SMS channel")
    sms_api_key: str = ""
    sms_sender: str = ""
    zalo_gateway_url: str = Field(default="", description="empty = no Zalo channel")
    zalo_api_key: str = ""
    zalo_sender: str = ""
    # The wards' Zalo Official Accounts (docs/zalo.md): webhook intake and answers.
    zalo_oas: str = Field(
        default="",
        description="the wards' Zalo OAs: a JSON list, or the path of a JSON file holding "
        "it (feedback_core.zalo_config); empty = no Zalo OA",
    )
    zalo_webhook_max_age_s: int = Field(
        default=300, description="webhook events older (or further ahead) than this: refused"
    )
    # Tamper evidence (docs/audit.md): the chain's signed checkpoints.
    audit_signing_key: str = Field(
        default="",
        description="Ed25519 private key signing the audit checkpoints: PEM (PKCS#8) or "
        "base64 of the 32-byte seed; empty = generated into the local folder (demo runs)",
    )
    audit_trusted_keys: str = Field(
        default="",
        description="earlier checkpoint public keys still trusted (base64, comma-separated)",
    )
    audit_checkpoint_minutes: float = 60.0
    # Citizens' personal data in events (docs/privacy.md).
    personal_data_key: str = Field(
        default="",
        description="master key wrapping the per-subject data keys: base64 of 32 bytes; "
        "empty = generated into the local folder (demo runs)",
    )
    crash_after_store: bool = Field(
        default=False,
        description="fault injection for tests: exit after storing a batch, before the commit",
    )

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @cached_property
    def secret(self) -> bytes:
        """FEEDBACK_SECRET_KEY, or a key generated once under the local folder (demo runs)."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.local_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @cached_property
    def personal_data_master(self) -> bytes:
        """FEEDBACK_PERSONAL_DATA_KEY, or a key generated once under the local folder."""
        from feedback_core.privacy.postgres import master_key_from

        return master_key_from(self.personal_data_key, self.local_dir)
