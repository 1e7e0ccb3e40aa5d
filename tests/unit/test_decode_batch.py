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


def test_what_could_never_be_stored_is_poison_not_a_stalled_batch() -> None:
    """Each of these once decoded or failed outside ``IntakeError``: the batch then failed
    on every re-delivery (a lone surrogate is refused by the store's UTF-8 encoding)."""
    good = to_json(submission())
    poison = [
        b"[]",
        b"null",
        b'"text"',
        good.replace(b'"components":{}', b'"components":[1]'),
        good.replace(b'"description":"', b'"description":"\\ud800 '),
        good.replace(b'"latitude":null,"longitude":null', b'"latitude":NaN,"longitude":1.0'),
    ]
    assert all(p != good for p in poison[3:])
    batch = decode_batch([record(value, i) for i, value in enumerate([*poison, good])])
    assert [r.offset for r, _ in batch.poison] == list(range(len(poison)))
    assert all(error.code == "schema" for _, error in batch.poison)
    assert len(batch.submissions) == 1


def test_escaped_characters_outside_the_basic_plane_decode() -> None:
    sub = submission(description="Cảm ơn 🙏")
    escaped = to_json(sub).replace("🙏".encode(), b"\\ud83d\\ude4f")
    assert b"\\ud83d" in escaped
    assert decode_batch([record(escaped, 0)]).submissions == [sub]
