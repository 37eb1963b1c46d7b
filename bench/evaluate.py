"""Benchmark: the cohort evaluation's aggregations at national scale, next to plain pandas.

    python bench/evaluate.py [--trainees 10000] [--consultations 1000000] [--seed 1] [--repeat 3]

Generates (vectorised, `coordkit.cohort.simulate.generate_cohort`) a cohort of 10,000 trainees with a
million consultation records, writes the two largest tables to a temporary folder, then runs each
step twice in the same process: with coordkit (`coordkit.cohort`, `coordkit.cohort.evaluation`) and with a
plain pandas version of the same aggregation, the way an analyst would write it without the
toolkit (string columns, merges, groupby-apply with Python functions). The two results are
checked to be equal before anything is timed, so both sides compute the same thing.

Time: best of --repeat runs (time.perf_counter), tracing off. Peak memory: one more run under
tracemalloc (numpy and pandas report their buffers to it), the peak minus the memory in use
before the step. Prints one table with both sides and the ratios (pandas / coordkit: above 1 means
coordkit is faster or smaller).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------
# plain pandas versions of the same aggregations
# ------------------------------------------------------------------------------------------------

def plain_periods(cons, enrol):
    start = enrol[enrol["stage"] == "enrolled"].set_index("trainee_id")["date"].rename("start")
    end = enrol.groupby("trainee_id")["date"].max().rename("end")
    certified = set(enrol.loc[enrol["stage"] == "certified", "trainee_id"])
    df = cons.merge(start, left_on="trainee_id", right_index=True, how="left")
    df = df.merge(end, left_on="trainee_id", right_index=True, how="left")
    df["period"] = np.select([df["date"] < df["start"], df["date"] <= df["end"]], ["before", "during"], "after")
    df["certified"] = df["trainee_id"].isin(certified)
    return df


def _summary(g):
    closed = g[g["outcome"] != "pending"]
    n = len(closed)
    share = (lambda o: 100 * (closed["outcome"] == o).sum() / n if n else np.nan)
    days = closed.loc[closed["outcome"].isin(["resolved", "referred"]), "days_to_resolution"]
    return pd.Series({"records": len(g), "closed": n, "resolved": share("resolved"), "referred": share("referred"),
                      "unresolved": share("unresolved"), "connected": share("resolved") + share("referred"),
                      "median_days": days.median()})


def plain_outcomes(cons, enrol):
    return plain_periods(cons, enrol).groupby(["certified", "period"]).apply(_summary)


def plain_change(cons, enrol, min_records=5):
    per = plain_periods(cons, enrol).groupby(["trainee_id", "period"]).apply(_summary)
    wide = per[["closed", "connected", "median_days"]].unstack("period")
    keep = (wide[("closed", "before")] >= min_records) & (wide[("closed", "after")] >= min_records)
    w = wide[keep]
    return pd.DataFrame({"connected_before": w[("connected", "before")], "connected_after": w[("connected", "after")],
                         "change": w[("connected", "after")] - w[("connected", "before")]})


def plain_followup(fu, cons):
    df = cons.merge(fu[["trainee_id", "surveyed_on"]], on="trainee_id")
    df = df[(df["date"] <= df["surveyed_on"]) & (df["date"] > df["surveyed_on"] - pd.Timedelta(days=int(6 * 30.44)))]
    rec = df.groupby("trainee_id").agg(recorded_consultations=("outcome", "size"),
                                       recorded_referrals=("outcome", lambda s: (s == "referred").sum()))
    out = fu.set_index("trainee_id")[["consultations_handled", "referrals_made"]].join(rec).fillna(0)
    return out


def plain_reaction(reaction):
    g = reaction.groupby("module")
    out = pd.DataFrame({
        "responses": g.size(),
        "satisfaction_mean": g["satisfaction"].mean(),
        "satisfaction_top2": g["satisfaction"].apply(lambda s: 100 * (s >= 4).mean()),
        "relevance_top2": g["relevance"].apply(lambda s: 100 * (s >= 4).mean()),
        "promoters": g["recommend"].apply(lambda s: (s >= 9).sum()),
        "detractors": g["recommend"].apply(lambda s: (s <= 6).sum()),
    })
    out["nps"] = 100 * (out["promoters"] - out["detractors"]) / out["responses"]
    return out


def plain_funnel(enrol):
    good = {"enrolled": "enrolled", "tp1": "completed", "tp1_check": "passed", "practice": "completed",
            "tp2": "attended", "completion_test": "passed", "certified": "certified"}
    rows = []
    enrolled = (enrol["stage"] == "enrolled").sum()
    for stage, g in enrol.groupby("stage"):
        ok = (g["status"] == good[stage]).sum()
        rows.append({"stage": stage, "reached": len(g), "succeeded": ok, "of_enrolled": 100 * ok / enrolled})
    return pd.DataFrame(rows).set_index("stage")


def plain_items(scores, assignment):
    rows = scores[(scores["assignment"] == assignment) & (scores["kind"] == "auto")]
    wide = rows.pivot_table(index="trainee_id", columns="grade_id", values="score").fillna(0)
    maxm = rows.groupby("grade_id")["max_score"].max()
    total = wide.sum(axis=1)
    out = pd.DataFrame({"facility": 100 * wide.mean() / maxm,
                        "discrimination_index": [100 * wide[c].corr(total - wide[c]) for c in wide.columns]},
                       index=wide.columns)
    k = wide.shape[1]
    alpha = k / (k - 1) * (1 - wide.var().sum() / total.var())
    return out, alpha


def plain_pairs(rubric):
    per = rubric.groupby(["trainee_id", "assignment", "grade_id", "criterion", "rater_id"], as_index=False)["points"].sum()
    per = per.sort_values("rater_id")
    per["n"] = per.groupby(["trainee_id", "assignment", "grade_id", "criterion"]).cumcount()
    wide = per[per["n"] < 2].pivot_table(index=["trainee_id", "assignment", "grade_id", "criterion"], columns="n",
                                         values="points")
    return wide.dropna()


# ------------------------------------------------------------------------------------------------
# coordkit versions
# ------------------------------------------------------------------------------------------------

def ours_items(cohort, assignment):
    from coordkit.cohort import wide_scores
    from coordkit.cohort.evaluation import cronbach_alpha, item_analysis

    wide, maxm = wide_scores(cohort.scores, assignment=assignment)
    result = item_analysis(wide, max_marks=maxm)
    return result.items[["facility", "discrimination_index"]], cronbach_alpha(wide.fillna(0))


# ------------------------------------------------------------------------------------------------
# measuring
# ------------------------------------------------------------------------------------------------

def measure(fn, repeat: int) -> tuple[float, float, object]:
    """(best seconds, peak MiB above the baseline, result)."""
    result = fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return best, peak / 2**20, result


def _by_text(frame):
    """The frame with its index labels as text (categorical, boolean and string labels compare)."""
    frame = frame.copy()
    if isinstance(frame.index, pd.MultiIndex):
        frame.index = pd.MultiIndex.from_tuples([tuple(str(v) for v in t) for t in frame.index])
    else:
        frame.index = frame.index.map(str)
    return frame


def same(a, b, what: str) -> None:
    """The two results agree (numbers to 1e-6 relative), or the benchmark stops."""
    if isinstance(a, tuple):
        for x, y in zip(a, b):
            same(x, y, what)
        return
    if isinstance(a, (float, np.floating)):
        assert np.isclose(a, b, rtol=1e-6, equal_nan=True), f"{what}: {a} != {b}"
        return
    a, b = _by_text(a), _by_text(b)
    assert set(a.index) == set(b.index), f"{what}: the two results have different rows"
    b = b.reindex(a.index)
    cols = [c for c in b.columns if c in a.columns] if isinstance(b, pd.DataFrame) else None
    x = a[cols] if cols else a
    y = b[cols] if cols else b
    assert np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), rtol=1e-6, equal_nan=True), \
        f"{what}: the two implementations disagree"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=10_000)
    parser.add_argument("--consultations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from coordkit import cohort as ck
    from coordkit.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.facts import load_facts
    from coordkit.cohort.simulate import generate_cohort, make_trainees, survey_modules, write_tables

    settings = load_settings(ROOT)
    banks = load_banks(settings.items_dir, load_facts(settings.facts))
    t = time.perf_counter()
    people = make_trainees(args.trainees, seed=args.seed)
    tables = generate_cohort(people, seed=args.seed, banks=banks, modules=survey_modules(settings, banks),
                             consultations=args.consultations)
    generated = time.perf_counter() - t
    print(f"Generated {args.trainees:,} trainees and every table in {generated:.1f} s: "
          + ", ".join(f"{k} {len(v):,}" for k, v in tables.items()), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_tables(tables, folder)
        tables["scores"].to_csv(folder / "scores.csv", index=False)
        size = (folder / "consultations.csv").stat().st_size / 2**20
        print(f"consultations.csv: {size:.0f} MiB", flush=True)
        ours = ck.load_cohort(folder, name="bench")
        plain = {name: pd.read_csv(folder / f"{name}.csv", parse_dates=dates)
                 for name, dates in (("consultations", ["date"]), ("enrolment", ["date"]), ("followup", ["surveyed_on"]),
                                     ("reaction", []), ("scores", []), ("rubric_scores", []))}
        test = "completion_test" if "completion_test" in ours.assignments else ours.assignments[0]

        steps = [
            ("load + validate consultations.csv",
             lambda: ck.read_table(folder / "consultations.csv", "consultations"),
             lambda: pd.read_csv(folder / "consultations.csv", parse_dates=["date"]), False),
            (f"outcomes by certified x period ({args.consultations:,} records)",
             lambda: ck.consultation_outcomes(ours.consultations, ours.enrolment),
             lambda: plain_outcomes(plain["consultations"], plain["enrolment"]), True),
            ("change per coordinator, before vs after",
             lambda: ck.coordinator_change(ours.consultations, ours.enrolment)[["connected_before", "connected_after", "change"]],
             lambda: plain_change(plain["consultations"], plain["enrolment"]), True),
            ("follow-up vs counter records",
             lambda: ck.followup_vs_records(ours.followup, ours.consultations, ours.enrolment)
             [["reported_consultations", "reported_referrals", "recorded_consultations", "recorded_referrals"]],
             lambda: plain_followup(plain["followup"], plain["consultations"]), True),
            ("reaction by module",
             lambda: ck.reaction_summary(ours.reaction)[["responses", "satisfaction_mean", "satisfaction_top2",
                                                         "relevance_top2", "promoters", "detractors", "nps"]],
             lambda: plain_reaction(plain["reaction"]), True),
            ("stage funnel", lambda: ck.funnel(ours.enrolment)[["reached", "succeeded", "of_enrolled"]],
             lambda: plain_funnel(plain["enrolment"]), True),
            (f"item analysis of {test}", lambda: ours_items(ours, test), lambda: plain_items(plain["scores"], test), True),
            ("double-marked rubric pairs", lambda: ck.rater_pairs(ours.rubric_scores)[["points_a", "points_b"]],
             lambda: plain_pairs(plain["rubric_scores"]), True),
        ]
        rows = []
        for name, mine, theirs, compare in steps:
            print(f"  {name} ...", flush=True)
            t_ours, m_ours, r_ours = measure(mine, args.repeat)
            t_plain, m_plain, r_plain = measure(theirs, args.repeat)
            if compare:
                if name.startswith("double-marked"):
                    r_plain.columns = ["points_a", "points_b"]
                if name.startswith("follow-up"):
                    r_plain.columns = list(r_ours.columns)
                same(r_ours, r_plain, name)
            rows.append({"step": name, "coordkit s": t_ours, "pandas s": t_plain, "time ratio": t_plain / t_ours,
                         "coordkit MiB": m_ours, "pandas MiB": m_plain,
                         "memory ratio": m_plain / m_ours if m_ours > 0 else float("nan")})
    table = pd.DataFrame(rows).set_index("step")
    total = table[["coordkit s", "pandas s"]].sum()
    print()
    print(f"{args.trainees:,} trainees, {args.consultations:,} consultation records; best of {args.repeat} runs; "
          "peak memory under tracemalloc; ratio = pandas / coordkit")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(table.to_string(float_format=lambda v: f"{v:,.2f}"))
    print(f"\nAll steps: coordkit {total['coordkit s']:.2f} s, plain pandas {total['pandas s']:.2f} s "
          f"(ratio {total['pandas s'] / total['coordkit s']:.1f}); results checked equal step by step.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
