"""Citizens hear back: the outbound publisher and the notifier built from the settings —
``feedback outbound``, ``feedback notify``, and their threads in ``feedback run``.
The design and its guarantees: docs/notifications.md."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from faststream import FastStream
from faststream.kafka import KafkaBroker

from consumers.channels import (
    Channel,
    GatewaySettings,
    SmtpSettings,
    ZaloOaChannel,
    build_channels,
)
from consumers.notices import unit_names_from
from consumers.notifier import (
    DeliveryPolicy,
    InProcessNoticeSink,
    NoticeDelivery,
    NotifierOptions,
    build_notifier_broker,
)
from consumers.outbound import KafkaNoticeSink, NoticeSink, OutboundPublisher
from consumers.zalo_tokens import PostgresZaloTokens
from feedback_cli.services import Core, open_core
from feedback_cli.wiring import load_organisation
from feedback_core.settings import Settings
from feedback_core.zalo_config import load_zalo_oas

log = logging.getLogger(__name__)

NO_CHANNEL = (
    "no notification channel is configured: set FEEDBACK_SMTP_HOST (e-mail), "
    "FEEDBACK_SMS_GATEWAY_URL (SMS), FEEDBACK_ZALO_GATEWAY_URL (Zalo) or FEEDBACK_ZALO_OAS "
    "(the wards' Zalo OAs)"
)


def notification_channels(settings: Settings) -> list[Channel]:
    """The channels that have a configuration (none by default)."""
    return build_channels(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            username=settings.smtp_user,
            password=settings.smtp_password,
        ),
        GatewaySettings(
            url=settings.sms_gateway_url, api_key=settings.sms_api_key, sender=settings.sms_sender
        ),
        GatewaySettings(
            url=settings.zalo_gateway_url,
            api_key=settings.zalo_api_key,
            sender=settings.zalo_sender,
        ),
        load_zalo_oas(settings.zalo_oas),
    )


def notice_delivery(settings: Settings, core: Core, channels: Sequence[Channel]) -> NoticeDelivery:
    hours = settings.notify_max_age_hours
    organisation = load_organisation(settings)
    for channel in channels:  # the wards' OA tokens renew themselves in PostgreSQL
        if isinstance(channel, ZaloOaChannel) and channel.tokens is None:
            channel.tokens = PostgresZaloTokens(core.db.conninfo, settings.personal_data_master)
    return NoticeDelivery(
        core.db.conninfo,
        channels,
        settings.public_base_url,
        unit_name=unit_names_from(organisation.units),
        policy=DeliveryPolicy(
            attempts=settings.notify_attempts,
            backoff_s=settings.notify_backoff_s,
            max_age=timedelta(hours=hours) if hours > 0 else None,
        ),
        schema=settings.outbound_schema,
        personal_data=core.app.personal_data,
    )


def notifier_options(settings: Settings) -> NotifierOptions:
    return NotifierOptions(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.case_events_topic,
        group_id=settings.notifier_group,
        session_timeout_ms=settings.consumer_session_timeout_ms,
    )


def outbound_publisher(settings: Settings, core: Core, sink: NoticeSink) -> OutboundPublisher:
    return OutboundPublisher(core.app, core.db.conninfo, sink, schema=settings.outbound_schema)


def run_outbound(settings: Settings, start_from: str | None = None) -> None:
    """``feedback outbound``: the outbound publisher until SIGINT/SIGTERM; ``start_from``
    (a notification id, or "head") first sets its position."""
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("feedback outbound needs KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092)")
    if start_from not in (None, "head") and not str(start_from).isdigit():
        raise SystemExit(f"--from takes a notification id or 'head', not {start_from!r}")
    with open_core(settings) as core:
        sink = KafkaNoticeSink(settings.kafka_bootstrap_servers, settings.case_events_topic)
        publisher = outbound_publisher(settings, core, sink)
        if start_from == "head":
            log.info("outbound: position set to the head of the log, %d", publisher.reset_to_head())
        elif start_from is not None:
            publisher.reset(int(start_from))
            log.info("outbound: position set to %s", start_from)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: publisher.stop())
        try:
            publisher.run_forever()
        finally:
            publisher.close()


def run_notifier(settings: Settings) -> None:
    """``feedback notify``: the notifier (group "notifier") until SIGINT/SIGTERM."""
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("feedback notify needs KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092)")
    channels = notification_channels(settings)
    if not channels:
        raise SystemExit(f"feedback notify: {NO_CHANNEL}")
    with open_core(settings) as core:
        delivery = notice_delivery(settings, core, channels)
        broker = build_notifier_broker(delivery, notifier_options(settings))
        log.info("notifier: channels %s", ", ".join(c.name for c in channels))
        asyncio.run(_serve_notifier(broker, delivery))


async def _serve_notifier(broker: KafkaBroker, delivery: NoticeDelivery) -> None:
    try:
        await FastStream(broker).run()
    finally:
        await delivery.close()


@contextmanager
def notification_threads(settings: Settings, core: Core) -> Iterator[None]:
    """``feedback run``: the outbound publisher in a thread of this process. With Kafka it
    publishes to the topic, and with a channel the notifier reads it on an event loop of
    its own thread; without Kafka, with a channel, the publisher hands each page to the
    delivery in-process; with neither, nothing runs."""
    kafka = settings.kafka_bootstrap_servers
    channels = notification_channels(settings)
    if not (kafka or channels):
        yield
        return
    sink: NoticeSink = (
        KafkaNoticeSink(kafka, settings.case_events_topic)
        if kafka
        else InProcessNoticeSink(notice_delivery(settings, core, channels))
    )
    publisher = outbound_publisher(settings, core, sink)
    stop = threading.Event()
    threads = [
        threading.Thread(target=publisher.run_forever, args=(stop,), name="outbound", daemon=True)
    ]
    if kafka and channels:
        delivery = notice_delivery(settings, core, channels)
        options = notifier_options(settings)
        threads.append(threading.Thread(
            target=_notifier_until, args=(delivery, options, stop), name="notifier", daemon=True
        ))  # fmt: skip
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        publisher.close()


def _notifier_until(
    delivery: NoticeDelivery, options: NotifierOptions, stop: threading.Event
) -> None:
    async def serve() -> None:
        broker = build_notifier_broker(delivery, options)
        await broker.start()
        try:
            while not stop.is_set():
                await asyncio.sleep(0.2)
        finally:
            await broker.stop()
            await delivery.close()

    try:
        asyncio.run(serve())
    except Exception:
        log.exception("the notifier stopped")
