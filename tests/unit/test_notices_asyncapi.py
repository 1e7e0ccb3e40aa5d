"""docs/asyncapi.yaml says what the code does: its examples decode with the code's own
codecs and re-encode to the same JSON, and what the code encodes fits its schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from consumers.notices import NoticeKind, from_json, notice_id_for, to_dict
from feedback_core.intake import from_json as intake_from_json
from feedback_core.intake import to_json as intake_to_json
from tests.unit.test_intake import submission
from tests.unit.test_notices import sample_notice

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
)


def validator(schema: str) -> Draft202012Validator:
    """A validator of ``#/components/schemas/<schema>`` with the whole document as root,
    so the schemas' $refs resolve."""
    return Draft202012Validator({**SPEC, "$ref": f"#/components/schemas/{schema}"})


def examples(message: str) -> list[dict[str, Any]]:
    return list(SPEC["components"]["messages"][message]["examples"])


def test_the_topics_are_the_platforms() -> None:
    addresses = {c["address"] for c in SPEC["channels"].values()}
    assert addresses == {"feedback.case-events.v1", "feedback.intake.v1", "feedback.intake.dlq.v1"}
    assert SPEC["asyncapi"] == "3.0.0"


def test_the_notice_kinds_are_the_codes() -> None:
    assert SPEC["components"]["schemas"]["NoticeKind"]["enum"] == [k.value for k in NoticeKind]


@pytest.mark.parametrize("example", examples("CaseNotice"), ids=lambda e: e["name"])
def test_case_notice_examples_are_real_notices(example: dict[str, Any]) -> None:
    payload = example["payload"]
    validator("CaseNotice").validate(payload)
    notice = from_json(json.dumps(payload))
    assert to_dict(notice) == payload
    assert notice.notice_id == notice_id_for(notice.case_id, notice.case_version)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_what_the_code_publishes_fits_the_schema(kind: NoticeKind) -> None:
    validator("CaseNotice").validate(to_dict(sample_notice(kind=kind)))


def test_intake_example_and_code_fit_the_schema() -> None:
    (example,) = examples("IntakeSubmission")
    validator("IntakeSubmission").validate(example["payload"])
    decoded = intake_from_json(json.dumps(example["payload"]))
    assert decoded.wants_updates and decoded.contact_email == "dan@example.vn"
    validator("IntakeSubmission").validate(json.loads(intake_to_json(submission())))
