"""The demo district's plan: the same seed gives the same submissions and steps, and the
plan covers every complaint category, every channel and the handlers' whole workflow."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from feedback_cli.demo.organisation import district_data
from feedback_cli.demo.plan import DistrictPlan, Planned, ScaleError, parse_scale
from feedback_core.intake import Channel, ComplaintCategory
from feedback_core.organisation import Organisation, organisation_from_dict
from feedback_core.permissions import Action
from feedback_core.settings import DEMO_ORGANISATION

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


def district() -> Organisation:
    """The demo file plus the district's additions, as the directory would read them."""
    with DEMO_ORGANISATION.open(encoding="utf-8") as f:
        data = json.load(f)
    extra = district_data()
    org = organisation_from_dict({k: data[k] + extra[k] for k in extra})
    heads = {h["unit_id"]: h["username"] for h in data["heads"]}
    units = {u.id: replace(u, head=heads.get(u.id)) for u in org.units.values()}
    return replace(org, units=units)


def plan(seed: int = 7, events: int = 4000, now: datetime = NOW) -> list[Planned]:
    return list(DistrictPlan(district(), seed=seed, events=events, days=90, now=now).submissions())


def test_the_same_seed_gives_the_same_plan() -> None:
    first, again = plan(), plan()
    assert first == again
    assert plan(seed=8) != first
    assert sum(p.events for p in first) >= 4000
    assert sum(p.events for p in first[:-1]) < 4000  # stops at the target


def test_ids_depend_on_the_seed_and_number_only() -> None:
    """A later run (another "now") maps onto the same aggregates: nothing new is stored."""
    later = plan(now=NOW.replace(day=30))
    ids = [p.submission.submission_id for p in plan()]
    assert [p.submission.submission_id for p in later][: len(ids) - 50] == ids[: len(ids) - 50]


def test_every_category_channel_and_step_appears() -> None:
    found = plan()
    complaints = [p for p in found if p.submission.has_complaint]
    assert {p.submission.category for p in complaints} == set(ComplaintCategory)
    assert {p.submission.channel for p in found} == {
        Channel.QR,
        Channel.KIOSK,
        Channel.PAPER,
        Channel.HOTLINE,
        Channel.OPEN311,
    }
    actions = Counter(step.action for p in found for step in p.steps)
    for action in (
        Action.ACCEPT,
        Action.REFUSE,
        Action.ASSIGN,
        Action.CLAIM,
        Action.START,
        Action.ASK_CITIZEN,
        Action.RECORD_REPLY,
        Action.ANSWER,
        Action.RESOLVE,
        Action.TRANSFER,
        Action.ACCEPT_TRANSFER,
        Action.REOPEN,
        Action.EXTEND,
        Action.WITHDRAW,
    ):
        assert actions[action] > 0, action
    assert actions["confirm"] > 0  # citizens confirming the resolution on the tracking page
    # Complaints are far fewer than ratings; ratings mostly satisfied.
    assert len(complaints) < 0.1 * len(found)
    scores = [p.submission.rating for p in found if p.submission.rating is not None]
    assert sum(s >= 4 for s in scores) / len(scores) > 0.75
    # Every step is in the past, in order, after the receipt.
    for p in found:
        times = [p.submission.submitted_at, *(s.at for s in p.steps)]
        assert times == sorted(times) and times[-1] <= NOW


def test_units_receive_submissions_across_the_district() -> None:
    units = Counter(p.submission.unit_id for p in plan())
    assert len(units) == 9  # the district's own office and its eight wards


@pytest.mark.parametrize(
    ("text", "events"), [("small", 4000), ("large", 1_000_000), ("250_000", 250_000)]
)
def test_scales(text: str, events: int) -> None:
    assert parse_scale(text)[0] == events


@pytest.mark.parametrize("text", ["huge", "0", "-5", ""])
def test_unknown_scales_are_refused_with_the_choices(text: str) -> None:
    with pytest.raises(ScaleError, match="small, medium, large"):
        parse_scale(text)
