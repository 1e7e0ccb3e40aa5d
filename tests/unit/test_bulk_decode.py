"""The rebuild's decoder gives the library mapper's event for the shapes the mapper can
store, leaves the others to the library (same result, same error), and the reader thread
hands its items and its errors to the consumer."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from feedback_core.application import CasesApplication, DateAsISO
from feedback_core.ratings import Rating
from projections.bulk_decode import BulkDecoder, uuid_from_hex
from projections.rebuild import prefetched


class Sample(Aggregate):
    class Made(Aggregate.Created):
        class_version = 2
        payload: Any
        label: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["label"] = "upcast"


class SampleApp(Application[UUID]):
    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


TOPIC = "tests.unit.test_bulk_decode:Sample.Made"


def assert_same(decoder: BulkDecoder, app: Application[Any], stored: StoredEvent) -> Any:
    """The bulk decoder's event equals the mapper's, value types included."""
    expected = app.mapper.to_domain_event(stored)
    got = decoder.decode(
        stored.originator_id, stored.originator_version, stored.topic, stored.state
    )
    assert type(got) is type(expected)
    assert got.__dict__ == expected.__dict__
    assert [type(v) for v in got.__dict__.values()] == [type(v) for v in expected.__dict__.values()]
    return got


@pytest.fixture
def app() -> Iterator[SampleApp]:
    application = SampleApp()
    yield application
    application.close()


def stored_state(app: Application[Any], payload: Any, label: str = "x") -> StoredEvent:
    fields: dict[str, Any] = {"payload": payload, "label": label}
    event = Sample.Made(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        originator_topic="tests.unit.test_bulk_decode:Sample",
        **fields,
    )
    return app.mapper.to_stored_event(event)


PAYLOADS = [
    None,
    "văn bản tiếng Việt",
    1.5,
    2**62,
    [uuid4(), date(2026, 1, 2), [Decimal("1.10"), {"inner": uuid4()}]],
    {"when": datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "due": date(2026, 12, 1), "n": 3},
    {"_type_": "looks like a tag", "but": "has three keys", "x": 1},
    {},
    [],
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_every_stored_shape_decodes_as_the_library_does(app: SampleApp, payload: Any) -> None:
    assert_same(BulkDecoder(app.mapper), app, stored_state(app, payload))


def test_states_orjson_refuses_go_to_the_library(app: SampleApp) -> None:
    decoder = BulkDecoder(app.mapper)
    base = stored_state(app, None)
    for raw in (b"NaN", b"Infinity", str(2**70).encode(), str(-(2**70)).encode()):
        state = base.state.replace(b'"payload":null', b'"payload":' + raw)
        assert assert_same(decoder, app, StoredEvent(base.originator_id, 1, TOPIC, state))


def test_an_old_class_version_is_upcast(app: SampleApp) -> None:
    base = stored_state(app, "p")
    state = base.state.replace(b',"class_version":2', b"").replace(b'"label":"x",', b"")
    got = assert_same(
        BulkDecoder(app.mapper), app, StoredEvent(base.originator_id, 1, TOPIC, state)
    )
    assert got.label == "upcast"


def test_an_unknown_tag_raises_the_library_error(app: SampleApp) -> None:
    base = stored_state(app, None)
    state = base.state.replace(
        b'"payload":null', b'"payload":{"_type_":"no_such_type","_data_":"x"}'
    )
    with pytest.raises(MapperDeserialisationError, match="no_such_type"):
        BulkDecoder(app.mapper).decode(base.originator_id, 1, TOPIC, state)


def test_a_compressing_application_is_decoded_by_the_library() -> None:
    app = CasesApplication(env={"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"})
    try:
        event = Rating.Given(
            originator_id=uuid4(),
            originator_version=1,
            timestamp=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
            originator_topic="feedback_core.ratings:Rating",
            **_rating_fields(),
        )
        stored = app.mapper.to_stored_event(event)
        decoder = BulkDecoder(app.mapper)
        assert not decoder.plain
        assert_same(decoder, app, stored)
    finally:
        app.close()


def _rating_fields() -> dict[str, Any]:
    return {
        "submission_id": uuid4(),
        "tracking_code": "7KQ2-M9XH-4TBC",
        "channel": "qr",
        "unit_id": "u",
        "office_id": "u-mc",
        "counter_id": "u-q1",
        "score": 4,
        "given_at": datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        "case_id": None,
        "components": {"waiting": 3},
        "dossier_code": "",
    }


@pytest.mark.parametrize(
    "text",
    [
        uuid4().hex,
        "0" * 32,
        "f" * 32,
        "{" + "a" * 30 + "}",
        "urn:uuid:" + str(uuid4()),
        str(uuid4()),
        "+" + "a" * 31,
        "-" + "a" * 31,
        "0x" + "b" * 30,
    ],
)
def test_uuid_from_hex_equals_uuid(text: str) -> None:
    try:
        expected: UUID | type[Exception] = UUID(text)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            uuid_from_hex(text)
    else:
        got = uuid_from_hex(text)
        assert got == expected and hash(got) == hash(expected) and str(got) == str(expected)
        assert got.is_safe == UUID(text).is_safe


def test_the_reader_thread_hands_items_then_its_error() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise RuntimeError("the server went away")

    got = []
    with pytest.raises(RuntimeError, match="went away"):
        for item in prefetched(items(), depth=1):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_the_reader_thread_stops_when_the_consumer_stops() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    reader = prefetched(items(), depth=2)
    assert next(reader) == 0
    reader.close()  # the consumer gave up (an exception in the fold): the thread ends
    assert len(produced) < 10


def test_floats_parse_to_the_same_double(app: SampleApp) -> None:
    """Coordinates and any other float: orjson's parse equals json's, digit for digit."""
    rng = random.Random(7)
    values = [rng.uniform(-180, 180) for _ in range(300)]
    values += [rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(300)]
    values += [21.0685, 105.8249, 0.1, 1e-7, 5e-324, 1.7976931348623157e308, 9.2e18, -0.0]
    decoder = BulkDecoder(app.mapper)
    assert_same(decoder, app, stored_state(app, values))
    for value in values[:50]:
        assert_same(decoder, app, stored_state(app, value))


def test_the_reader_thread_ends_when_the_consumer_stops_before_the_end_marker() -> None:
    reader = prefetched(iter(range(2)), depth=1)
    assert next(reader) == 0
    time.sleep(0.3)  # the thread has put the last item and waits to put the end marker
    reader.close()  # must not wait forever for a consumer that is gone
