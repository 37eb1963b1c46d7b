"""coordkit.evaluation against published or independently computed values.

Each expected number is either printed in a named public source (quoted next to the data) or
computed in the test by writing the formula out with numpy, never by calling the function under
test a second way.
"""

from __future__ import annotations

import io
import math
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from coordkit.errors import DatasetError
from coordkit.cohort.evaluation import (
    alpha_if_deleted, cohen_kappa, cronbach_alpha, fleiss_kappa, icc, item_analysis, kr20,
    normalized_gain, paired_effect_size, paired_ttest, suppress_small_cells, wilcoxon_signed_rank,
)

# ---------------------------------------------------------------------------------------------
# item analysis: Moodle's own fixture, whose expected values were computed independently in a
# spreadsheet (moodle/moodle mod/quiz/report/statistics/tests/fixtures/results00.csv and
# qstats00.csv; quiz stats in stats_from_steps_walkthrough_test.php::check_quiz_stats_for_quiz_00).
# 25 attempts x 7 questions, every question worth 1 mark.
# ---------------------------------------------------------------------------------------------

MOODLE_RESULTS00 = """attempt,s1,s2,s3,s4,s5,s6,s7
1,1,1,1,1,1,0,1
2,1,1,1,1,0.5,1,0
3,1,1,1,1,0.5,0,1
4,0,0,1,1,1,0,0
5,1,0,1,0,0,1,0.5
6,1,1,1,1,0.5,0,0.5
7,0,1,1,1,0.5,1,0.5
8,1,1,1,0,0.5,1,0.5
9,1,0,1,1,1,1,1
10,0,1,1,0,0.5,1,0.5
11,0.8,0,1,1,0.5,1,0.5
12,1,1,1,0,0.5,1,1
13,1,0,1,1,0.5,1,0.5
14,1,0,1,1,1,0,0.5
15,0,0,1,1,0,1,1
16,1,0,1,0,0.5,1,1
17,0.8,0,1,1,0.5,0,1
18,1,0,1,1,0,1,0.5
19,1,0,1,1,0.5,0,0.5
20,0,1,1,0,0.5,1,0
21,1,1,0.3333333,1,0.5,0,0.5
22,1,1,1,0,0.5,0,0.5
23,1,1,1,1,0,1,0.5
24,0,0,1,0,0.5,1,1
25,0,0,1,1,1,1,1
"""

# slot, facility, sd, effectiveweight, discriminationindex, discriminativeefficiency (qstats00.csv;
# facility and sd there are fractions of the 1-mark maximum, ours are percent)
MOODLE_QSTATS00 = [
    ("s1", 0.704, 0.4513682901, 21.2922742344, -7.0650767526, -9.4550536967),
    ("s2", 0.48, 0.5099019514, 18.8979800309, -28.8982125772, -36.7834118938),
    ("s3", 0.973333332, 0.13333334, 4.443012573, -9.1230674268, -21.6545012165),
    ("s4", 0.68, 0.4760952286, 18.9347251357, -22.6306444113, -31.4411395613),
    ("s5", 0.52, 0.3055050463, 11.1450138688, -17.6997047674, -21.1794802584),
    ("s6", 0.64, 0.4898979486, 9.8081339177, -45.3785178421, -56.9365974439),
    ("s7", 0.62, 0.331662479, 15.4788602394, -5.6543166602, -6.5043742058),
]


@pytest.fixture
def moodle00() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(MOODLE_RESULTS00), index_col="attempt")


def test_item_statistics_match_moodle_fixture(moodle00):
    res = item_analysis(moodle00, max_marks={c: 1 for c in moodle00.columns})
    items = res.items
    for slot, fac, sd, ew, di, de in MOODLE_QSTATS00:
        row = items.loc[slot]
        assert row["facility"] == pytest.approx(100 * fac, rel=1e-6), slot
        assert row["sd"] == pytest.approx(100 * sd, rel=1e-6), slot
        assert row["effective_weight"] == pytest.approx(ew, rel=1e-5), slot
        assert row["discrimination_index"] == pytest.approx(di, rel=1e-5), slot
        assert row["discriminative_efficiency"] == pytest.approx(de, rel=1e-5), slot
        assert row["intended_weight"] == pytest.approx(100 / 7)
    assert items["effective_weight"].sum() == pytest.approx(100)
    assert "negative discrimination: check the key" in items.loc["s2", "flags"]
    assert "very easy" in items.loc["s3", "flags"]


def test_quiz_statistics_match_moodle_fixture(moodle00):
    t = item_analysis(moodle00, max_marks={c: 1 for c in moodle00.columns}).test
    expected = {"median": 4.5, "mean": 4.617333332, "sd": 0.8117265554, "skewness": -0.092502502,
                "kurtosis": -0.7073968557, "cic": -87.2230935542, "error_ratio": 136.8294900795,
                "standard_error": 1.1106813066}
    for name, value in expected.items():
        assert getattr(t, name) == pytest.approx(value, rel=1.5e-5), name
    assert (t.n, t.k, t.max_total) == (25, 7, 7.0)
    # Moodle's skewness/kurtosis are the bias-corrected sample statistics G1 / G2 (excess)
    totals = moodle00.sum(axis=1)
    assert t.skewness == pytest.approx(stats.skew(totals, bias=False))
    assert t.kurtosis == pytest.approx(stats.kurtosis(totals, fisher=True, bias=False))


HAND = pd.DataFrame(
    {"q1": [1, 1, 1, 0, 1, 0], "q2": [2, 1, 2, 0, 1, np.nan], "q3": [0, 0, 1, 1, 0, 1], "q4": [1, 1, 1, 1, 1, 1]},
    index=pd.Index(["t1", "t2", "t3", "t4", "t5", "t6"], name="trainee_id"))
HAND_MAX = {"q1": 1, "q2": 2, "q3": 1, "q4": 1}


def test_item_statistics_by_explicit_formula():
    res = item_analysis(HAND, max_marks=HAND_MAX)
    x = HAND.fillna(0).to_numpy(float)  # documented convention: a missing mark counts as 0
    mx = np.array([1, 2, 1, 1], float)
    total = x.sum(axis=1)
    sqrt_cov_total = {}
    for j, item in enumerate(HAND.columns):
        xj, rest = x[:, j], total - x[:, j]
        cov_total = np.cov(xj, total, ddof=1)[0, 1]
        sqrt_cov_total[item] = np.sqrt(cov_total) if cov_total >= -1e-12 else None
        row = res.items.loc[item]
        assert row["facility"] == pytest.approx(100 * xj.mean() / mx[j])
        assert row["sd"] == pytest.approx(100 * xj.std(ddof=1) / mx[j])
        assert row["intended_weight"] == pytest.approx(100 * mx[j] / mx.sum())
        if xj.std() > 0:
            assert row["discrimination_index"] == pytest.approx(100 * np.corrcoef(xj, rest)[0, 1])
            cov_max = np.cov(np.sort(xj), np.sort(rest), ddof=1)[0, 1]
            assert row["discriminative_efficiency"] == pytest.approx(100 * np.cov(xj, rest, ddof=1)[0, 1] / cov_max)
        else:
            assert np.isnan(row["discrimination_index"]) and np.isnan(row["discriminative_efficiency"])
    denom = sum(v for v in sqrt_cov_total.values() if v is not None)
    for item, v in sqrt_cov_total.items():
        got = res.items.loc[item, "effective_weight"]
        assert (np.isnan(got) if v is None else got == pytest.approx(100 * v / denom)), item
    assert res.items.loc["q2", "n_answered"] == 5 and res.items.loc["q2", "n"] == 6
    item_var = x.var(axis=0, ddof=1).sum()
    assert res.test.cic == pytest.approx(100 * 4 / 3 * (1 - item_var / total.var(ddof=1)))
    assert res.test.standard_error == pytest.approx(total.std(ddof=1) * np.sqrt(1 - res.test.cic / 100))


def test_item_flags_name_the_problem():
    items = item_analysis(HAND, max_marks=HAND_MAX).items
    assert items.loc["q3", "discrimination_index"] < 0
    assert "negative discrimination: check the key" in items.loc["q3", "flags"]
    assert "very easy (facility > 90%)" in items.loc["q4", "flags"]
    assert "no variance" in items.loc["q4", "flags"]
    assert items.loc["q1", "flags"] == ""  # facility 67 %, DI > 30, DE > 15
    assert items.loc["q1", "discrimination_index"] > 30


def test_item_analysis_default_max_marks_and_blank_rows():
    frame = pd.DataFrame({"a": [0.5, 0.0, 0.5, np.nan], "b": [3, 1, 2, np.nan]})
    res = item_analysis(frame)  # observed max, at least 1: a -> 1, b -> 3
    assert list(res.items["max_mark"]) == [1.0, 3.0]
    assert res.test.n == 3  # the all-missing row (did not sit the test) is dropped
    assert res.items.loc["a", "facility"] == pytest.approx(100 * (1 / 3) / 1)


def test_item_analysis_errors_name_column_and_fix():
    with pytest.raises(DatasetError, match=r"'trainee_id'.*set_index"):
        item_analysis(HAND.reset_index(), max_marks=HAND_MAX)
    with pytest.raises(DatasetError, match=r"'q2', row 't1'.*outside 0..1"):
        item_analysis(HAND, max_marks={**HAND_MAX, "q2": 1})
    with pytest.raises(DatasetError, match=r"no maximum for item\(s\) 'q4'"):
        item_analysis(HAND, max_marks={"q1": 1, "q2": 2, "q3": 1})
    with pytest.raises(DatasetError, match="at least 2 items"):
        item_analysis(HAND[["q1"]])


# ---------------------------------------------------------------------------------------------
# reliability
# ---------------------------------------------------------------------------------------------

# Statology, "How to Calculate Cronbach's Alpha in Python": pingouin prints (0.7734375, ...)
STATOLOGY = pd.DataFrame({"Q1": [1, 2, 2, 3, 2, 2, 3, 3, 2, 3], "Q2": [1, 1, 1, 2, 3, 3, 2, 3, 3, 3],
                          "Q3": [1, 1, 2, 1, 2, 3, 3, 3, 2, 3]})

# K. Wuensch, "The Kuder-Richardson 20" (core.ecu.edu/wuenschk/StatHelp/KR20.txt): ten students x
# ten items; the page prints sum(pq) = 2.18 and the total-score variance 5.84 (ddof = 0).
WUENSCH = np.array([
    [1, 1, 1, 1, 1, 1, 0, 1, 1, 0], [1, 0, 1, 1, 0, 1, 1, 1, 0, 1], [1, 1, 1, 1, 0, 1, 1, 0, 0, 1],
    [0, 0, 1, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0, 0, 1, 0], [1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
    [1, 1, 0, 1, 1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 0, 1], [0, 1, 0, 1, 1, 1, 1, 1, 0, 1],
    [1, 1, 0, 1, 1, 0, 1, 1, 1, 0]])


def test_cronbach_alpha_published_value():
    assert cronbach_alpha(STATOLOGY) == pytest.approx(0.7734375, abs=1e-9)


def test_cronbach_alpha_listwise_deletion():
    with_gap = pd.concat([STATOLOGY, pd.DataFrame({"Q1": [1], "Q2": [np.nan], "Q3": [3]})], ignore_index=True)
    assert cronbach_alpha(with_gap) == pytest.approx(0.7734375, abs=1e-9)


def test_alpha_if_deleted_by_covariance_formula():
    got = alpha_if_deleted(STATOLOGY)
    for item in STATOLOGY.columns:
        c = np.cov(STATOLOGY.drop(columns=item).to_numpy(float), rowvar=False)
        k = c.shape[0]
        v_bar = np.trace(c) / k
        c_bar = (c.sum() - np.trace(c)) / (k * (k - 1))
        assert got[item] == pytest.approx(k * c_bar / (v_bar + (k - 1) * c_bar)), item
    assert got.idxmax() == "Q1"  # dropping Q1 raises alpha above 0.773: the revision candidate
    assert got["Q1"] > 0.7734375


def test_kr20_published_intermediates_and_equals_alpha():
    expected = 10 / 9 * (1 - 2.18 / 5.84)  # 0.6963 from the page's sum(pq) and variance
    assert kr20(WUENSCH) == pytest.approx(expected, abs=1e-9)
    assert kr20(WUENSCH) == pytest.approx(cronbach_alpha(WUENSCH), abs=1e-12)
    mixed_ddof = 10 / 9 * (1 - 2.18 / (5.84 * 10 / 9))  # pq with a sample (VAR.S) total variance
    assert abs(kr20(WUENSCH) - mixed_ddof) > 0.03


def test_kr20_rejects_partial_credit():
    with pytest.raises(DatasetError, match=r"column 'Q1', row 1 holds 2.*cronbach_alpha"):
        kr20(STATOLOGY)


# ---------------------------------------------------------------------------------------------
# inter-rater agreement
# ---------------------------------------------------------------------------------------------

def _expand(table):
    """Two rating vectors from a square contingency table (rows = rater a, columns = rater b)."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def test_cohen_kappa_wikipedia_example():
    # Wikipedia "Cohen's kappa": 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    res = cohen_kappa(a, b)
    assert (res.p_observed, res.p_expected, res.n) == (pytest.approx(0.7), pytest.approx(0.5), 50)
    assert res.kappa == pytest.approx(0.4)


def test_cohen_kappa_sas_example():
    # SAS PROC FREQ printout reproduced in statsmodels' test_inter_rater.py (table10):
    # simple kappa 0.4842, weighted kappa (Cicchetti-Allison, scores 0,1,2) 0.4701
    a, b = _expand([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert cohen_kappa(a, b, levels=[0, 1, 2]).kappa == pytest.approx(0.4842, abs=5e-5)
    assert cohen_kappa(a, b, weights="linear", levels=[0, 1, 2]).kappa == pytest.approx(0.4701, abs=5e-5)


# irr's `anxiety` data (raters 2 and 3 of 3), as reproduced in statsmodels' test_inter_rater.py.
# The raters use levels 1, 2, 3, 4 and 6 - never 5.
ANXIETY = np.array([
    3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3, 3, 6, 4,
    6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4, 2, 1, 4, 4, 3, 2,
    1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]).reshape(20, 3, order="F")


def _kappa_by_formula(a, b, scores, power):
    """Weighted kappa written out: categories scored by `scores` (a dict value -> score)."""
    cats = sorted(scores)
    idx = {c: i for i, c in enumerate(cats)}
    p = np.zeros((len(cats), len(cats)))
    for u, v in zip(a, b):
        p[idx[u], idx[v]] += 1
    p /= p.sum()
    s = np.array([scores[c] for c in cats], float)
    w = (np.abs(s[:, None] - s[None, :]) / (s.max() - s.min())) ** power
    return 1 - (w * p).sum() / (w * np.outer(p.sum(1), p.sum(0))).sum()


def test_weighted_kappa_scores_declared_level_values_not_ranks():
    r2, r3 = ANXIETY[:, 1], ANXIETY[:, 2]
    assert 5 not in set(r2) | set(r3)
    # published irr::kappa2 values, which score the *used* levels by rank (6 -> 5th level):
    # unweighted -0.006289308, "equal" (linear) 0.1459075, "squared" 0.2520325
    assert cohen_kappa(r2, r3, levels=range(1, 7)).kappa == pytest.approx(-0.006289308, abs=1e-8)
    rank = {1: 1, 2: 2, 3: 3, 4: 4, 6: 5}
    ra, rb = [rank[v] for v in r2], [rank[v] for v in r3]
    assert cohen_kappa(ra, rb, weights="linear").kappa == pytest.approx(0.1459075, abs=1e-7)
    assert cohen_kappa(ra, rb, weights="quadratic").kappa == pytest.approx(0.2520325, abs=1e-7)
    # our convention: the rubric level values 1..6, so level 6 is two steps from 4, not one
    for weights, power in (("linear", 1), ("quadratic", 2)):
        ours = cohen_kappa(r2, r3, weights=weights, levels=[1, 2, 3, 4, 5, 6])
        by_value = _kappa_by_formula(r2, r3, {v: v for v in (1, 2, 3, 4, 6)}, power)
        by_rank = _kappa_by_formula(r2, r3, rank, power)
        assert ours.kappa == pytest.approx(by_value, abs=1e-12)
        assert abs(ours.kappa - by_rank) > 0.015  # the convention changes the published number
        assert ours.scores == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
        # with value scoring an unused level changes nothing: levels=None gives the same kappa
        assert cohen_kappa(r2, r3, weights=weights).kappa == pytest.approx(ours.kappa, abs=1e-12)


def test_weighted_kappa_label_levels_use_declared_positions():
    names = {1: "poor", 2: "fair", 3: "good"}
    a = [1, 1, 2, 2, 3, 3, 1, 3]
    b = [1, 2, 2, 3, 3, 3, 2, 1]
    res = cohen_kappa([names[v] for v in a], [names[v] for v in b], weights="quadratic",
                      levels=["poor", "fair", "good"])
    assert res.kappa == pytest.approx(_kappa_by_formula(a, b, {1: 0, 2: 1, 3: 2}, 2), abs=1e-12)


def test_cohen_kappa_errors():
    with pytest.raises(DatasetError, match=r"rating 7 of b at position 2 is not one of levels"):
        cohen_kappa([1, 2, 3], [1, 2, 7], levels=[1, 2, 3])
    with pytest.raises(DatasetError, match="a has 3 ratings but b has 2"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(DatasetError, match=r"pass levels=\[\.\.\.\] in rubric order"):
        cohen_kappa(["good", "poor"], ["poor", "poor"], weights="linear")
    with pytest.raises(ValueError, match="weights must be"):
        cohen_kappa([1, 2], [1, 2], weights="squared")


def test_cohen_kappa_drops_pairs_with_a_missing_rating():
    res = cohen_kappa([1, 2, None, 2, 1], [1, 2, 2, np.nan, 2])
    assert res.n == 3
    # table [[1,1],[0,1]] -> p_o = 2/3, p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9
    assert res.kappa == pytest.approx((2 / 3 - 4 / 9) / (1 - 4 / 9))


# Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories, kappa = 0.210
WIKI_FLEISS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
               [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]

# Fleiss (1971) psychiatric diagnoses, 30 patients x 6 raters (irr's `diagnoses`, as in statsmodels'
# tests); irr::kappam.fleiss prints kappa = 0.4302445
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]])


def test_fleiss_kappa_published_examples():
    assert fleiss_kappa(WIKI_FLEISS) == pytest.approx(0.210, abs=5e-4)
    counts = np.stack([(DIAGNOSES == c).sum(axis=1) for c in range(1, 6)], axis=1)
    assert fleiss_kappa(counts) == pytest.approx(0.4302445, abs=1e-7)


def test_fleiss_kappa_rows_must_have_same_number_of_ratings():
    table = pd.DataFrame(WIKI_FLEISS, index=[f"s{i}" for i in range(1, 11)])
    table.iloc[2, 0] = 1  # s3 now has 15 ratings
    with pytest.raises(DatasetError, match=r"'s3' sums to 15"):
        fleiss_kappa(table)


# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges
SHROUT_FLEISS = pd.DataFrame([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
                             index=[f"target{i}" for i in range(1, 7)], columns=["J1", "J2", "J3", "J4"])


def test_icc_shrout_fleiss_published_values():
    res = icc(SHROUT_FLEISS)
    published = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
                 "ICC(1,4)": 0.44, "ICC(2,4)": 0.62, "ICC(3,4)": 0.91}
    for label, value in published.items():
        assert res.value(label) == pytest.approx(value, abs=0.005), label
    # the paper's ANOVA table: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02
    assert (res.ms_rows, res.ms_within, res.ms_cols, res.ms_error) == (
        pytest.approx(11.24, abs=0.005), pytest.approx(6.26, abs=0.005),
        pytest.approx(32.49, abs=0.005), pytest.approx(1.02, abs=0.005))
    frame = res.to_frame()
    assert list(frame.index) == ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
    assert frame.loc["ICC(A,1)", "shrout_fleiss"] == "ICC2"
    assert frame.loc["ICC(A,1)", "icc"] == res.icc2 == res.value("ICC2")
    assert res.icc3k == pytest.approx(cronbach_alpha(SHROUT_FLEISS))  # consistency ICC(C,k) = alpha
    assert (res.icc1, res.icc2, res.icc3) == (res.value("ICC(1,1)"), res.value("ICC(A,1)"), res.value("ICC3"))


def test_icc_names_rows_with_missing_ratings():
    gappy = SHROUT_FLEISS.astype(float)
    gappy.loc["target4", "J2"] = np.nan
    with pytest.raises(DatasetError, match=r"'target4'.*dropna"):
        icc(gappy)


# ---------------------------------------------------------------------------------------------
# pre/post
# ---------------------------------------------------------------------------------------------

def test_normalized_gain_matched_pairs_and_pre_at_max():
    pre = [40, 60, 100, 20, np.nan]
    post = [70, 80, 90, np.nan, 50]
    res = normalized_gain(pre, post, max_score=100)
    assert (res.n, res.n_unmatched, res.n_at_max, res.n_individual) == (3, 2, 1, 2)
    mean_pre, mean_post = (40 + 60 + 100) / 3, (70 + 80 + 90) / 3
    assert res.g_class == pytest.approx((mean_post - mean_pre) / (100 - mean_pre))
    assert res.g_individual_mean == pytest.approx(((70 - 40) / 60 + (80 - 60) / 40) / 2)
    with pytest.raises(DatasetError, match="outside 0..10"):
        normalized_gain([5, 12], [6, 9], max_score=10)


# Lakens (2013, Front. Psychol. 4:863), Table 1: ten people rate two movies; the paper reports
# t(9) = 4.74, p = 0.001, Cohen's d_z = 1.50 and d_av = 1.13.
MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]


def test_paired_effect_size_is_dz_not_dav():
    dz = paired_effect_size(MOVIE_2, MOVIE_1)  # post - pre = movie 1 - movie 2
    assert dz == pytest.approx(1.50, abs=0.005)
    assert abs(dz - 1.13) > 0.3  # not d_av
    assert paired_effect_size(MOVIE_1, MOVIE_2) == pytest.approx(-dz)


def test_paired_ttest_against_published_and_scipy():
    res = paired_ttest(MOVIE_2, MOVIE_1)
    assert res.t == pytest.approx(4.74, abs=0.005) and res.df == 9
    assert res.p == pytest.approx(0.001, abs=0.0005)
    rng = np.random.default_rng(7)
    pre = rng.normal(50, 10, 23)
    post = pre + rng.normal(4, 6, 23)
    res = paired_ttest(pre, post)
    ref = stats.ttest_rel(post, pre)
    assert res.t == pytest.approx(ref.statistic) and res.p == pytest.approx(ref.pvalue)
    d = post - pre
    half = stats.t.ppf(0.975, 22) * d.std(ddof=1) / np.sqrt(23)
    assert (res.ci_low, res.ci_high) == (pytest.approx(d.mean() - half), pytest.approx(d.mean() + half))
    assert res.mean_diff > 0 and res.t > 0  # sign convention post - pre


def test_paired_inputs_must_align():
    pre = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    post = pd.Series([2.0, 3.0, 4.0], index=["a", "b", "d"])
    with pytest.raises(DatasetError, match="reindex"):
        paired_ttest(pre, post)
    with pytest.raises(DatasetError, match="pre has 3 values but post has 2"):
        paired_effect_size([1, 2, 3], [1, 2])


# Wilcoxon (1945) via Fisher's Darwin data, the example in scipy.stats.wilcoxon's docs: height
# differences of cross- vs self-fertilized plants; exact two-sided p = 0.04125976...
DARWIN = np.array([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75])


def test_wilcoxon_exact_p_by_enumeration():
    res = wilcoxon_signed_rank(np.zeros(len(DARWIN)), DARWIN)
    assert res.method == "exact" and res.n == 15
    ranks = np.argsort(np.argsort(np.abs(DARWIN))) + 1  # no ties in |d|
    w_plus = ranks[DARWIN > 0].sum()
    assert (res.w_plus, res.w_minus, res.statistic) == (w_plus, 120 - w_plus, min(w_plus, 120 - w_plus))
    null = np.array([sum(r for r, s in zip(range(1, 16), signs) if s)
                     for signs in itertools.product((0, 1), repeat=15)])
    lower = min(w_plus, 120 - w_plus)
    p_exact = min(1.0, 2 * (null <= lower).mean())
    assert res.p == pytest.approx(p_exact, abs=1e-12)
    assert res.p == pytest.approx(0.041259765625, abs=1e-12)


def test_wilcoxon_drops_zeros_and_falls_back_with_ties():
    pre = np.array([10, 10, 10, 10, 10, 10, 10, 10])
    post = pre + np.array([0, 0, 3, 5, -1, 7, 8, 3])  # two zeros, a tie at |3|
    res = wilcoxon_signed_rank(pre, post)
    assert (res.n, res.n_zero, res.method) == (6, 2, "approx")
    ref = stats.wilcoxon([3, 5, -1, 7, 8, 3], method="asymptotic")
    assert res.p == pytest.approx(ref.pvalue)
    with pytest.raises(DatasetError, match="post == pre"):
        wilcoxon_signed_rank([1, 2], [1, 2])


# ---------------------------------------------------------------------------------------------
# small-cell suppression
# ---------------------------------------------------------------------------------------------

def _hidden(out: pd.DataFrame) -> np.ndarray:
    return out.map(lambda v: isinstance(v, str)).to_numpy()


def test_suppression_primary_and_complementary():
    t = pd.DataFrame({"A": [3, 15, 20], "B": [12, 30, 25], "C": [40, 2, 18]}, index=["x", "y", "z"])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    out = suppress_small_cells(t)
    expected = pd.DataFrame({"A": ["<10", "*", 20, 38], "B": ["*", 30, "*", 67], "C": [40, "<10", "*", 60],
                             "Total": [55, 47, 63, 165]}, index=["x", "y", "z", "Total"], dtype=object)
    pd.testing.assert_frame_equal(out, expected)
    hidden = _hidden(out)
    for line in list(hidden) + list(hidden.T):  # no row or column with exactly one hidden cell
        assert line.sum() != 1


def test_suppression_threshold_is_exclusive_and_zero_is_shown():
    t = pd.DataFrame({"a": [10, 0], "b": [25, 40]}, index=["r1", "r2"])
    out = suppress_small_cells(t, threshold=10)  # hide 1..9: 10 and 0 are shown, nothing is hidden
    assert out.loc["r1", "a"] == 10 and out.loc["r2", "a"] == 0 and not _hidden(out).any()
    assert suppress_small_cells(t, threshold=11).loc["r1", "a"] == "<11"  # CMS rule: 1..10 hidden


def test_complement_is_the_smallest_non_zero_cell():
    t = pd.DataFrame({"a": [12, 0, 9], "b": [25, 40, 30]}, index=["r1", "r2", "r3"])
    out = suppress_small_cells(t)
    # 9 is hidden; row r3 then needs a second cell (30); column a takes 12, not the 0 (hiding a
    # known-looking 0 protects nothing); column b then needs a second cell (25, smaller than 40)
    expected = pd.DataFrame({"a": ["*", 0, "<10"], "b": ["*", 40, "*"]}, index=["r1", "r2", "r3"], dtype=object)
    pd.testing.assert_frame_equal(out, expected)


def test_suppression_protects_a_small_total_with_japanese_labels():
    t = pd.DataFrame({"東京": [4, 30], "大阪": [3, 28]}, index=["2024", "2025"])
    t["合計"] = t.sum(axis=1)
    t.loc["合計"] = t.sum()
    out = suppress_small_cells(t)
    assert out.loc["2024", "合計"] == "<10"  # 7 is itself small
    hidden = _hidden(out)
    for line in list(hidden) + list(hidden.T):
        assert line.sum() != 1
    assert out.loc["合計", "合計"] == 65  # the grand total stays visible


def test_suppression_rejects_non_counts():
    with pytest.raises(DatasetError, match=r"row 'r1', column 'a' holds 2.5"):
        suppress_small_cells(pd.DataFrame({"a": [2.5, 20]}, index=["r1", "r2"]))


# -- confidence intervals for rater agreement (issue 12) -----------------------------------------

@pytest.mark.parametrize("form, expected", [
    # pingouin 0.7.0 intraclass_corr on Shrout & Fleiss (1979) Table 2, CI95% to two decimals
    ("ICC(1,1)", (-0.13, 0.72)), ("ICC(A,1)", (0.02, 0.76)), ("ICC(C,1)", (0.34, 0.95)),
    ("ICC(1,k)", (-0.88, 0.91)), ("ICC(A,k)", (0.07, 0.93)), ("ICC(C,k)", (0.68, 0.99)),
])
def test_icc_confidence_intervals_match_pingouin(form, expected):
    from coordkit.cohort.evaluation import icc, icc_ci

    low, high = icc_ci(icc(SHROUT_FLEISS), form)
    assert (round(low, 2), round(high, 2)) == expected


def test_kappa_ci_brackets_kappa_narrows_with_more_answers_and_repeats():
    from coordkit.cohort.evaluation import cohen_kappa, kappa_ci

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 400)
    a = np.clip(truth + rng.integers(-1, 2, 400) * (rng.random(400) < 0.3), 0, 2)
    b = np.clip(truth + rng.integers(-1, 2, 400) * (rng.random(400) < 0.3), 0, 2)
    boot = dict(method="bootstrap", resamples=500)
    small = kappa_ci(a[:40], b[:40], weights="quadratic", levels=[0, 1, 2], **boot)
    large = kappa_ci(a, b, weights="quadratic", levels=[0, 1, 2], **boot)
    k = cohen_kappa(a, b, weights="quadratic", levels=[0, 1, 2]).kappa
    assert large[0] < k < large[1]
    assert (large[1] - large[0]) < (small[1] - small[0])
    assert kappa_ci(a, b, weights="quadratic", levels=[0, 1, 2], **boot) == large
    # the analytic interval (the default) agrees with the bootstrap on 400 answers
    analytic = kappa_ci(a, b, weights="quadratic", levels=[0, 1, 2])
    assert abs(analytic[0] - large[0]) < 0.03 and abs(analytic[1] - large[1]) < 0.03


def _pairs_from_table(table):
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


@pytest.mark.parametrize("weights, expected_kappa, expected_ci", [
    # SAS PROC FREQ AGREE printout for the 3x3 table below, as quoted in statsmodels'
    # test_inter_rater.py: simple kappa 0.4842, ASE 0.1380, 95% CL 0.2137-0.7547; weighted kappa with
    # Cicchetti-Allison (linear) weights on scores 0, 1, 2: 0.4701, ASE 0.1457, 95% CL 0.1845-0.7558
    (None, 0.4842, (0.2137, 0.7547)),
    ("linear", 0.4701, (0.1845, 0.7558)),
])
def test_asymptotic_kappa_ci_matches_sas(weights, expected_kappa, expected_ci):
    from coordkit.cohort.evaluation import cohen_kappa, kappa_ci

    a, b = _pairs_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(cohen_kappa(a, b, weights=weights, levels=[0, 1, 2]).kappa, 4) == expected_kappa
    low, high = kappa_ci(a, b, weights=weights, levels=[0, 1, 2])
    assert (round(low, 4), round(high, 4)) == expected_ci
    # scored by the declared level values: doubling every level changes nothing
    assert kappa_ci([2 * x for x in a], [2 * x for x in b], weights=weights, levels=[0, 2, 4]) == (low, high)


def test_kappa_ci_by_hand_for_perfect_and_chance_agreement():
    from coordkit.cohort.evaluation import kappa_ci

    # perfect agreement on two balanced levels: kappa 1, ASE 0, so the interval is the point
    assert kappa_ci([0, 1] * 10, [0, 1] * 10) == (1.0, 1.0)
    # 2x2 table [[10, 10], [10, 10]], n = 40: kappa 0, P_e 0.5; by hand the off-diagonal cells give
    # sum p_ij (v_ij - 1)^2 = 0.5, minus (0 - 0.5)^2 = 0.25, over n (1 - 0.5)^2 = 10: Var = 1/40
    a, b = _pairs_from_table([[10, 10], [10, 10]])
    low, high = kappa_ci(a, b)
    assert low == pytest.approx(-1.959964 / math.sqrt(40), abs=1e-6)
    assert high == pytest.approx(1.959964 / math.sqrt(40), abs=1e-6)
    # one rater always gives the same level: kappa is 0 but no interval can be claimed (not "0.00-0.00")
    low, high = kappa_ci([2] * 10, [0, 1, 2, 2, 2, 1, 2, 2, 0, 2], weights="quadratic", levels=[0, 1, 2])
    assert math.isnan(low) and math.isnan(high)
