"""An intake message the core cannot decode goes to the dead-letter topic, and the good
messages around it are stored: nothing accepted is dropped, nothing blocks the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, KafkaProducer

from consumers.reconcile import ReconcileOptions, reconcile
from feedback_core.identity import tracking_code_for
from feedback_core.intake import to_json
from feedback_core.settings import Settings
from tests.integration.helpers import group_lag, wait_until
from tests.support.platform import LivePlatform
from tests.unit.test_intake import submission

pytestmark = pytest.mark.integration


def dead_letters(settings: Settings, waiting_for: str) -> list[tuple[bytes, dict[str, bytes]]]:
    """What the dead-letter topic holds (value, headers) once the consumer has committed
    past everything sent to the intake topic."""
    bootstrap = settings.kafka_bootstrap_servers
    wait_until(
        lambda: group_lag(bootstrap, settings.consumer_group, settings.intake_topic) == 0,
        60, waiting_for,
    )
    consumer = KafkaConsumer(
        settings.dlq_topic, bootstrap_servers=bootstrap,
        auto_offset_reset="earliest", consumer_timeout_ms=5000,
    )
    try:
        return [(m.value, dict(m.headers)) for m in consumer]
    finally:
        consumer.close()


def test_poison_goes_to_the_dead_letter_topic(platform: LivePlatform) -> None:
    settings = platform.settings
    bootstrap = settings.kafka_bootstrap_servers
    good = submission()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value in (b"{not json", to_json(good), b'{"schema_version": 99}'):
        producer.send(settings.intake_topic, key=b"nhat-tan", value=value)
    producer.flush()
    producer.close()

    platform.wait_for_submission(tracking_code_for(good.submission_id))
    dead = dead_letters(settings, "the consumer to commit past the poison")
    assert sorted(v for v, _ in dead) == sorted([b"{not json", b'{"schema_version": 99}'])
    for _, headers in dead:
        assert headers["error"] and headers["source"].decode().startswith(settings.intake_topic)


def _envelope(**changes: object) -> bytes:
    """A complete intake event with some fields changed after encoding."""
    data = json.loads(to_json(submission()))
    data.update(changes)
    return json.dumps(data).encode()


def test_poison_of_every_kind_between_good_messages_on_one_partition(
    platform: LivePlatform,
) -> None:
    settings = platform.settings
    bootstrap = settings.kafka_bootstrap_servers
    goods = [submission() for _ in range(4)]
    poison = {
        b"\x00\xff not json at all": "malformed intake event",
        _envelope(schema_version=2): "unsupported schema_version 2",
        _envelope(rating=9): "rating must be an integer from 1 to 5",
    }
    interleaved = [to_json(goods[0])]
    for bad, good in zip(poison, goods[1:], strict=True):
        interleaved += [bad, to_json(good)]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent = [producer.send(settings.intake_topic, key=b"nhat-tan", value=v) for v in interleaved]
    producer.flush()
    producer.close()
    placed = [future.get(timeout=30) for future in sent]
    assert len({m.partition for m in placed}) == 1, "one key, one partition"
    partition = placed[0].partition

    for good in goods:  # the good ones after each poison message are stored too
        platform.wait_for_submission(tracking_code_for(good.submission_id))
    dead = {
        value: {k: v.decode() for k, v in headers.items()}
        for value, headers in dead_letters(settings, "the consumer to commit past every poison")
    }
    assert set(dead) == set(poison)
    offsets = {value: meta.offset for value, meta in zip(interleaved, placed, strict=True)}
    for value, reason in poison.items():
        assert reason in dead[value]["error"]
        assert dead[value]["source"] == f"{settings.intake_topic}/{partition}/{offsets[value]}"

    result = reconcile(ReconcileOptions(
        bootstrap, settings.database_url, settings.intake_topic, settings.dlq_topic,
        settings.consumer_group, views_schema=settings.views_schema,
    ))
    assert result.clean and result.stored == 4 and len(result.dead_letters) == 3
    assert not result.dead_letters_not_in_dlq
    assert result.views is not None and result.views.clean
    assert result.views.cases_in_views == 4 and result.views.submissions_checked == 4


def test_a_message_the_store_refuses_is_dead_lettered_not_redelivered_forever(
    platform: LivePlatform,
) -> None:
    """It decodes, but storing it fails for good (a complaint dated 31 Dec 9999: its legal
    deadline is past the last date there is): the batch would fail on every re-delivery and
    stall the partition. It is dead-lettered with the store's reason; the rest is stored."""
    settings = platform.settings
    bootstrap = settings.kafka_bootstrap_servers
    goods = [submission() for _ in range(3)]
    refused = to_json(submission(submitted_at=datetime(9999, 12, 31, tzinfo=UTC)))
    values = [to_json(goods[0]), refused, to_json(goods[1]), to_json(goods[2])]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent = [producer.send(settings.intake_topic, key=b"nhat-tan", value=v) for v in values]
    producer.flush()
    producer.close()
    placed = [future.get(timeout=30) for future in sent]

    for good in goods:
        platform.wait_for_submission(tracking_code_for(good.submission_id))
    dead = dead_letters(settings, "the consumer to commit past the refused message")
    assert [v for v, _ in dead] == [refused]
    headers = {k: v.decode() for k, v in dead[0][1].items()}
    assert headers["error"].startswith("refused by the store: OverflowError")
    assert headers["source"] == f"{settings.intake_topic}/{placed[1].partition}/{placed[1].offset}"

    result = reconcile(ReconcileOptions(
        bootstrap, settings.database_url, settings.intake_topic, settings.dlq_topic,
        settings.consumer_group, views_schema=settings.views_schema,
    ))
    assert result.clean and result.stored == 3 and len(result.dead_letters) == 1
