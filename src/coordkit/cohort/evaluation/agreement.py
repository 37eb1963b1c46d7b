"""Inter-rater agreement for rubric grading: Cohen's kappa (unweighted, linear, quadratic), Fleiss'
kappa, the intraclass correlations of McGraw & Wong, and their confidence intervals."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import DatasetError
from ._inputs import _TINY, _as_list, _numeric_frame


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
