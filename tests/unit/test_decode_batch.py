from aiokafka import ConsumerRecord

from consumers.intake_consumer import decode_batch
from feedback_core.intake import to_json
from tests.unit.test_intake import submission


def record(value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t", partition=0, offset=offset, timestamp=0, timestamp_type=0, key=b"u",
        value=value, checksum=None, serialized_key_size=1, serialized_value_size=len(value),
        headers=(),
    )


def test_poison_messages_are_set_aside_not_dropped() -> None:
    good = submission()
    batch = decode_batch([record(to_json(good), 0), record(b"{broken", 1)])
    assert batch.submissions == [good]
    assert [r.offset for r, _ in batch.poison] == [1]
