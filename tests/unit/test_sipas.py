"""The SIPAS outlook method (feedback_core.sipas): mapping, interval, minimum sample."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback_core.sipas import (
    MIN_RATINGS,
    NATIONAL_SIPAS_2023,
    component_outlook,
    outlook,
    to_index,
)

FIVE = ("access", "procedures", "officers", "results", "feedback")


def test_the_scale_maps_onto_zero_to_one_hundred_percent() -> None:
    assert (to_index(1), to_index(3), to_index(4), to_index(5)) == (0, 0.5, 0.75, 1)


def test_unanimous_answers_have_no_uncertainty_and_a_spread_widens_it() -> None:
    assert component_outlook("access", 100, 500).low == 1.0
    same_mean_a = component_outlook("access", 100, 400)  # mean 4
    assert same_mean_a.index == pytest.approx(0.75)
    assert same_mean_a.low is not None and same_mean_a.high is not None
    assert same_mean_a.low < 0.75 < same_mean_a.high
    bigger = component_outlook("access", 10_000, 40_000)
    assert bigger.high is not None and bigger.low is not None
    assert bigger.high - bigger.low < same_mean_a.high - same_mean_a.low


def test_below_the_minimum_sample_there_is_no_index() -> None:
    few = component_outlook("officers", MIN_RATINGS - 1, 5 * (MIN_RATINGS - 1))
    assert few.mean == 5 and few.index is None and not few.enough
    parts = {c: (100, 450) for c in FIVE[:4]} | {"feedback": (3, 15)}
    result = outlook(parts, ratings=100, satisfied=90)
    assert result.index is None and result.versus_national == "unknown"
    assert result.satisfied_share == pytest.approx(0.9)  # the overall share still shows


def test_the_unit_index_is_the_mean_of_its_components_and_compared_with_the_nation() -> None:
    high = outlook({c: (400, 400 * 5 - 100) for c in FIVE}, ratings=400, satisfied=380)
    assert high.index == pytest.approx(to_index(4.75))
    assert high.versus_national == "above" and NATIONAL_SIPAS_2023 == 0.8266
    low = outlook({c: (400, 400 * 3) for c in FIVE})
    assert low.index == pytest.approx(0.5) and low.versus_national == "below"
    assert low.satisfied_share is None  # no overall ratings given
    level = outlook({c: (40, round(40 * (1 + 4 * NATIONAL_SIPAS_2023))) for c in FIVE})
    assert level.versus_national == "level"


@given(
    st.integers(min_value=MIN_RATINGS, max_value=5000),
    st.floats(min_value=1, max_value=5),
)
def test_the_interval_holds_the_estimate_within_zero_and_one(n: int, mean: float) -> None:
    part = component_outlook("results", n, round(n * mean))
    assert part.low is not None and part.high is not None and part.index is not None
    assert 0 <= part.low <= part.index <= part.high <= 1
