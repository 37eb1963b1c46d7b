"""What the evaluator notebooks show of a cohort, level by level (Kirkpatrick): the headline, the
stage funnel and the gates, test marks and pre/post (level 2), the reaction survey (level 1), rater
agreement inputs, the follow-up survey and consultation records (levels 3 and 4), and subgroups.

The aggregations are vectorised (categorical codes, no per-group Python functions) so that the same
code runs on a 60-trainee cohort and on a million consultation records (see bench/evaluate.py)."""

from __future__ import annotations

import math
from typing import Sequence

from ..errors import DatasetError
from ..vocab import GATES, ORG_TYPE_LABELS, STAGE_LABELS, STAGES, SUCCESS
from .load import Cohort
from .tables import COMPETENCY_USE, OUTCOMES


def headline(cohort: Cohort, *, pass_mark: float | None = None) -> dict:
    """The cohort's headline figures: trainees, submissions, mean autograded score (%), share at or
    above `pass_mark` percent (default: the certification rule's, coordkit.rule.DEFAULT_PASS_PERCENT;
    an assumption: the official pass mark is not published)."""
    from ..rule import DEFAULT_PASS_PERCENT

    pass_mark = DEFAULT_PASS_PERCENT if pass_mark is None else float(pass_mark)
    scores = cohort.scores
    auto = scores[scores["kind"] == "auto"]
    per = auto.groupby(["trainee_id", "assignment"])[["score", "max_score"]].sum()
    pct = 100 * per["score"] / per["max_score"]
    return {
        "trainees": int(len(cohort.trainees)),
        "submissions": int(len(per)),
        "mean_auto_percent": round(float(pct.mean()), 1) if len(pct) else float("nan"),
        "pass_mark_percent": pass_mark,
        "at_or_above_pass_mark": int((pct >= pass_mark).sum()),
        "awaiting_manual_grading": int(scores["needs_manual_grade"].sum()),
        "mean_satisfaction": round(float(cohort.reaction["satisfaction"].mean()), 2)
        if cohort.reaction is not None else float("nan"),
    }


# --------------------------------------------------------------------------------------------
# level 2: gates, test marks, pre/post
# --------------------------------------------------------------------------------------------

def funnel(enrolment):
    """Stage by stage: ``reached`` (trainees with a row), ``succeeded`` (completed, passed,
    attended...), ``stopped`` (withdrawn, failed, absent), ``rate`` = succeeded / reached (percent:
    the gate pass rate for tp1_check and completion_test) and ``of_enrolled`` = succeeded / enrolled
    (percent). A trainee still in a stage is counted as reached and succeeded at the stage before."""
    import numpy as np
    import pandas as pd

    stage = pd.Categorical(enrolment["stage"], categories=STAGES)
    codes = stage.codes
    success = (enrolment["status"].to_numpy() == enrolment["stage"].map(SUCCESS).to_numpy())
    reached = np.bincount(codes, minlength=len(STAGES))
    succeeded = np.bincount(codes, weights=success, minlength=len(STAGES)).astype(int)
    enrolled = max(int(reached[0]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(reached > 0, 100 * succeeded / reached, np.nan)
    return pd.DataFrame({"label": [STAGE_LABELS[s] for s in STAGES], "reached": reached,
                         "succeeded": succeeded, "stopped": reached - succeeded, "rate": rate,
                         "of_enrolled": 100 * succeeded / enrolled}, index=pd.Index(STAGES, name="stage"))


def final_manual_marks(rubric_scores):
    """Each written answer's mark: the mean over its raters of the rater's total over the criteria.
    Columns: trainee_id, assignment, grade_id, score, max_score, raters."""
    per_rater = rubric_scores.groupby(["trainee_id", "assignment", "grade_id", "rater_id"], observed=True,
                                      sort=False)[["points", "max_points"]].sum()
    marks = per_rater.groupby(level=[0, 1, 2], sort=True).agg(
        score=("points", "mean"), max_score=("max_points", "max"), raters=("points", "size"))
    return marks.reset_index()


def item_order(grade_ids) -> list[str]:
    """Grade ids in question order (q2 before q10), as the bank lists them."""
    import re

    def key(gid: str):
        m = re.match(r"q(\d+)", gid)
        return (int(m.group(1)) if m else 10**9, gid)

    return sorted(grade_ids, key=key)


def assignment_marks(cohort: Cohort, assignment: str, *, include_manual: bool = True):
    """Trainees x items (marks) of one assignment, and the items' maxima: the autograded items from
    scores.csv, and (with `include_manual`) each written answer's mark from the gradebook if graded
    there (needs_manual_grade false), else its rubric mark (`final_manual_marks`). A written answer
    with no mark stays NaN."""
    import pandas as pd

    rows = cohort.scores[cohort.scores["assignment"] == assignment]
    if not include_manual:
        rows = rows[rows["kind"] == "auto"]
    # nbgrader exports a written answer awaiting manual grading with score 0: it has no mark yet
    rows = rows.assign(score=rows["score"].mask(rows["needs_manual_grade"] & (rows["kind"] == "manual")))
    if include_manual and cohort.rubric_scores is not None:
        manual = final_manual_marks(cohort.rubric_scores[cohort.rubric_scores["assignment"] == assignment])
        keyed = manual.set_index(["trainee_id", "grade_id"])["score"]
        key = pd.MultiIndex.from_frame(rows[["trainee_id", "grade_id"]])
        fill = pd.Series(keyed.reindex(key).to_numpy(), index=rows.index)
        rows = rows.assign(score=rows["score"].fillna(fill))
    wide = rows.pivot_table(index="trainee_id", columns="grade_id", values="score", aggfunc="first",
                            dropna=False)
    wide = wide.reindex(index=sorted(rows["trainee_id"].unique()), columns=item_order(rows["grade_id"].unique()))
    max_marks = rows.groupby("grade_id")["max_score"].max().reindex(wide.columns)
    return wide, max_marks


def assignment_percent(cohort: Cohort, assignment: str, *, include_manual: bool = True):
    """Each trainee's percent of the assignment's maximum (NaN if a mark is missing)."""
    wide, max_marks = assignment_marks(cohort, assignment, include_manual=include_manual)
    return (100 * wide.sum(axis=1, min_count=len(wide.columns)) / float(max_marks.sum())).rename(assignment)


def gate_check(cohort: Cohort, *, pass_mark=None):
    """The gate decisions in enrolment.csv against the marks in the gradebook: for each gate with
    scores, trainees with a decision, with a complete mark, and disagreements (passed below the
    gate's pass mark, or failed at or above it). `pass_mark`: as coordkit.rule.gate_pass_marks takes
    it (None: the certification rule's marks; a number: every gate; a mapping: rule overrides)."""
    import pandas as pd

    from ..rule import gate_pass_marks

    marks = gate_pass_marks(pass_mark)

    rows = []
    for gate in GATES:
        if cohort.enrolment is None or gate not in cohort.assignments:
            continue
        decided = cohort.enrolment[cohort.enrolment["stage"] == gate].set_index("trainee_id")["status"]
        pct = assignment_percent(cohort, gate).reindex(decided.index)
        known = pct.notna()
        passed = decided == "passed"
        disagree = known & (passed != (pct >= marks[gate]))
        rows.append({"gate": gate, "decided": int(len(decided)), "with_complete_mark": int(known.sum()),
                     "disagreements": int(disagree.sum()),
                     "examples": ", ".join(sorted(disagree[disagree].index)[:5])})
    return pd.DataFrame(rows, columns=["gate", "decided", "with_complete_mark", "disagreements", "examples"])


def pre_post(cohort: Cohort, *, post: str = "completion_test"):
    """Matched pre-test and post-test percentages per trainee. The post score is the percent on the
    autograded items of `post` (the pre-test is a parallel form of those items); trainees without
    both are dropped. Raises DatasetError when there is no pre-test or no `post` scores."""
    import pandas as pd

    if cohort.pretest is None:
        raise DatasetError(f"{cohort.folder / 'pretest.csv'}: no pre-test table; the learning gain needs it")
    if post not in cohort.assignments:
        raise DatasetError(f"{cohort.folder / 'scores.csv'}: no scores for {post!r}; the learning gain "
                           f"compares the pre-test with it (found: {', '.join(cohort.assignments) or 'none'})")
    pre = cohort.pretest.set_index("trainee_id")
    pre_pct = 100 * pre["pre_score"] / pre["max_score"]
    post_pct = assignment_percent(cohort, post, include_manual=False)
    both = pd.DataFrame({"pre": pre_pct, "post": post_pct}).dropna()
    both.index.name = "trainee_id"
    return both


# --------------------------------------------------------------------------------------------
# level 1: reaction
# --------------------------------------------------------------------------------------------

def reaction_summary(reaction, *, by: str | Sequence[str] = "module"):
    """Per group (default: module): responses, mean and top-2-box (% answering 4 or 5) of
    satisfaction and relevance, promoters (9-10) and detractors (0-6) of the 0-10 recommend item,
    NPS = % promoters - % detractors, and the number of comments."""
    import numpy as np

    r = reaction
    flags = r.assign(_sat=(r["satisfaction"] >= 4).astype(float), _rel=(r["relevance"] >= 4).astype(float),
                     _pro=(r["recommend"] >= 9).astype(float), _det=(r["recommend"] <= 6).astype(float),
                     _com=(r["comment"].astype(str).str.len() > 0).astype(float),
                     _satv=r["satisfaction"].astype(float), _relv=r["relevance"].astype(float))
    out = flags.groupby(by, observed=True, sort=True).agg(
        responses=("_sat", "size"), satisfaction_mean=("_satv", "mean"), satisfaction_top2=("_sat", "mean"),
        relevance_mean=("_relv", "mean"), relevance_top2=("_rel", "mean"), promoters=("_pro", "sum"),
        detractors=("_det", "sum"), comments=("_com", "sum"))
    for col in ("satisfaction_top2", "relevance_top2"):
        out[col] = 100 * out[col]
    for col in ("promoters", "detractors", "comments"):
        out[col] = out[col].astype(int)
    out["nps"] = 100 * (out["promoters"] - out["detractors"]) / out["responses"].replace(0, np.nan)
    return out


# --------------------------------------------------------------------------------------------
# rater agreement
# --------------------------------------------------------------------------------------------

def rater_pairs(rubric_scores, *, level: str = "criterion"):
    """The double-marked answers side by side: one row per answer (level="answer": summed over the
    criteria) or per answer x criterion (level="criterion"), with rater_a / rater_b (ordered by rater
    id) and points_a / points_b, and max_points. Answers marked by one rater are left out; an answer
    with three or more raters keeps its first two."""
    keys = ["trainee_id", "assignment", "grade_id"] + (["criterion"] if level == "criterion" else [])
    if level not in ("criterion", "answer"):
        raise ValueError(f"level must be 'criterion' or 'answer', not {level!r}")
    per = rubric_scores.groupby(keys + ["rater_id"], observed=True, sort=True)[["points", "max_points"]].sum()
    per = per.reset_index()
    per["_n"] = per.groupby(keys, sort=False).cumcount()
    a = per[per["_n"] == 0].set_index(keys)
    b = per[per["_n"] == 1].set_index(keys)
    out = a[["rater_id", "points", "max_points"]].join(b[["rater_id", "points"]], how="inner", lsuffix="_a",
                                                       rsuffix="_b")
    return out[["rater_id_a", "rater_id_b", "points_a", "points_b", "max_points"]]


def rater_severity(rubric_scores):
    """Per rater, over the double-marked answers: answers marked, and the mean difference between the
    rater's total and the co-rater's (positive = more lenient than colleagues), in points."""
    import pandas as pd

    pairs = rater_pairs(rubric_scores, level="answer")
    diff = pairs["points_a"] - pairs["points_b"]
    long = pd.concat([pd.DataFrame({"rater_id": pairs["rater_id_a"].to_numpy(), "diff": diff.to_numpy()}),
                      pd.DataFrame({"rater_id": pairs["rater_id_b"].to_numpy(), "diff": -diff.to_numpy()})])
    out = long.groupby("rater_id").agg(double_marked=("diff", "size"), mean_difference=("diff", "mean"))
    answers = rubric_scores[["rater_id", "trainee_id", "assignment", "grade_id"]].drop_duplicates()
    marked = answers["rater_id"].astype(str).value_counts()
    out.insert(0, "answers_marked", marked.reindex(out.index).fillna(0).astype(int))
    return out


# --------------------------------------------------------------------------------------------
# levels 3 and 4: follow-up and consultation records
# --------------------------------------------------------------------------------------------

PERIODS = ("before", "during", "after")
PERIOD_LABELS = {"before": "研修前", "during": "研修中", "after": "研修後"}


def trainee_milestones(enrolment):
    """Per trainee: enrolled (date), exit (the date of the last stage: certification, or the stage
    where the trainee stopped) and certified (bool)."""
    import pandas as pd

    e = enrolment
    start = e.loc[e["stage"] == "enrolled"].set_index("trainee_id")["date"]
    end = e.groupby("trainee_id", observed=True)["date"].max()
    certified = pd.Series(False, index=end.index)
    certified[e.loc[e["stage"] == "certified", "trainee_id"].to_numpy()] = True
    return pd.DataFrame({"enrolled": start.reindex(end.index), "exit": end, "certified": certified})


def consultation_periods(consultations, enrolment):
    """The consultation records with ``period`` (before: before enrolment; during: from enrolment to
    the trainee's last stage; after: after it, i.e. after certification for certified trainees) and
    ``certified`` (the handling trainee was certified). Vectorised over categorical codes."""
    import numpy as np
    import pandas as pd

    ms = trainee_milestones(enrolment)
    tid = consultations["trainee_id"]
    cats = tid.cat.categories if isinstance(tid.dtype, pd.CategoricalDtype) else None
    if cats is None:
        tid = tid.astype("category")
        cats = tid.cat.categories
    codes = tid.cat.codes.to_numpy()
    aligned = ms.reindex(cats)
    start = aligned["enrolled"].to_numpy(dtype="datetime64[s]")[codes]
    end = aligned["exit"].to_numpy(dtype="datetime64[s]")[codes]
    certified = aligned["certified"].fillna(False).to_numpy(dtype=bool)[codes]
    date = consultations["date"].to_numpy(dtype="datetime64[s]")
    period = np.where(date < start, 0, np.where(date <= end, 1, 2)).astype(np.int8)
    period[np.isnat(start)] = -1
    return consultations.assign(period=pd.Categorical.from_codes(period, categories=PERIODS),
                                certified=certified)


def consultation_outcomes(consultations, enrolment=None, *, by: Sequence[str] = ("certified", "period")):
    """Outcome rates per group: records, closed (not pending), and as percent of the closed records
    resolved (at the counter), referred (connected to a partner), connected (= resolved + referred,
    the coordinator's aim) and unresolved; median days to resolution or referral. ``by`` may name
    period/certified (then `enrolment` is needed) and any column of the records (topic, language,
    issues, trainee_id)."""
    import numpy as np
    import pandas as pd

    frame = consultations
    by = list(by)
    if {"period", "certified"} & set(by) and "period" not in frame.columns:
        if enrolment is None:
            raise DatasetError("grouping by period or certified needs the enrolment table")
        frame = consultation_periods(frame, enrolment)
    keys = [frame[c] for c in by]
    grouped = pd.DataFrame({f"_k{i}": k for i, k in enumerate(keys)})
    outcome = pd.Categorical(frame["outcome"], categories=list(OUTCOMES)).codes
    for i, name in enumerate(OUTCOMES):
        grouped[name] = (outcome == i)
    closed = outcome != list(OUTCOMES).index("pending")
    grouped["closed"] = closed
    grouped["_days"] = frame["days_to_resolution"].astype("float64").to_numpy()
    g = grouped.groupby([f"_k{i}" for i in range(len(by))], observed=True, sort=True)
    counts = g[["closed", *OUTCOMES]].sum()
    out = pd.DataFrame({"records": g.size(), "closed": counts["closed"]})
    denom = out["closed"].replace(0, np.nan)
    for name in ("resolved", "referred", "unresolved"):
        out[name] = 100 * counts[name] / denom
    out["connected"] = out["resolved"] + out["referred"]
    out["median_days"] = g["_days"].median()
    out.index.names = by
    return out


def coordinator_change(consultations, enrolment, *, min_records: int = 5):
    """Per trainee with at least `min_records` closed records both before and after the training:
    connected % before and after, and the change (percentage points); median days before and after."""
    import pandas as pd

    per = consultation_outcomes(consultations, enrolment, by=("trainee_id", "period"))
    wide = per[["closed", "connected", "median_days"]].unstack("period")
    need = [("closed", "before"), ("closed", "after")]
    if not all(c in wide.columns for c in need):
        return pd.DataFrame(columns=["closed_before", "closed_after", "connected_before", "connected_after",
                                     "change", "days_before", "days_after"])
    keep = (wide[("closed", "before")] >= min_records) & (wide[("closed", "after")] >= min_records)
    w = wide[keep]
    return pd.DataFrame({"closed_before": w[("closed", "before")].astype(int),
                         "closed_after": w[("closed", "after")].astype(int),
                         "connected_before": w[("connected", "before")], "connected_after": w[("connected", "after")],
                         "change": w[("connected", "after")] - w[("connected", "before")],
                         "days_before": w[("median_days", "before")], "days_after": w[("median_days", "after")]})


def followup_vs_records(followup, consultations, enrolment, *, months: int = 6):
    """The follow-up survey's self-reported counts next to the counter records of the same trainee
    in the `months` before the answer: consultations and referrals, reported and recorded."""
    import numpy as np
    import pandas as pd

    f = followup.set_index("trainee_id")
    c = consultations
    tid = c["trainee_id"].astype(str).to_numpy()
    answered = f["surveyed_on"].reindex(tid).to_numpy(dtype="datetime64[s]")
    date = c["date"].to_numpy(dtype="datetime64[s]")
    window = ~np.isnat(answered) & (date <= answered) & (date > answered - np.timedelta64(int(months * 30.44), "D"))
    sub = pd.DataFrame({"trainee_id": tid[window], "referred": (c["outcome"].to_numpy() == "referred")[window]})
    recorded = sub.groupby("trainee_id").agg(recorded_consultations=("referred", "size"),
                                             recorded_referrals=("referred", "sum"))
    out = f[["consultations_handled", "referrals_made"]].astype(float).join(recorded, how="left").fillna(0)
    out = out.rename(columns={"consultations_handled": "reported_consultations",
                              "referrals_made": "reported_referrals"})
    return out


def followup_summary(followup):
    """Competency use at work: for each of C1-C4, answers, mean (1-5) and % answering 4 or 5
    (よく使う / ほぼ毎回), plus the median of the counts."""
    import pandas as pd

    rows = []
    for col in COMPETENCY_USE:
        v = followup[col].astype(float)
        rows.append({"competency": col.replace("uses_", "").upper(), "answers": int(v.notna().sum()),
                     "mean": float(v.mean()), "often_percent": float(100 * (v >= 4).mean())})
    uses = pd.DataFrame(rows).set_index("competency")
    counts = followup[["consultations_handled", "referrals_made", "preventive_sessions"]].astype(float).median()
    return uses, counts


# --------------------------------------------------------------------------------------------
# subgroups
# --------------------------------------------------------------------------------------------

EXPERIENCE_BANDS = ((0, 3, "3年未満"), (3, 5, "3〜5年未満"), (5, 10, "5〜10年未満"), (10, math.inf, "10年以上"))
SUBGROUPS = {"prefecture": "都道府県", "org_type": "所属組織の種類", "experience": "相談業務の経験年数",
             "first_language": "第一言語"}


def with_subgroups(trainees):
    """trainees.csv with an ``experience`` band column (EXPERIENCE_BANDS)."""
    import numpy as np
    import pandas as pd

    edges = [b[0] for b in EXPERIENCE_BANDS] + [np.inf]
    band = pd.cut(trainees["years_experience"], bins=edges, right=False, labels=[b[2] for b in EXPERIENCE_BANDS])
    return trainees.assign(experience=band)


def subgroup_table(cohort: Cohort, *, by: str, threshold: int = 10):
    """A publishable subgroup view: per group of `by` (prefecture, org_type, experience,
    first_language), trainees, certified and not certified with small-cell suppression
    (`coordkit.evaluation.suppress_small_cells`, complementary suppression, a Total row, "合計").
    The certification rate is shown only when both the certified and the not-certified counts are
    at least `threshold` (a rate would otherwise give a hidden count away); the mean completion-test
    percent and mean satisfaction only for groups of at least `threshold` trainees ("—" otherwise).
    Returns an object DataFrame; org_type groups carry their Japanese names."""
    import numpy as np
    import pandas as pd

    from .evaluation import suppress_small_cells

    people = with_subgroups(cohort.trainees).set_index("trainee_id")
    if by not in people.columns:
        raise DatasetError(f"no subgroup column {by!r}; use one of {', '.join(SUBGROUPS)}")
    group = people[by].astype(str)
    certified = pd.Series(False, index=people.index)
    if cohort.enrolment is not None:
        done = cohort.enrolment.loc[cohort.enrolment["stage"] == "certified", "trainee_id"]
        certified[certified.index.isin(done)] = True
    counts = pd.DataFrame({"trainees": group.value_counts(),
                           "certified": group[certified].value_counts()}).fillna(0).astype(int)
    counts["not_certified"] = counts["trainees"] - counts["certified"]
    counts = counts.sort_values("trainees", ascending=False)
    counts.loc["合計"] = counts.sum()
    shown = suppress_small_cells(counts[["certified", "not_certified"]], threshold=threshold)
    shown.insert(0, "trainees", suppress_small_cells(counts[["trainees"]], threshold=threshold)["trainees"])
    big = counts["trainees"] >= threshold
    rate_ok = (counts["certified"] >= threshold) & (counts["not_certified"] >= threshold)
    metrics = {"certification_rate": 100 * counts["certified"] / counts["trainees"].replace(0, np.nan)}
    if "completion_test" in cohort.assignments:
        pct = assignment_percent(cohort, "completion_test")
        metrics["completion_mean"] = pct.groupby(group.reindex(pct.index)).mean().reindex(counts.index)
        metrics["completion_mean"]["合計"] = pct.mean()
    if cohort.reaction is not None:
        sat = cohort.reaction.groupby("trainee_id", observed=True)["satisfaction"].mean()
        metrics["satisfaction_mean"] = sat.groupby(group.reindex(sat.index)).mean().reindex(counts.index)
        metrics["satisfaction_mean"]["合計"] = sat.mean()
    for name, values in metrics.items():
        allowed = rate_ok if name == "certification_rate" else big
        shown[name] = [f"{v:.1f}" if ok and pd.notna(v) else "—" for v, ok in zip(values, allowed)]
    if by == "org_type":
        shown = shown.rename(index=ORG_TYPE_LABELS)
    shown.index.name = SUBGROUPS.get(by, by)
    return shown
