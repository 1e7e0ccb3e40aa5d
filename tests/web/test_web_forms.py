"""Parsing and validating the QR form, without HTTP."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from feedback_core.intake import ComplaintCategory
from web.forms import (
    BadSubmissionId,
    Placement,
    QrForm,
    clean_text,
    form_errors,
    parse_submission_id,
    to_submission,
)

PLACE = Placement("nhat-tan", "nhat-tan-mc", "nhat-tan-q1")
AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_clean_text_normalises_what_browsers_and_keyboards_send() -> None:
    decomposed = unicodedata.normalize("NFD", "Nhuận")  # base letters and combining marks
    assert len(decomposed) == 7
    assert clean_text(decomposed) == "Nhuận"
    assert clean_text("a\r\nb\rc\x00d\x07") == "a\nb\ncd"
    assert clean_text("tab\tkept") == "tab\tkept"


def test_non_text_values_are_ignored() -> None:
    form = QrForm.from_mapping({"rating": 5, "description": None})
    assert (form.rating, form.description) == ("", "")


def test_submission_id_must_be_a_uuid() -> None:
    with pytest.raises(BadSubmissionId):
        parse_submission_id(QrForm(submission_id="1234"))
    sid = uuid4()
    assert parse_submission_id(QrForm(submission_id=str(sid))) == sid


@pytest.mark.parametrize("rating", ["", "0", "6", "abc", "3.5"])
def test_rating_must_be_one_to_five(rating: str) -> None:
    assert set(form_errors(QrForm(rating=rating))) == {"rating"}


def test_limit_counts_the_trimmed_text() -> None:
    assert form_errors(QrForm(rating="3", description=" " * 10 + "x" * 4000 + "\n")) == {}
    errors = form_errors(QrForm(rating="3", description="x" * 4001))
    assert errors["description"].params == {"n": 4001}


def test_to_submission() -> None:
    sid = uuid4()
    form = QrForm(str(sid), "1", "harassment", "  Đòi 500.000 đồng  ")
    sub = to_submission(form, PLACE, AT, "vi")
    assert sub.submission_id == sid
    assert sub.category is ComplaintCategory.HARASSMENT
    assert sub.description == "Đòi 500.000 đồng"
    assert sub.has_complaint
