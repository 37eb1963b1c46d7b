"""Item analysis of a test or quiz (Moodle's quiz statistics: facility, discrimination index and
efficiency, flags) and reliability (Cronbach's alpha, alpha if an item is deleted, KR-20)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...errors import DatasetError
from ._inputs import _TINY, _numeric_frame


# --------------------------------------------------------------------------------------------
# 1. item analysis (Moodle quiz statistics)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemFlagRules:
    """Thresholds behind the `flags` column of `item_analysis` (all in percent).

    - ``facility_low`` / ``facility_high``: flag facility < 20 % as "very hard" and > 90 % as
      "very easy" (the p < 0.20 / p > 0.90 convention of the evaluation-methods notes; the
      OU/Moodle bands call 90-94 % "very easy").
    - ``discrimination_low``: flag 0 <= DI < 30 (Moodle question bank: DI < 30 % means the question
      "very likely" needs checking, NEED_FOR_REVISION_LOWER_THRESHOLD); a negative DI gets its own
      flag, "negative discrimination: check the key".
    - ``efficiency_low``: flag DE < 15 % (Moodle quiz report marks such a row as dubious,
      ``is_dubious_question``).
    """

    facility_low: float = 20.0
    facility_high: float = 90.0
    discrimination_low: float = 30.0
    efficiency_low: float = 15.0

    def flags(self, *, facility: float, di: float, de: float, constant: bool) -> str:
        out = []
        if facility < self.facility_low:
            out.append(f"very hard (facility < {self.facility_low:g}%)")
        elif facility > self.facility_high:
            out.append(f"very easy (facility > {self.facility_high:g}%)")
        if constant:
            out.append("no variance: every trainee has the same mark")
        elif not math.isnan(di):
            if di < 0:
                out.append("negative discrimination: check the key")
            elif di < self.discrimination_low:
                out.append(f"low discrimination (<{self.discrimination_low:g})")
        if not math.isnan(de) and de < self.efficiency_low:
            out.append(f"DE < {self.efficiency_low:g}%")
        return "; ".join(out)


@dataclass(frozen=True)
class QuizStatistics:
    """Whole-test statistics of `item_analysis` (Moodle's quiz statistics).

    ``mean``, ``median``, ``sd`` are in marks (``sd`` with ddof = 1); ``mean_percent`` and
    ``sd_percent`` are the same relative to ``max_total`` (the OU guide's targets: mean 50-75 %,
    SD 12-18 %). ``skewness`` and ``kurtosis`` are Moodle's k-statistic ratios
    G1 = k3 / k2^1.5 and G2 = k4 / k2^2 (excess kurtosis, 0 for a normal distribution); they equal
    ``scipy.stats.skew(bias=False)`` and ``scipy.stats.kurtosis(fisher=True, bias=False)`` (and
    Excel's SKEW / KURT); NaN for n < 3 (skewness) or n < 4 (kurtosis). ``cic`` is Moodle's
    coefficient of internal consistency, 100 x Cronbach's alpha with missing marks scored 0;
    ``error_ratio`` = 100 sqrt(1 - cic/100); ``standard_error`` = error_ratio/100 x sd (the SEM,
    in marks).
    """

    n: int
    k: int
    max_total: float
    mean: float
    median: float
    sd: float
    mean_percent: float
    sd_percent: float
    skewness: float
    kurtosis: float
    cic: float
    error_ratio: float
    standard_error: float

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        return pd.Series(self.to_dict(), name="value").to_frame()


@dataclass(frozen=True, eq=False)
class ItemAnalysis:
    """Result of `item_analysis`: ``items`` (one row per item) and ``test`` (`QuizStatistics`)."""

    items: pd.DataFrame = field(repr=False)
    test: QuizStatistics
    rules: ItemFlagRules = ItemFlagRules()

    def to_frame(self) -> pd.DataFrame:
        """The per-item table (a copy)."""
        return self.items.copy()

    def to_dict(self) -> dict:
        items = self.items.reset_index().to_dict(orient="records")
        return {"items": items, "test": self.test.to_dict(), "rules": asdict(self.rules)}


def _max_marks(frame: pd.DataFrame, max_marks: Mapping | pd.Series | None) -> pd.Series:
    if max_marks is None:
        observed = frame.max(axis=0, skipna=True).fillna(0.0)
        return observed.clip(lower=1.0).astype(float)
    given = max_marks if isinstance(max_marks, pd.Series) else pd.Series(dict(max_marks), dtype=object)
    missing = [c for c in frame.columns if c not in given.index]
    if missing:
        raise DatasetError(f"max_marks has no maximum for item(s) {', '.join(map(repr, missing[:5]))}; "
                           f"add them (e.g. from the item bank) or drop those columns")
    out = {}
    for col in frame.columns:
        value = pd.to_numeric(pd.Series([given[col]]), errors="coerce").iloc[0]
        if not (np.isfinite(value) and value > 0):
            raise DatasetError(f"max_marks[{col!r}] is {given[col]!r}; an item maximum must be a positive number")
        out[col] = float(value)
    return pd.Series(out)


def item_analysis(scores: Any, *, max_marks: Mapping | pd.Series | None = None,
                  rules: ItemFlagRules = ItemFlagRules()) -> ItemAnalysis:
    """Classical item analysis with Moodle's quiz-statistics definitions.

    ``scores`` is wide: one row per trainee (the index may hold trainee ids), one numeric column
    per item, marks from 0 to the item's maximum, NaN = not attempted.

    Conventions:

    - **Missing marks are scored 0** for every statistic, as Moodle does for an unanswered question
      in a submitted attempt. A row with no mark at all (the trainee did not sit the test) is
      dropped. ``n`` is the number of trainees the statistics use; ``n_answered`` counts the
      non-missing marks of each item.
    - ``max_marks`` maps item -> maximum mark (a dict or Series, e.g. from
      `coordkit.cohort.wide_scores`). Default: the observed maximum of each column, at least 1 -
      then an item nobody got full marks on looks easier than it is, so pass the real maxima.
      Marks below 0 or above the maximum raise DatasetError.
    - All variances and covariances are over the n trainees with ddof = 1 (Moodle: s - 1).
      R_j = total - x_j is the rest score.

    Per-item columns (percentages):

    - ``facility`` = 100 mean(x_j) / max_j
    - ``sd`` = 100 sd(x_j) / max_j
    - ``intended_weight`` = 100 max_j / sum(max)
    - ``effective_weight`` = 100 sqrt(cov(x_j, X)) / sum_i sqrt(cov(x_i, X)) over the items with
      cov >= 0; NaN for an item whose covariance with the total is negative (Moodle leaves it blank)
    - ``discrimination_index`` = 100 cov(x_j, R_j) / sqrt(var(x_j) var(R_j)): the corrected
      item-rest correlation x 100, not an upper/lower 27 % index; NaN if either variance is 0
    - ``discriminative_efficiency`` = 100 cov(x_j, R_j) / cov_max, cov_max being the covariance of
      x_j and R_j each sorted independently (the largest the marginals allow); NaN if cov_max = 0
    - ``flags``: short text from `ItemFlagRules` ("" when nothing is flagged): "very hard",
      "very easy", "negative discrimination: check the key", "low discrimination (<30)",
      "DE < 15%", and "no variance" for an item on which every trainee has the same mark.

    ``test`` holds the whole-test `QuizStatistics` (n, k, mean, median, sd, skewness, kurtosis,
    cic, error_ratio, standard_error). With small cohorts every index has wide sampling error:
    read ``n`` next to it.
    """
    frame = _numeric_frame(scores, name="scores")
    frame = frame.loc[~frame.isna().all(axis=1)]
    n, k = frame.shape
    if k < 2:
        raise DatasetError(f"scores has {k} item column; item analysis needs at least 2 items "
                           f"(each item is correlated with the rest of the test)")
    if n < 2:
        raise DatasetError(f"scores has {n} trainee with any mark; item analysis needs at least 2")
    maxm = _max_marks(frame, max_marks)
    for col in frame.columns:
        values = frame[col]
        low = values < 0
        high = values > maxm[col] * (1 + 1e-9)
        if low.any() or high.any():
            row = (low | high).idxmax()
            raise DatasetError(
                f"scores column {col!r}, row {row!r}: mark {values[row]:g} is outside 0..{maxm[col]:g}; "
                f"fix the mark, pass the right max_marks[{col!r}], or use NaN for 'not attempted'")

    x = frame.fillna(0.0).to_numpy(dtype=float)
    mx = maxm.to_numpy(dtype=float)
    total = x.sum(axis=1)
    rest = total[:, None] - x
    d = n - 1
    xc = x - x.mean(axis=0)
    rc = rest - rest.mean(axis=0)
    tc = total - total.mean()
    var_x = (xc ** 2).sum(axis=0) / d
    var_r = (rc ** 2).sum(axis=0) / d
    cov_xr = (xc * rc).sum(axis=0) / d
    cov_xt = (xc * tc[:, None]).sum(axis=0) / d
    xs = np.sort(x, axis=0)
    rs = np.sort(rest, axis=0)
    cov_max = ((xs - xs.mean(axis=0)) * (rs - rs.mean(axis=0))).sum(axis=0) / d
    var_t = float((tc ** 2).sum() / d)

    scale = float(mx.sum()) ** 2
    tiny = _TINY * max(scale, 1.0)
    constant = var_x <= tiny
    with np.errstate(invalid="ignore", divide="ignore"):
        di = np.where(constant | (var_r <= tiny), np.nan, 100 * cov_xr / np.sqrt(var_x * var_r))
        de = np.where(np.abs(cov_max) <= tiny, np.nan, 100 * cov_xr / cov_max)
    cov_xt = np.where(np.abs(cov_xt) <= tiny, 0.0, cov_xt)
    nonneg = cov_xt >= 0
    ew_sum = float(np.sqrt(cov_xt[nonneg]).sum())
    if ew_sum > 0:
        ew = np.where(nonneg, 100 * np.sqrt(np.clip(cov_xt, 0, None)) / ew_sum, np.nan)
    else:
        ew = np.full(k, np.nan)

    facility = 100 * x.mean(axis=0) / mx
    items = pd.DataFrame({
        "max_mark": mx,
        "n": n,
        "n_answered": frame.notna().sum(axis=0).to_numpy(dtype=int),
        "facility": facility,
        "sd": 100 * np.sqrt(var_x) / mx,
        "intended_weight": 100 * mx / mx.sum(),
        "effective_weight": ew,
        "discrimination_index": di,
        "discriminative_efficiency": de,
    }, index=pd.Index(frame.columns, name="item"))
    items["flags"] = [rules.flags(facility=float(f), di=float(a), de=float(b), constant=bool(c))
                      for f, a, b, c in zip(facility, di, de, constant)]

    sd_t = math.sqrt(var_t)
    skew = kurt = float("nan")
    if n > 2 and var_t > tiny:
        m2 = float((tc ** 2).mean())
        m3 = float((tc ** 3).mean())
        m4 = float((tc ** 4).mean())
        k2 = n * m2 / (n - 1)
        k3 = n * n * m3 / ((n - 1) * (n - 2))
        skew = k3 / k2 ** 1.5
        if n > 3:
            k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
            kurt = k4 / (k2 * k2)
    if var_t > tiny:
        cic = 100 * k / (k - 1) * (1 - float(var_x.sum()) / var_t)
        error_ratio = 100 * math.sqrt(1 - cic / 100)
        standard_error = error_ratio / 100 * sd_t
    else:
        cic = error_ratio = standard_error = float("nan")
    max_total = float(mx.sum())
    test = QuizStatistics(
        n=n, k=k, max_total=max_total, mean=float(total.mean()), median=float(np.median(total)), sd=sd_t,
        mean_percent=100 * float(total.mean()) / max_total, sd_percent=100 * sd_t / max_total,
        skewness=skew, kurtosis=kurt, cic=cic, error_ratio=error_ratio, standard_error=standard_error)
    return ItemAnalysis(items=items, test=test, rules=rules)


# --------------------------------------------------------------------------------------------
# reliability
# --------------------------------------------------------------------------------------------

def _complete_items(scores: Any, *, min_items: int) -> pd.DataFrame:
    frame = _numeric_frame(scores, name="scores")
    k = frame.shape[1]
    if k < min_items:
        raise DatasetError(f"scores has {k} item column(s); this coefficient needs at least {min_items} items")
    complete = frame.dropna(axis=0, how="any")
    if len(complete) < 2:
        raise DatasetError(f"scores has {len(complete)} trainee(s) with every item answered (listwise deletion "
                           f"of {len(frame) - len(complete)} incomplete rows); at least 2 are needed - "
                           f"score missing marks as 0 first (scores.fillna(0)) if that is what they mean")
    return complete


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= _TINY * max(1.0, float(np.abs(x).max()) ** 2):
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def cronbach_alpha(scores: Any) -> float:
    """Cronbach's alpha, k/(k-1) (1 - sum var(x_j) / var(X)).

    ``scores``: rows = trainees, columns = items. Item and total variances both use ddof = 1 (the
    choice cancels). Missing values: **listwise deletion** - a trainee with any missing item is
    left out (pingouin's ``nan_policy='listwise'``; pingouin's default is pairwise covariances and
    gives a different value on incomplete data). `item_analysis` instead scores missing marks as 0.
    NaN if the total score has no variance.
    """
    complete = _complete_items(scores, min_items=2)
    return _alpha(complete.to_numpy(dtype=float))


def alpha_if_deleted(scores: Any) -> pd.Series:
    """Cronbach's alpha recomputed without each item in turn (Series indexed by item).

    The same trainees are used for every item: listwise deletion over all k items first (see
    `cronbach_alpha`). An item whose removal raises alpha above `cronbach_alpha(scores)` is a
    revision candidate. Needs at least 3 items.
    """
    complete = _complete_items(scores, min_items=3)
    x = complete.to_numpy(dtype=float)
    values = [_alpha(np.delete(x, j, axis=1)) for j in range(x.shape[1])]
    return pd.Series(values, index=pd.Index(complete.columns, name="item"), name="alpha_if_deleted")


def kr20(scores: Any) -> float:
    """Kuder-Richardson 20 for 0/1 items: k/(k-1) (1 - sum p_j q_j / var_p(X)).

    p_j q_j is the item variance with ddof = 0, and var_p(X) the total-score variance with the same
    ddof = 0, so KR-20 equals `cronbach_alpha` on the same 0/1 data (mixing p q with a sample
    variance of totals, as some spreadsheets do, gives a smaller, wrong value). Listwise deletion of
    incomplete rows, as in `cronbach_alpha`. Any value other than 0/1 raises DatasetError.
    """
    complete = _complete_items(scores, min_items=2)
    for col in complete.columns:
        bad = ~complete[col].isin([0.0, 1.0])
        if bad.any():
            row = bad.idxmax()
            raise DatasetError(f"kr20 needs 0/1 items: column {col!r}, row {row!r} holds {complete[col][row]:g}; "
                               f"use cronbach_alpha for partial-credit items")
    x = complete.to_numpy(dtype=float)
    k = x.shape[1]
    p = x.mean(axis=0)
    var_p = x.sum(axis=1).var(ddof=0)
    if var_p <= _TINY:
        return float("nan")
    return float(k / (k - 1) * (1 - float((p * (1 - p)).sum()) / var_p))
