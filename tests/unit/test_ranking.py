"""Fair rankings: minimum sample, shrinkage toward the peer mean, intervals (properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback_core.ranking import (
    UnitSatisfaction,
    rank_units,
    shrink,
    wilson_interval,
)


@st.composite
def unit_lists(draw: st.DrawFn) -> list[UnitSatisfaction]:
    count = draw(st.integers(min_value=1, max_value=12))
    units = []
    for i in range(count):
        ratings = draw(st.integers(min_value=0, max_value=400))
        satisfied = draw(st.integers(min_value=0, max_value=ratings))
        units.append(UnitSatisfaction(f"u{i}", ratings, satisfied))
    return units


@given(unit_lists(), st.integers(min_value=1, max_value=60), st.floats(0, 100))
def test_no_unit_below_the_minimum_is_ranked(
    units: list[UnitSatisfaction], minimum: int, strength: float
) -> None:
    ranking = rank_units(units, prior_strength=strength, min_ratings=minimum)
    assert all(r.ratings >= minimum for r in ranking.ranked)
    assert all(r.ratings < minimum and r.rank is None for r in ranking.not_ranked)
    assert len(ranking.ranked) + len(ranking.not_ranked) == len(units)


@given(unit_lists(), st.floats(min_value=0.5, max_value=200))
def test_shrinkage_moves_toward_the_peer_mean_never_past_it(
    units: list[UnitSatisfaction], strength: float
) -> None:
    ranking = rank_units(units, prior_strength=strength, min_ratings=0)
    mean = ranking.peer_mean
    for r in ranking.ranked:
        if r.raw_share is None:
            assert r.estimate == pytest.approx(mean)
            continue
        assert abs(r.estimate - mean) <= abs(r.raw_share - mean) + 1e-12
        assert min(r.raw_share, mean) - 1e-12 <= r.estimate <= max(r.raw_share, mean) + 1e-12


@given(unit_lists())
def test_interval_contains_the_estimate_and_ranks_are_ordered(
    units: list[UnitSatisfaction],
) -> None:
    ranking = rank_units(units, min_ratings=5)
    for r in ranking.ranked + ranking.not_ranked:
        assert 0.0 <= r.low <= r.estimate <= r.high <= 1.0
    estimates = [r.estimate for r in ranking.ranked]
    assert estimates == sorted(estimates, reverse=True)
    ranks = [r.rank for r in ranking.ranked]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)  # type: ignore[type-var]


def test_a_handful_of_perfect_ratings_does_not_top_the_ranking() -> None:
    units = [
        UnitSatisfaction("tiny", 3, 3),  # 100 % on 3 ratings: not ranked
        UnitSatisfaction("small", 31, 31),  # 100 % on 31: shrunk halfway to the mean
        UnitSatisfaction("large", 2000, 1800),  # 90 % on 2,000
        UnitSatisfaction("middling", 40, 36),  # 90 % on 40
    ]
    ranking = rank_units(units)
    assert [r.unit_id for r in ranking.not_ranked] == ["tiny"]
    by_id = {r.unit_id: r for r in ranking.ranked}
    assert by_id["small"].estimate < 0.96  # not 100 %
    assert by_id["small"].high - by_id["small"].low > by_id["large"].high - by_id["large"].low
    # The same share on fewer ratings is pulled further toward the mean.
    mean = ranking.peer_mean
    assert abs(by_id["middling"].estimate - mean) < abs(by_id["large"].estimate - mean) + 1e-9


def test_wilson_interval_known_value() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_shrink_is_the_beta_binomial_posterior_mean() -> None:
    assert shrink(10, 10, 0.5, 30) == pytest.approx((10 + 15) / 40)
    assert shrink(0, 0, 0.8, 30) == pytest.approx(0.8)


def test_ties_share_a_rank() -> None:
    units = [UnitSatisfaction(u, 50, 40) for u in ("a", "b")] + [UnitSatisfaction("c", 50, 10)]
    ranking = rank_units(units)
    assert [r.rank for r in ranking.ranked] == [1, 1, 3]


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        UnitSatisfaction("x", 3, 4)
