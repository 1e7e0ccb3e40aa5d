"""SIPAS outlook: the index a unit is heading for, from its citizens' component ratings, with
its uncertainty, next to the national figure (pure, no I/O).

SIPAS (the national index of satisfaction with administrative services) measures five
components — access to the service, administrative procedures, civil servants, results,
handling of feedback — and the Ministry of Home Affairs publishes the share satisfied:
82.66 % nationally in 2023 (../shared/domain.md, "What the seeds report").

What we hold per component is the number of ratings and the sum of their 1–5 scores (the
figures projection), not each answer. The method, chosen for that:

1. **Component index** = the mean score mapped linearly from the 1–5 scale onto 0–100 %:
   ``(mean − 1) / 4`` (all "very satisfied" = 100 %, all "very dissatisfied" = 0 %).
2. **Uncertainty** of a component: a normal 95 % interval whose standard error uses the
   largest variance scores with that mean can have on [1, 5] (the Bhatia–Davis bound
   ``(5 − mean)(mean − 1)``), so the interval is never narrower than the truth's.
3. **Minimum sample**: a component with fewer than ``MIN_RATINGS`` ratings has no index, and
   the unit's index needs all five components.
4. **Unit index** = the mean of the five component indices; its interval the mean of their
   bounds (as if the components moved together: the widest honest choice, since one
   citizen rates all five).
5. Beside it, the share of satisfied overall ratings (4 or 5) with a Wilson interval — the
   quantity the national figure is — so a reader can compare like with like.

This is an outlook, not the Ministry's survey: SIPAS samples citizens by its own design.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from feedback_core.intake import SipasComponent
from feedback_core.ranking import wilson_interval

NATIONAL_SIPAS_2023 = 0.8266
NATIONAL_SOURCE = "SIPAS 2023, Bộ Nội vụ: 82,66 %"
MIN_RATINGS = 30
Z_95 = 1.959964
SCALE_LOW, SCALE_HIGH = 1, 5
COMPONENTS = tuple(SipasComponent)


def to_index(mean: float) -> float:
    """A mean score on 1–5 as a share on 0–1."""
    return (mean - SCALE_LOW) / (SCALE_HIGH - SCALE_LOW)


@dataclass(frozen=True)
class ComponentOutlook:
    component: str
    ratings: int
    mean: float | None
    index: float | None  # None below the minimum sample
    low: float | None
    high: float | None

    @property
    def enough(self) -> bool:
        return self.index is not None


def component_outlook(component: str, ratings: int, score_sum: int) -> ComponentOutlook:
    if ratings <= 0:
        return ComponentOutlook(component, 0, None, None, None, None)
    mean = min(max(score_sum / ratings, SCALE_LOW), SCALE_HIGH)
    if ratings < MIN_RATINGS:
        return ComponentOutlook(component, ratings, mean, None, None, None)
    variance = (SCALE_HIGH - mean) * (mean - SCALE_LOW)  # Bhatia–Davis: the largest possible
    margin = Z_95 * math.sqrt(variance / ratings) / (SCALE_HIGH - SCALE_LOW)
    index = to_index(mean)
    return ComponentOutlook(
        component, ratings, mean, index, max(0.0, index - margin), min(1.0, index + margin)
    )


@dataclass(frozen=True)
class Outlook:
    components: list[ComponentOutlook]
    index: float | None
    low: float | None
    high: float | None
    ratings: int
    satisfied: int
    satisfied_share: float | None
    satisfied_low: float | None
    satisfied_high: float | None
    national: float = NATIONAL_SIPAS_2023

    @property
    def versus_national(self) -> str:
        """"above", "below", "level" (the interval holds the national figure) or "unknown"."""
        if self.index is None or self.low is None or self.high is None:
            return "unknown"
        if self.low > self.national:
            return "above"
        if self.high < self.national:
            return "below"
        return "level"


def outlook(
    components: Mapping[str, tuple[int, int]], ratings: int = 0, satisfied: int = 0
) -> Outlook:
    """``components``: code -> (ratings, score sum); ``ratings``/``satisfied``: the overall
    rating's counts (satisfied = 4 or 5)."""
    parts = [component_outlook(str(c), *components.get(str(c), (0, 0))) for c in COMPONENTS]
    index = low = high = None
    if all(p.enough for p in parts):
        count = len(parts)
        index = sum(p.index or 0.0 for p in parts) / count
        low = sum(p.low or 0.0 for p in parts) / count
        high = sum(p.high or 0.0 for p in parts) / count
    share = s_low = s_high = None
    if ratings >= MIN_RATINGS:
        share = satisfied / ratings
        s_low, s_high = wilson_interval(satisfied, ratings)
    return Outlook(parts, index, low, high, ratings, satisfied, share, s_low, s_high)
