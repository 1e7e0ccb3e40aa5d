"""Fair rankings of peer units by citizen satisfaction (pure: no I/O).

A unit's raw share of satisfied ratings is a noisy figure when it rests on a handful of
ratings: 3 of 3 satisfied is 100 %, and would top any ranking. The method used here:

1. **Minimum sample.** A unit with fewer than ``min_ratings`` ratings (default 30) is not
   ranked at all; it is listed as "not ranked: too few ratings".
2. **Bayesian shrinkage toward the peer mean** (beta-binomial). The peer mean ``p0`` is the
   pooled share of the peers (all satisfied ratings over all ratings). A unit with ``k``
   satisfied of ``n`` ratings is estimated at ``(k + m·p0) / (n + m)``: the posterior mean
   under a Beta(m·p0, m·(1-p0)) prior, i.e. ``m`` pseudo-ratings at the peer mean. The
   prior strength ``m`` defaults to 30: a unit needs about 30 ratings of its own before its
   own share weighs as much as the peers'. Shrinkage always moves a unit's share toward
   ``p0`` and never past it.
3. **Uncertainty.** A 95 % Wilson score interval computed on the shrunk counts
   (``k + m·p0`` of ``n + m``), an approximation of the beta posterior's interval that
   needs only ``math``. The Wilson interval always contains its point estimate, so it
   contains the shrunk share.

Units are ranked by the shrunk share, highest first; ties share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

PRIOR_STRENGTH = 30.0  # m: pseudo-ratings at the peer mean
MIN_RATINGS = 30  # units with fewer ratings are not ranked
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass(frozen=True)
class UnitSatisfaction:
    """What the figures say about one unit: ratings given and how many were satisfied."""

    unit_id: str
    ratings: int
    satisfied: int

    def __post_init__(self) -> None:
        if self.ratings < 0 or not 0 <= self.satisfied <= self.ratings:
            raise ValueError(f"{self.unit_id}: need 0 <= satisfied <= ratings")

    @property
    def share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None


@dataclass(frozen=True)
class RankedUnit:
    unit_id: str
    ratings: int
    satisfied: int
    raw_share: float | None
    estimate: float  # shrunk toward the peer mean
    low: float  # 95 % interval
    high: float
    rank: int | None  # None: not ranked (too few ratings)

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class Ranking:
    ranked: list[RankedUnit]  # best first
    not_ranked: list[RankedUnit]  # too few ratings, by unit id
    peer_mean: float
    prior_strength: float
    min_ratings: int


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial share; (0, 1) when there are no trials."""
    if trials < 1e-9:  # no (or a vanishing number of) trials: nothing is known
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def shrink(satisfied: int, ratings: int, peer_mean: float, prior_strength: float) -> float:
    """The posterior mean share under ``prior_strength`` pseudo-ratings at ``peer_mean``."""
    if ratings + prior_strength <= 0:
        return peer_mean
    return (satisfied + prior_strength * peer_mean) / (ratings + prior_strength)


def rank_units(
    units: Iterable[UnitSatisfaction],
    prior_strength: float = PRIOR_STRENGTH,
    min_ratings: int = MIN_RATINGS,
    z: float = Z_95,
) -> Ranking:
    """Rank peer units by shrunk satisfaction share; see the module's documentation."""
    peers = list(units)
    total = sum(u.ratings for u in peers)
    peer_mean = sum(u.satisfied for u in peers) / total if total else 0.5
    scored = []
    for u in peers:
        estimate = shrink(u.satisfied, u.ratings, peer_mean, prior_strength)
        low, high = wilson_interval(
            u.satisfied + prior_strength * peer_mean, u.ratings + prior_strength, z
        )
        # Rounding in the interval must never leave the estimate outside it.
        low, high = min(low, estimate), max(high, estimate)
        scored.append(RankedUnit(u.unit_id, u.ratings, u.satisfied, u.share, estimate,
                                 low, high, None))
    eligible = sorted(
        (s for s in scored if s.ratings >= min_ratings),
        key=lambda s: (-s.estimate, -s.ratings, s.unit_id),
    )
    ranked: list[RankedUnit] = []
    for position, s in enumerate(eligible, start=1):
        tied = ranked and math.isclose(ranked[-1].estimate, s.estimate, abs_tol=1e-12)
        rank = ranked[-1].rank if tied and ranked[-1].rank is not None else position
        ranked.append(RankedUnit(**{**s.__dict__, "rank": rank}))
    not_ranked = sorted((s for s in scored if s.ratings < min_ratings), key=lambda s: s.unit_id)
    return Ranking(ranked, not_ranked, peer_mean, prior_strength, min_ratings)
