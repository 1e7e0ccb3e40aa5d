from uuid import UUID, uuid4

from feedback_core.identity import (
    case_id_for,
    normalise_tracking_code,
    rating_id_for,
    tracking_code_for,
)


def test_ids_are_functions_of_the_submission_id() -> None:
    sid = uuid4()
    assert case_id_for(sid) == case_id_for(UUID(str(sid)))
    assert case_id_for(sid) != rating_id_for(sid)
    assert tracking_code_for(sid) == tracking_code_for(UUID(str(sid)))


def test_tracking_code_is_short_and_unambiguous() -> None:
    codes = {tracking_code_for(uuid4()) for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert not set(code) & set("ILOU")


def test_normalise_accepts_what_people_type() -> None:
    code = tracking_code_for(uuid4())
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise_tracking_code(typed) == code
    assert normalise_tracking_code("ABC") == ""
    assert normalise_tracking_code("UUUUU-UUUUU") == ""
