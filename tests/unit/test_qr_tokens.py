from feedback_core.qr_tokens import sign_counter, verify_counter_token

KEY = b"k" * 32


def test_a_signed_token_names_its_counter() -> None:
    token = sign_counter("nhat-tan-q1", KEY)
    assert len(token) <= 24
    assert verify_counter_token(token, KEY) == "nhat-tan-q1"


def test_forged_edited_or_foreign_tokens_are_refused() -> None:
    token = sign_counter("nhat-tan-q1", KEY)
    assert verify_counter_token(token.replace("q1", "q2"), KEY) is None
    assert verify_counter_token(token, b"other key") is None
    assert verify_counter_token("nhat-tan-q1", KEY) is None
    assert verify_counter_token("", KEY) is None
