"""Pre/post learning change, with the sign convention post - pre (a gain is positive): Hake's
normalized gain, the paired effect size, the paired t-test and the Wilcoxon signed-rank test."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...errors import DatasetError
from ._inputs import _TINY, _paired


# --------------------------------------------------------------------------------------------
# 3. pre/post learning gain
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NormalizedGain:
    """Hake's normalized gain.

    ``g_class`` = <g> = (mean post - mean pre) / (max_score - mean pre) over the ``n`` matched
    trainees; ``g_individual_mean`` = mean of (post_i - pre_i) / (max_score - pre_i) over the
    ``n_individual`` matched trainees with pre_i < max_score (``n_at_max`` skipped: their gain is
    undefined). ``n_unmatched`` pairs had a missing pre or post score and are not used at all.
    Hake's bands: low < 0.3, medium 0.3-0.7, high > 0.7.
    """

    g_class: float
    g_individual_mean: float
    n: int
    n_individual: int
    n_at_max: int
    n_unmatched: int
    mean_pre: float
    mean_post: float
    max_score: float

    def to_dict(self) -> dict:
        return asdict(self)


def normalized_gain(pre: Any, post: Any, *, max_score: float) -> NormalizedGain:
    """Hake's class-average normalized gain <g> and the mean of individual gains.

    ``pre``, ``post``: one score per trainee, same order (Series: same index), on a 0..max_score
    scale (``max_score=100`` for percentages). **Matched pairs only**: a trainee missing either
    score is left out of both means (reported as ``n_unmatched``), so drop-outs do not inflate
    <g> - report attrition next to it. Individual gains skip trainees with pre == max_score
    (undefined), counted in ``n_at_max``. <g> and the mean of individual gains generally differ
    (Bao 2006). Scores outside 0..max_score raise DatasetError.
    """
    if not (isinstance(max_score, numbers.Real) and math.isfinite(max_score) and max_score > 0):
        raise ValueError(f"max_score must be a positive number, not {max_score!r}")
    x, y, unmatched = _paired(pre, post)
    for name, values in (("pre", x), ("post", y)):
        bad = (values < 0) | (values > max_score * (1 + 1e-12))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DatasetError(f"{name} score {values[pos]:g} (matched pair {pos}) is outside 0..{max_score:g}; "
                               f"fix the score or pass the right max_score")
    n = len(x)
    if n == 0:
        raise DatasetError("no trainee has both a pre and a post score; normalized gain needs matched pairs")
    mean_pre, mean_post = float(x.mean()), float(y.mean())
    room = max_score - mean_pre
    g_class = (mean_post - mean_pre) / room if room > 0 else float("nan")
    below = x < max_score
    g_ind = (y[below] - x[below]) / (max_score - x[below])
    return NormalizedGain(g_class=float(g_class), g_individual_mean=float(g_ind.mean()) if len(g_ind) else float("nan"),
                          n=n, n_individual=int(below.sum()), n_at_max=int((~below).sum()), n_unmatched=unmatched,
                          mean_pre=mean_pre, mean_post=mean_post, max_score=float(max_score))


def _differences(pre: Any, post: Any, *, min_n: int) -> np.ndarray:
    x, y, _ = _paired(pre, post)
    if len(x) < min_n:
        raise DatasetError(f"only {len(x)} trainee(s) have both a pre and a post score; at least {min_n} are needed")
    return y - x


def paired_effect_size(pre: Any, post: Any) -> float:
    """Cohen's d_z for paired scores: mean(post - pre) / sd(post - pre, ddof = 1) (= t / sqrt(n)).

    The standardizer is the SD of the differences (Lakens 2013), **not** d_av (mean difference over
    the average of the pre and post SDs, what pingouin's ``eftype='cohen'`` returns for paired
    data) nor d_rm. d_z runs larger than d_av when pre and post correlate, so Cohen's 0.2/0.5/0.8
    benchmarks do not transfer. Matched pairs only (pairs with a missing score dropped). NaN when
    every trainee changed by the same amount (sd = 0).
    """
    d = _differences(pre, post, min_n=2)
    sd = float(d.std(ddof=1))
    return float(d.mean() / sd) if sd > _TINY * max(1.0, float(np.abs(d).max())) else float("nan")


@dataclass(frozen=True)
class PairedTTest:
    """Paired t-test on d = post - pre (positive = gain): t = mean(d) / (sd(d)/sqrt(n)), df = n - 1,
    two-sided p, and the ``confidence`` interval of the mean difference."""

    t: float
    df: int
    p: float
    mean_diff: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)


def paired_ttest(pre: Any, post: Any, *, confidence: float = 0.95) -> PairedTTest:
    """Two-sided paired t-test with the sign convention **post - pre** (scipy's
    ``ttest_rel(post, pre)``; note scipy computes first - second). Matched pairs only. t and p are
    NaN if every difference is the same (sd = 0)."""
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    d = _differences(pre, post, min_n=2)
    n = len(d)
    mean = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n)
    df = n - 1
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
    if se > _TINY * max(1.0, abs(mean)):
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), df))
    else:
        t = p = float("nan")
    return PairedTTest(t=float(t), df=df, p=p, mean_diff=mean, ci_low=mean - half, ci_high=mean + half, n=n,
                       confidence=confidence)


@dataclass(frozen=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test on d = post - pre. ``statistic`` is scipy's two-sided statistic
    min(W+, W-) (``w_plus`` = rank sum of the gains, ``w_minus`` of the losses); ``n`` counts the
    non-zero differences used; ``n_zero`` the pairs dropped because post == pre."""

    statistic: float
    p: float
    n: int
    method: str
    w_plus: float
    w_minus: float
    n_zero: int

    def to_dict(self) -> dict:
        return asdict(self)


def wilcoxon_signed_rank(pre: Any, post: Any) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of post - pre (``scipy.stats.wilcoxon``).

    Zero differences are dropped (Wilcoxon's convention, scipy ``zero_method='wilcox'``); ranks are
    of |d| with ties given mid-ranks. ``method`` is ``"exact"`` (the exact null distribution) when
    at most 50 non-zero differences remain and no |d| are tied, otherwise ``"approx"`` (normal
    approximation with scipy's tie correction, no continuity correction). Matched pairs only.
    """
    from scipy import stats

    x, y, _ = _paired(pre, post)
    d = y - x
    nonzero = d[d != 0]
    n_zero = int(len(d) - len(nonzero))
    if len(nonzero) == 0:
        raise DatasetError(f"all {len(d)} matched pairs have post == pre; the signed-rank test needs at least one change")
    ranks = stats.rankdata(np.abs(nonzero))
    w_plus = float(ranks[nonzero > 0].sum())
    w_minus = float(ranks[nonzero < 0].sum())
    ties = len(np.unique(np.abs(nonzero))) < len(nonzero)
    exact = len(nonzero) <= 50 and not ties
    res = stats.wilcoxon(nonzero, zero_method="wilcox", correction=False, alternative="two-sided",
                         method="exact" if exact else "asymptotic")
    return WilcoxonResult(statistic=float(res.statistic), p=float(res.pvalue), n=int(len(nonzero)),
                          method="exact" if exact else "approx", w_plus=w_plus, w_minus=w_minus, n_zero=n_zero)
