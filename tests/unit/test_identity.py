import re
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from feedback_core.identity import (
    CROCKFORD,
    case_id_for,
    format_tracking_code,
    normalise_tracking_code,
    rating_id_for,
    service_request_id_for,
    tracking_code_for,
    tracking_number,
)

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
uuids = st.uuids()


def test_ids_are_functions_of_the_submission_id() -> None:
    sid = uuid4()
    assert case_id_for(sid) == case_id_for(UUID(str(sid)))
    assert case_id_for(sid) != rating_id_for(sid)
    assert tracking_code_for(sid) == tracking_code_for(UUID(str(sid)))
    assert service_request_id_for(sid) == service_request_id_for(UUID(str(sid)))


def test_tracking_code_is_twelve_unambiguous_characters_in_groups_of_four() -> None:
    codes = {tracking_code_for(uuid4()) for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert CODE.fullmatch(code), code
        assert not set(code) & set("ILOU")


def test_no_collision_among_ten_million_tracking_codes() -> None:
    """The issue's demand. Distinct submission ids (the integers 0 … 10⁷-1 as 16 bytes)
    through the production derivation; the 60-bit numbers are the codes, one to one."""
    count = 10_000_000
    seen: set[int] = set()
    add, number = seen.add, tracking_number
    for i in range(count):
        add(number(i.to_bytes(16, "big")))
    assert len(seen) == count
    assert tracking_code_for(UUID(int=7)) == format_tracking_code(number((7).to_bytes(16, "big")))


def test_formatting_is_one_to_one_on_sixty_bits() -> None:
    assert format_tracking_code(0) == "0000-0000-0000"
    assert format_tracking_code(2**60 - 1) == "ZZZZ-ZZZZ-ZZZZ"
    assert format_tracking_code(1) != format_tracking_code(32)


@given(uuids)
def test_a_code_normalises_to_itself(sid: UUID) -> None:
    code = tracking_code_for(sid)
    assert normalise_tracking_code(code) == code


@given(uuids, st.sampled_from(["", " ", "-", "  ", " - "]), st.booleans())
def test_a_code_typed_as_people_type_it_normalises_back(
    sid: UUID, separator: str, lower: bool
) -> None:
    code = tracking_code_for(sid)
    typed = code.replace("-", separator).replace("0", "O").replace("1", "I")
    typed = typed.lower() if lower else typed
    assert normalise_tracking_code(f"  {typed} ") == code


@given(st.text(max_size=20))
def test_normalising_anything_gives_a_code_or_nothing(text: str) -> None:
    normal = normalise_tracking_code(text)
    assert normal == "" or normalise_tracking_code(normal) == normal
    assert not set(normal) & set("ILOU")


def test_normalise_accepts_what_people_type() -> None:
    code = tracking_code_for(uuid4())
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise_tracking_code(typed) == code
    assert normalise_tracking_code("ABC") == ""
    assert normalise_tracking_code("UUUU-UUUU-UUUU") == ""
    assert normalise_tracking_code("7KQ2-M9XH-4TBC-") == "7KQ2-M9XH-4TBC"
    assert normalise_tracking_code("7KQ2-M9XH-4TB") == ""


def test_codes_issued_before_the_sixty_bit_codes_stay_valid() -> None:
    assert normalise_tracking_code("7kq2m 9xh4t") == "7KQ2M-9XH4T"
    assert set(CROCKFORD) >= set("7KQ2M9XH4T")


def test_the_open311_id_is_not_the_tracking_code() -> None:
    sid = uuid4()
    public = service_request_id_for(sid)
    assert UUID(public).version == 5
    assert normalise_tracking_code(public) == ""
    assert public != str(case_id_for(sid)) and public != str(sid)


def _code_digit_by_digit(number: int) -> str:
    """The definition: 12 base-32 digits of the low 60 bits, most significant first."""
    digits = "".join(CROCKFORD[(number >> shift) & 31] for shift in range(55, -1, -5))
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


@given(st.integers(min_value=0, max_value=2**64))
def test_the_table_formatting_is_the_digit_by_digit_definition(number: int) -> None:
    assert format_tracking_code(number) == _code_digit_by_digit(number)
    assert format_tracking_code(number & (2**60 - 1)) == _code_digit_by_digit(number)
