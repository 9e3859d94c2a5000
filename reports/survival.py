"""Survival-aware statistics of the time to the first human reply.

Companies that never answered are not dropped and not given a made-up time: they are
censored at the wave's close, and a Kaplan-Meier estimator (lifelines) gives the
probability of "still waiting" over time. The median is the first time at which that
probability falls to 0.5 or below; when more than half never answered it is "not
reached" (infinite), which is the honest answer. A mean over responders alone is never
reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from audit.errors import ReportError

ALL_SECTORS = "all"


@dataclass
class SurvivalCurve:
    """A Kaplan-Meier estimate for one group of companies."""

    group: str
    n: int
    events: int  # human replies
    censored: int
    median_s: float  # math.inf when not reached; nan when n == 0
    median_low_s: float
    median_high_s: float
    times: list[float] = field(default_factory=list)  # step times, starting at 0
    survival: list[float] = field(default_factory=list)  # S(t) at each step time
    ci_low: list[float] = field(default_factory=list)
    ci_high: list[float] = field(default_factory=list)


def kaplan_meier(
    durations: pd.Series | np.ndarray,
    events: pd.Series | np.ndarray,
    group: str = ALL_SECTORS,
    alpha: float = 0.05,
) -> SurvivalCurve:
    """Fit one Kaplan-Meier curve; ``events`` is True where a human reply was observed."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if d.shape != e.shape:
        raise ReportError("durations and events differ in length")
    keep = np.isfinite(d)
    d, e = np.clip(d[keep], 0, None), e[keep]
    n = len(d)
    if n == 0:
        nan = math.nan
        return SurvivalCurve(group, 0, 0, 0, nan, nan, nan)
    kmf = KaplanMeierFitter(alpha=alpha)
    kmf.fit(d, event_observed=e, label=group)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    median = float(kmf.median_survival_time_)
    low, high = _median_ci(kmf)
    return SurvivalCurve(
        group=group,
        n=n,
        events=int(e.sum()),
        censored=int(n - e.sum()),
        median_s=median,
        median_low_s=low,
        median_high_s=high,
        times=[float(t) for t in sf.index],
        survival=[float(v) for v in sf.to_numpy()],
        ci_low=[float(v) for v in ci.iloc[:, 0].to_numpy()],
        ci_high=[float(v) for v in ci.iloc[:, 1].to_numpy()],
    )


def _median_ci(kmf: KaplanMeierFitter) -> tuple[float, float]:
    """The confidence interval of the median from the pointwise band of S(t)."""
    table = median_survival_times(kmf.confidence_interval_)
    values = [float(v) for v in np.asarray(table, dtype=float).ravel()]
    if len(values) != 2:
        return math.nan, math.nan
    low, high = sorted(values)
    return low, high


def survival_by_sector(
    results: pd.DataFrame, basis: str = "business", alpha: float = 0.05
) -> list[SurvivalCurve]:
    """Curves for all reachable submissions and for each sector (largest sectors first).

    ``results`` is one wave of metrics.compute: rows with a submission that went out.
    """
    col = "observed_business_seconds" if basis == "business" else "observed_seconds"
    sent = results[results["submitted_at"].notna()]
    event = sent["status"] == "answered"
    curves = [kaplan_meier(sent[col], event, ALL_SECTORS, alpha)]
    counts = sent["sector"].value_counts(sort=True)
    for sector in sorted(counts.index, key=lambda s: (-counts[s], str(s))):
        part = sent[sent["sector"] == sector]
        curves.append(kaplan_meier(part[col], part["status"] == "answered", str(sector), alpha))
    return curves
