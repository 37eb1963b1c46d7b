"""Cohort evaluation statistics: item analysis of the completion test and quizzes (Moodle's
definitions), reliability, inter-rater agreement for rubric grading, pre/post learning gain, and
small-cell suppression for published tables.

Every function names the convention it follows in its docstring, because these are the choices
that make otherwise-correct code disagree with published values:

- variances are sample variances (ddof = 1) unless a docstring says otherwise, and reliability
  coefficients always use the same ddof for item and total variances (so it cancels);
- missing marks: `item_analysis` scores a missing mark as 0 (as Moodle scores an unanswered
  question in a submitted attempt); `cronbach_alpha`, `alpha_if_deleted` and `kr20` use listwise
  deletion (a trainee with any missing mark is left out);
- weighted kappa scores ordinal categories by their declared level values, never by the rank of
  the levels that happen to be used;
- paired statistics use the sign convention post - pre (a gain is positive).

Inputs may be pandas objects or plain array-likes. Errors a user can cause (a non-numeric column,
a mark above the item maximum, a missing rating where complete data is needed, ...) raise
`coordkit.errors.DatasetError` naming the column or row and the fix; an invalid option value
(e.g. ``weights="squared"``) raises ``ValueError``. scipy is imported only inside the functions
that need it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import DatasetError

__all__ = [
    "ItemFlagRules", "ItemAnalysis", "QuizStatistics", "item_analysis",
    "cronbach_alpha", "alpha_if_deleted", "kr20",
    "KappaResult", "cohen_kappa", "fleiss_kappa", "ICCResult", "icc",
    "NormalizedGain", "normalized_gain", "paired_effect_size", "PairedTTest", "paired_ttest",
    "WilcoxonResult", "wilcoxon_signed_rank", "suppress_small_cells",
]

_TINY = 1e-12  # relative tolerance under which a variance or covariance counts as zero


# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------

def _numeric_frame(data: Any, *, name: str) -> pd.DataFrame:
    """A float DataFrame from a DataFrame or a 2-D array-like; non-numeric columns are named."""
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        if isinstance(data, np.ndarray) and data.ndim != 2:
            raise DatasetError(f"{name} must be a 2-D table (rows x columns), got a {data.ndim}-D array; "
                               f"pass a DataFrame or a list of rows")
        try:
            frame = pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise DatasetError(f"{name} cannot be read as a table ({exc}); pass a DataFrame or a list of rows") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DatasetError(f"{name} is empty ({frame.shape[0]} rows x {frame.shape[1]} columns); "
                           f"check the filter that produced it")
    out = {}
    for col in frame.columns:
        series = frame[col]
        if isinstance(series, pd.DataFrame):
            raise DatasetError(f"{name} has the column name {col!r} more than once; rename the duplicates")
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            out[col] = series.astype(float)
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = series.notna() & converted.isna()
        if bad.any():
            row = bad.idxmax()
            raise DatasetError(
                f"{name} column {col!r} is not numeric (row {row!r} holds {series[row]!r}); "
                f"if it identifies trainees make it the index (e.g. df.set_index({col!r})), "
                f"otherwise fix or drop that column")
        out[col] = converted.astype(float)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _vector(data: Any, *, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """A 1-D float array (and the Series index, if any); non-numeric values are named."""
    index = data.index if isinstance(data, pd.Series) else None
    series = data if isinstance(data, pd.Series) else pd.Series(_as_list(data, name=name))
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float), index
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        where = f"row {series.index[pos]!r}" if index is not None else f"position {pos}"
        raise DatasetError(f"{name} is not numeric ({where} holds {series.iloc[pos]!r}); "
                           f"fix that value or leave it empty (NaN) if the score is missing")
    return converted.to_numpy(dtype=float), index


def _as_list(data: Any, *, name: str) -> list:
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise DatasetError(f"{name} must be a sequence of values (list, array or Series), got {type(data).__name__}")
    values = list(data.ravel()) if isinstance(data, np.ndarray) else list(data)
    if isinstance(data, np.ndarray) and data.ndim != 1:
        raise DatasetError(f"{name} must be 1-D, got an array of shape {data.shape}; pass one column")
    return values


def _paired(pre: Any, post: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Matched (pre, post) pairs: same length, same index if both are Series; pairs with a
    missing value on either side are dropped (their count is returned)."""
    x, ix = _vector(pre, name="pre")
    y, iy = _vector(post, name="post")
    if len(x) != len(y):
        raise DatasetError(f"pre has {len(x)} values but post has {len(y)}; pass one value per trainee in both, "
                           f"in the same order (use NaN for a missing score)")
    if ix is not None and iy is not None and not ix.equals(iy):
        only = [str(v) for v in ix.difference(iy)[:3]] + [str(v) for v in iy.difference(ix)[:3]]
        hint = f" (labels in only one of them: {', '.join(only)})" if only else " (same labels, different order)"
        raise DatasetError(f"pre and post are Series with different indexes{hint}; align them first, "
                           f"e.g. post = post.reindex(pre.index)")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep], int((~keep).sum())


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


# --------------------------------------------------------------------------------------------
# 2. inter-rater agreement
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa. For weighted kappa ``p_observed`` / ``p_expected`` are the weighted
    agreements 1 - sum w_ij p_ij and 1 - sum w_ij p_i. p_.j (the plain proportions when unweighted).
    ``scores`` are the numbers the weights were computed from (one per level)."""

    kappa: float
    p_observed: float
    p_expected: float
    n: int
    weights: str | None
    levels: tuple
    scores: tuple | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def cohen_kappa(a: Any, b: Any, *, weights: str | None = None, levels: Sequence | None = None) -> KappaResult:
    """Cohen's kappa for two raters who rated the same answers, paired by position.

    ``a``, ``b``: one rating per answer (equal lengths; if both are Series their indexes must be
    equal). Pairs where either rating is missing are dropped; ``n`` counts the pairs used.

    ``weights``: None (nominal kappa), ``"linear"`` (w_ij = |s_i - s_j| / (s_max - s_min),
    Cicchetti-Allison) or ``"quadratic"`` (squared, Fleiss-Cohen), in the disagreement form
    kappa_w = 1 - sum w_ij p_ij / sum w_ij p_i. p_.j.

    ``levels``: the declared rubric levels, in order. **Ordinal categories are scored by their
    declared level values** (numeric levels: the values themselves; non-numeric labels: their
    position 0, 1, 2, ... in ``levels``), never by the rank of the levels actually used (as
    irr::kappa2 and scikit-learn without ``labels`` do), which changes weighted kappa when a level
    in the middle of the scale is never used. With value scoring an unused level does not change
    kappa at all. If ``levels`` is None the sorted union of the observed ratings is used (for
    weighted kappa the ratings must then be numeric). A rating not in ``levels`` raises
    DatasetError. kappa is NaN when p_expected = 1 (both raters used one and the same level).
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    ra = _as_list(a, name="a")
    rb = _as_list(b, name="b")
    if len(ra) != len(rb):
        raise DatasetError(f"a has {len(ra)} ratings but b has {len(rb)}; pass one rating per answer from each rater, "
                           f"in the same order (None/NaN where a rater did not rate)")
    if isinstance(a, pd.Series) and isinstance(b, pd.Series) and not a.index.equals(b.index):
        raise DatasetError("a and b are Series with different indexes; align them first, e.g. b = b.reindex(a.index)")
    index = a.index if isinstance(a, pd.Series) else None
    pairs = [(i, u, v) for i, (u, v) in enumerate(zip(ra, rb)) if not (pd.isna(u) or pd.isna(v))]
    if not pairs:
        raise DatasetError("no answer was rated by both raters; kappa needs paired ratings")
    if levels is None:
        observed = {u for _, u, _ in pairs} | {v for _, _, v in pairs}
        try:
            lev = sorted(observed)
        except TypeError:
            raise DatasetError(f"the ratings mix types ({', '.join(sorted(map(repr, observed))[:6])}); "
                               f"pass levels=[...] with the rubric levels in order") from None
        if weights is not None and not all(_is_number(v) for v in lev):
            raise DatasetError(f"weighted kappa needs ordered levels, but the ratings are labels "
                               f"({', '.join(map(repr, lev[:6]))}); pass levels=[...] in rubric order")
    else:
        lev = list(levels)
        if len(set(lev)) != len(lev):
            raise ValueError(f"levels contains duplicates: {lev!r}")
    lev = [v.item() if isinstance(v, np.generic) else v for v in lev]
    position = {level: i for i, level in enumerate(lev)}
    L = len(lev)
    table = np.zeros((L, L))
    for i, u, v in pairs:
        for who, value in (("a", u), ("b", v)):
            if value not in position:
                where = f"row {index[i]!r}" if index is not None else f"position {i}"
                raise DatasetError(f"rating {value!r} of {who} at {where} is not one of levels {lev!r}; "
                                   f"add it to levels or fix the rating")
        table[position[u], position[v]] += 1
    n = len(pairs)
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    expected = np.outer(row, col)
    scores = None
    if weights is None:
        w = 1.0 - np.eye(L)
    else:
        s = np.array([float(v) for v in lev]) if all(_is_number(v) for v in lev) else np.arange(L, dtype=float)
        scores = tuple(float(v) for v in s)
        span = float(s.max() - s.min())
        diff = np.abs(s[:, None] - s[None, :]) / span if span > 0 else np.zeros((L, L))
        w = diff if weights == "linear" else diff ** 2
    disagree_o = float((w * p).sum())
    disagree_e = float((w * expected).sum())
    kappa = 1 - disagree_o / disagree_e if disagree_e > _TINY else float("nan")
    return KappaResult(kappa=float(kappa), p_observed=1 - disagree_o, p_expected=1 - disagree_e, n=n,
                       weights=weights, levels=tuple(lev), scores=scores)


def fleiss_kappa(counts: Any) -> float:
    """Fleiss' kappa from a subjects x categories table of counts.

    ``counts[i, j]`` = number of raters who put subject i in category j; every row must sum to the
    same number of ratings m >= 2 (the raters need not be the same people across subjects).
    P_i = (sum_j n_ij^2 - m) / (m (m - 1)), P = mean P_i, p_j = sum_i n_ij / (N m),
    P_e = sum p_j^2, kappa = (P - P_e) / (1 - P_e) (Fleiss 1971; statsmodels ``fleiss_kappa``).
    NaN when P_e = 1 (every rating in one category). For raw ratings (subjects x raters) build the
    table first, e.g. ``pd.crosstab(long.subject, long.category)``.
    """
    frame = _numeric_frame(counts, name="counts")
    x = frame.to_numpy(dtype=float)
    if np.isnan(x).any():
        r, c = np.argwhere(np.isnan(x))[0]
        raise DatasetError(f"counts row {frame.index[r]!r}, column {frame.columns[c]!r} is empty; "
                           f"a count table has no missing cells (write 0)")
    bad = (x < 0) | (x != np.round(x))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DatasetError(f"counts row {frame.index[r]!r}, column {frame.columns[c]!r} holds {x[r, c]:g}; "
                           f"counts must be whole numbers >= 0 (raters per category)")
    totals = x.sum(axis=1)
    values, freq = np.unique(totals, return_counts=True)
    m = float(values[np.argmax(freq)])
    if len(values) > 1:
        odd = [f"{frame.index[i]!r} sums to {totals[i]:g}" for i in np.flatnonzero(totals != m)[:5]]
        raise DatasetError(f"every row of counts must sum to the same number of ratings m (most rows sum to {m:g}); "
                           f"{'; '.join(odd)}: drop or complete those subjects")
    if m < 2:
        raise DatasetError(f"each subject has {m:g} rating(s); Fleiss' kappa needs at least 2 raters per subject")
    N = x.shape[0]
    P_i = ((x ** 2).sum(axis=1) - m) / (m * (m - 1))
    P_bar = float(P_i.mean())
    p_j = x.sum(axis=0) / (N * m)
    P_e = float((p_j ** 2).sum())
    if 1 - P_e <= _TINY:
        return float("nan")
    return (P_bar - P_e) / (1 - P_e)


_ICC_FORMS = (
    # attribute, McGraw-Wong label, Shrout-Fleiss label, description
    ("icc1", "ICC(1,1)", "ICC1", "one-way random, single rater"),
    ("icc2", "ICC(A,1)", "ICC2", "two-way, absolute agreement, single rater"),
    ("icc3", "ICC(C,1)", "ICC3", "two-way, consistency, single rater"),
    ("icc1k", "ICC(1,k)", "ICC1k", "one-way random, mean of k raters"),
    ("icc2k", "ICC(A,k)", "ICC2k", "two-way, absolute agreement, mean of k raters"),
    ("icc3k", "ICC(C,k)", "ICC3k", "two-way, consistency, mean of k raters"),
)


@dataclass(frozen=True)
class ICCResult:
    """The six intraclass correlations of Shrout & Fleiss (1979) / McGraw & Wong (1996).

    Attributes use the Shrout-Fleiss names (``icc1`` = ICC(1,1), ``icc2`` = ICC(A,1) = ICC(2,1),
    ``icc3`` = ICC(C,1) = ICC(3,1), ``icc1k``, ``icc2k``, ``icc3k``); `value` accepts either
    label. The mean squares of the two-way ANOVA are kept: ``ms_rows`` (targets, BMS),
    ``ms_cols`` (raters, JMS), ``ms_error`` (EMS), ``ms_within`` ((SS_cols + SS_error)/(n(k-1)),
    WMS).
    """

    icc1: float
    icc2: float
    icc3: float
    icc1k: float
    icc2k: float
    icc3k: float
    n: int
    k: int
    ms_rows: float
    ms_cols: float
    ms_error: float
    ms_within: float

    def value(self, label: str) -> float:
        """The ICC for a label such as "ICC(A,1)", "ICC(2,1)", "ICC2", "ICC3k" or, with k raters,
        "ICC(1,4)" for k = 4 (Shrout & Fleiss write k as a number)."""
        key = label.replace(" ", "").replace(f",{self.k})", ",k)")
        aliases = {"ICC(2,1)": "icc2", "ICC(3,1)": "icc3", "ICC(2,k)": "icc2k", "ICC(3,k)": "icc3k"}
        for attr, mw, sf, _ in _ICC_FORMS:
            if key in (mw, sf, attr):
                return getattr(self, attr)
        if key in aliases:
            return getattr(self, aliases[key])
        raise KeyError(f"unknown ICC label {label!r}; use one of {[f[1] for f in _ICC_FORMS]} or {[f[2] for f in _ICC_FORMS]}")

    def to_frame(self) -> pd.DataFrame:
        rows = [{"form": mw, "shrout_fleiss": sf, "description": desc, "icc": getattr(self, attr)}
                for attr, mw, sf, desc in _ICC_FORMS]
        return pd.DataFrame(rows).set_index("form")

    def to_dict(self) -> dict:
        return asdict(self)


def icc(ratings: Any) -> ICCResult:
    """Intraclass correlations from a targets x raters table of numeric scores (complete data).

    Two-way ANOVA without replication: MSR (targets), MSC (raters), MSE (residual),
    MSW = (SS_C + SS_E) / (n (k - 1)); then

    ICC(1,1) = (MSR - MSW) / (MSR + (k-1) MSW);  ICC(A,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n);
    ICC(C,1) = (MSR - MSE) / (MSR + (k-1) MSE);  ICC(1,k) = (MSR - MSW) / MSR;
    ICC(A,k) = (MSR - MSE) / (MSR + (MSC - MSE) / n);  ICC(C,k) = (MSR - MSE) / MSR (= alpha, raters as items).

    For rubric marking where graders are a sample and the absolute mark matters, report ICC(A,1)
    (or ICC(A,k) if the final mark averages k graders). A row with any missing rating raises
    DatasetError naming the rows (drop those targets or complete them).
    """
    frame = _numeric_frame(ratings, name="ratings")
    missing = frame.isna().any(axis=1)
    if missing.any():
        rows = [repr(r) for r in frame.index[missing][:10]]
        more = f" and {int(missing.sum()) - 10} more" if missing.sum() > 10 else ""
        raise DatasetError(f"ratings has missing values in row(s) {', '.join(rows)}{more}; ICC needs complete data: "
                           f"drop those targets (ratings.dropna()) or complete their ratings")
    n, k = frame.shape
    if n < 2 or k < 2:
        raise DatasetError(f"ratings is {n} targets x {k} raters; ICC needs at least 2 of each "
                           f"(rows = answers rated, columns = raters)")
    x = frame.to_numpy(dtype=float)
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))

    def ratio(num: float, den: float) -> float:
        return float(num / den) if abs(den) > _TINY * max(1.0, abs(num)) else float("nan")

    return ICCResult(
        icc1=ratio(msr - msw, msr + (k - 1) * msw),
        icc2=ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n),
        icc3=ratio(msr - mse, msr + (k - 1) * mse),
        icc1k=ratio(msr - msw, msr),
        icc2k=ratio(msr - mse, msr + (msc - mse) / n),
        icc3k=ratio(msr - mse, msr),
        n=n, k=k, ms_rows=float(msr), ms_cols=float(msc), ms_error=float(mse), ms_within=float(msw))


def icc_ci(result: ICCResult, form: str = "ICC(A,1)", *, confidence: float = 0.95) -> tuple[float, float]:
    """The confidence interval of one ICC form, from the F distribution of its mean-square ratio:
    exact for the one-way and consistency forms (Shrout & Fleiss 1979), the Satterthwaite
    approximation for absolute agreement (McGraw & Wong 1996, Table 7). Checked against pingouin
    0.7 on Shrout & Fleiss's example (tests/unit/test_evaluation.py)."""
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    attr = next((a for a, mw, sf, _ in _ICC_FORMS if form.replace(" ", "") in (a, mw, sf)), None)
    if attr is None:
        raise KeyError(f"unknown ICC form {form!r}; use one of {[f[1] for f in _ICC_FORMS]}")
    n, k = result.n, result.k
    msr, msc, mse, msw = result.ms_rows, result.ms_cols, result.ms_error, result.ms_within
    q = 1 - (1 - confidence) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        if attr in ("icc1", "icc1k"):
            f, df2 = msr / msw, n * (k - 1)
        elif attr in ("icc3", "icc3k"):
            f, df2 = msr / mse, (n - 1) * (k - 1)
        else:
            f = None
        if f is not None:
            fl = f / stats.f.ppf(q, n - 1, df2)
            fu = f * stats.f.ppf(q, df2, n - 1)
            if attr.endswith("k"):
                return float(1 - 1 / fl), float(1 - 1 / fu)
            return float((fl - 1) / (fl + k - 1)), float((fu - 1) / (fu + k - 1))
        r = result.icc2
        a = k * r / (n * (1 - r))
        b = 1 + k * r * (n - 1) / (n * (1 - r))
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
        fu, fl = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
        low = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
        high = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
        if attr == "icc2k":
            low, high = low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1))
        return float(low), float(high)


def kappa_ci(a: Any, b: Any, *, weights: str | None = None, levels: Sequence | None = None,
             confidence: float = 0.95, method: str = "asymptotic", resamples: int = 2000,
             seed: int = 0) -> tuple[float, float]:
    """A confidence interval for `cohen_kappa` (same ``weights`` and ``levels`` conventions).

    ``method="asymptotic"`` (default): kappa +/- z * ASE with the large-sample standard error of
    Fleiss, Cohen & Everitt (1969), the ``ASE`` that SAS PROC FREQ prints and statsmodels'
    ``cohens_kappa`` returns as ``std_kappa`` (evaluation-methods 2.1). With agreement weights
    v_ij = 1 - w_ij, vbar_i. = sum_j p_.j v_ij, vbar_.j = sum_i p_i. v_ij:
    Var = [sum_ij p_ij (v_ij - (vbar_i. + vbar_.j)(1 - kappa))^2 - (kappa - P_e (1 - kappa))^2]
    / (n (1 - P_e)^2). The upper bound is capped at 1 (kappa cannot exceed it). NaN bounds when a
    rater used a single level (kappa is then 0 by construction and the large-sample variance
    degenerates to 0, which would print a false "0.00-0.00"); use the bootstrap or more answers.
    Checked against SAS's printout in tests/unit/test_evaluation.py.

    ``method="bootstrap"``: percentile bootstrap (answers resampled with replacement,
    ``resamples`` times, fixed ``seed`` so a report is repeatable); resamples in which kappa is
    undefined (every rating one level) are left out; NaN bounds if most are.
    """
    from scipy import stats

    if method not in ("asymptotic", "bootstrap"):
        raise ValueError(f"method must be 'asymptotic' or 'bootstrap', not {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    base = cohen_kappa(a, b, weights=weights, levels=levels)
    ra, rb = _as_list(a, name="a"), _as_list(b, name="b")
    pairs = [(u, v) for u, v in zip(ra, rb) if not (pd.isna(u) or pd.isna(v))]
    if method == "asymptotic":
        kappa = base.kappa
        if np.isnan(kappa):
            return float("nan"), float("nan")
        position = {level: i for i, level in enumerate(base.levels)}
        L = len(base.levels)
        table = np.zeros((L, L))
        for u, v in pairs:
            table[position[u], position[v]] += 1
        n = table.sum()
        p = table / n
        row, col = p.sum(axis=1), p.sum(axis=0)
        if (row > 0).sum() < 2 or (col > 0).sum() < 2:
            return float("nan"), float("nan")     # one rater used a single level: the ASE collapses to 0
        if weights is None:
            agree = np.eye(L)
        else:
            s = np.array(base.scores, dtype=float)
            span = float(s.max() - s.min())
            diff = np.abs(s[:, None] - s[None, :]) / span if span > 0 else np.zeros((L, L))
            agree = 1 - (diff if weights == "linear" else diff ** 2)
        pe = 1 - (1 - base.p_expected)            # = sum v_ij p_i. p_.j
        vi = agree @ col                          # vbar_i.
        vj = row @ agree                          # vbar_.j
        inner = (p * (agree - (vi[:, None] + vj[None, :]) * (1 - kappa)) ** 2).sum()
        var = (inner - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
        half = float(stats.norm.ppf(1 - (1 - confidence) / 2)) * math.sqrt(max(var, 0.0))
        return float(kappa - half), float(min(kappa + half, 1.0))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        pick = rng.integers(len(pairs), size=len(pairs))
        k = cohen_kappa([pairs[i][0] for i in pick], [pairs[i][1] for i in pick], weights=weights,
                        levels=base.levels).kappa
        if not np.isnan(k):
            values.append(k)
    if len(values) < resamples / 2:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


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


# --------------------------------------------------------------------------------------------
# 4. small-cell suppression
# --------------------------------------------------------------------------------------------

def _is_total(label: Any, total_labels: Sequence[str]) -> bool:
    return isinstance(label, str) and label.strip() in total_labels


def suppress_small_cells(table: Any, *, threshold: int = 10, marker: str | None = None,
                         complement_marker: str = "*",
                         total_labels: Sequence[str] = ("Total", "合計", "All")) -> pd.DataFrame:
    """Hide small counts in a table for publication, with complementary suppression.

    ``table``: counts (whole numbers >= 0), e.g. a ``pd.crosstab`` with or without margins.

    - **Primary suppression**: every count with 1 <= value < ``threshold`` is replaced by ``marker``
      (default ``"<10"`` for threshold 10, i.e. 1..9 are hidden and 10 is shown). 0 is shown. For
      the US CMS rule (1-10 hidden) pass ``threshold=11``.
    - **Complementary suppression**: a hidden value can be recovered by subtraction when it is the
      only hidden cell of a row or column whose total is known. So every row and every column
      that has exactly one hidden cell gets a second one: the smallest visible count of that line,
      preferring cells outside the total row/column (labels in ``total_labels``: "Total", "合計",
      and pandas' margins name "All") and non-zero counts; ties go to the first in table order.
      Complementary cells show ``complement_marker`` (default ``"*"``; "<10" would misstate a
      larger count - pass the same marker for both if readers must not tell them apart). This is
      repeated until no row or column has exactly one hidden cell. The total row and column are
      themselves checked as lines, so a small total that was hidden cannot be recovered from the
      grand total either.

    Returns an object-dtype DataFrame with the same labels: shown counts as ints, hidden ones as
    markers. This is the usual heuristic, not a linear-programming audit: with many hidden cells
    in one table, check that no hidden value is pinned down by the others.
    """
    if not (isinstance(threshold, numbers.Integral) and threshold >= 1):
        raise ValueError(f"threshold must be a whole number >= 1, not {threshold!r}")
    primary_marker = f"<{threshold}" if marker is None else marker
    frame = _numeric_frame(table, name="table")
    x = frame.to_numpy(dtype=float)
    bad = np.isnan(x) | (x < 0) | (x != np.round(x))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "is empty" if np.isnan(x[r, c]) else f"holds {x[r, c]:g}"
        raise DatasetError(f"table row {frame.index[r]!r}, column {frame.columns[c]!r} {what}; "
                           f"cells must be counts (whole numbers >= 0, 0 for none)")
    counts = x.astype(np.int64)
    n_rows, n_cols = counts.shape
    total_row = np.array([_is_total(v, total_labels) for v in frame.index])
    total_col = np.array([_is_total(v, total_labels) for v in frame.columns])
    hidden = (counts >= 1) & (counts < threshold)
    primary = hidden.copy()

    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[c] for c in line) != 1:
                continue
            candidates = [c for c in line if not hidden[c]]
            if not candidates:
                continue
            pick = min(candidates, key=lambda c: (bool(total_row[c[0]] or total_col[c[1]]), counts[c] == 0, counts[c],
                                                  c[0], c[1]))
            hidden[pick] = True
            changed = True

    out = pd.DataFrame(counts, index=frame.index, columns=frame.columns).astype(object)
    for i in range(n_rows):
        for j in range(n_cols):
            if primary[i, j]:
                out.iat[i, j] = primary_marker
            elif hidden[i, j]:
                out.iat[i, j] = complement_marker
            else:
                out.iat[i, j] = int(counts[i, j])
    return out
