"""The synthetic cohort's tables, generated vectorised from the model (`model`): trainees,
enrolment and gates, rubric marks, pre-test, reaction survey, consultation records, follow-up survey
and the lecturers' roster, as DataFrames (`generate_cohort`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ...banks import Bank, Item
from ...rule import gate_pass_marks
from ...vocab import GATES
from .model import (BASE_DAYS, CONSULTATION_LANGUAGES, CONSULTATIONS_PER_TRAINEE, DOUBLE_MARK_MIN, DOUBLE_MARK_SHARE,
                    FOLLOWUP_AFTER_DAYS, FOLLOWUP_COMMENTS, MODEL_TEST, PARTNERS, REACTION_COMMENTS, RECORDS_BEFORE_DAYS,
                    REFER_BIAS, RENEWAL_BANKS, ROSTER_YEARS, TIMELINE, TOPIC_WEIGHTS, Trainee, _sigmoid, p_correct)


# --------------------------------------------------------------------------------------------
# the tables, vectorised
# --------------------------------------------------------------------------------------------

def trainee_frame(people: Sequence[Trainee], *, seed: int):
    """The trainees with their latent traits: theta (ability at the end of the training), gain (what
    the training adds, logit scale), theta_pre (= theta - gain) and leniency (survey answer style)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 11])
    frame = pd.DataFrame([t.__dict__ for t in people])
    n = len(frame)
    frame["gain"] = np.clip(rng.normal(0.9, 0.3, n), 0.1, None)
    frame["theta_pre"] = frame["theta"] - frame["gain"]
    frame["leniency"] = rng.normal(0.0, 0.35, n)
    return frame


def module_effects(modules: Sequence[str], *, seed: int):
    """Each module's hidden quality (added to the survey mood) and the theme of its recurring
    complaint. Seeded: the same modules and seed give the same effects."""
    import pandas as pd

    from ...themes import THEMES

    rng = np.random.default_rng([seed, 55])
    effect = rng.normal(0.0, 0.3, len(modules))
    if len(modules) >= 3:                               # at least one clearly weaker module
        effect[int(np.argmin(effect))] -= 0.4
    problem = [THEMES[int(i)].code for i in rng.integers(len(THEMES), size=len(modules))]
    return pd.DataFrame({"effect": effect, "problem_theme": problem}, index=pd.Index(list(modules), name="module"))


def _day_offsets(rng, n, low: dt.date, high: dt.date):
    return np.datetime64(low) + rng.integers(0, (high - low).days + 1, n).astype("timedelta64[D]")


def _gate_percent_model(theta, rng):
    """Percent on a gate test that has no bank yet (MODEL_TEST), drawn from the item-response model."""
    b = np.asarray(MODEL_TEST, dtype=float)
    correct = rng.random((len(theta), len(b))) < p_correct(np.asarray(theta)[:, None], b[None, :])
    return 100 * correct.mean(axis=1)


def model_marks(bank: Bank, theta, *, rng):
    """Autograded marks drawn from the item-response model (trainees x auto items, in points): the
    marks nbgrader would give, without writing notebooks (tests and the benchmark)."""
    items = [it for it in bank.items if it.auto]
    b = np.array([it.difficulty for it in items])
    pts = np.array([it.points for it in items])
    correct = rng.random((len(theta), len(items))) < p_correct(np.asarray(theta)[:, None], b[None, :])
    return correct * pts[None, :], [it.grade_id for it in items]


def _criteria(bank: Bank, item: Item) -> list[tuple[str, np.ndarray]]:
    """A written item's rubric criteria with their level points (one 0..points criterion without a rubric)."""
    if bank.rubric is not None and item.grade_id in bank.rubric.cells:
        return [(c.id, np.array([lv.points for lv in c.levels])) for c in bank.rubric.cell(item.grade_id).criteria]
    return [("overall", np.arange(0, int(item.points) + 1, dtype=float))]


def rubric_marks(bank: Bank, ids, theta, *, rng, raters: int, severity):
    """Rubric marks of the written answers of `bank` for the trainees `ids` (abilities `theta`): one
    rater each, a second one for DOUBLE_MARK_SHARE of the submissions (at least DOUBLE_MARK_MIN).
    Returns (rows of rubric_scores, {(trainee_id, grade_id): mark}) with mark = the mean of the
    raters' totals."""
    import pandas as pd

    ids = np.asarray(ids)
    n = len(ids)
    manual = [it for it in bank.items if not it.auto]
    if not manual or n == 0:
        return _empty_rubric(), {}
    first = rng.integers(raters, size=n)
    second = (first + 1 + rng.integers(raters - 1, size=n)) % raters
    k = min(n, max(DOUBLE_MARK_MIN, math.ceil(DOUBLE_MARK_SHARE * n)))
    double = np.zeros(n, bool)
    double[rng.choice(n, size=k, replace=False)] = True
    frames, marks = [], {}
    for item in manual:
        totals = np.zeros((n, 2))
        for crit, levels in _criteria(bank, item):
            true = 1.1 * np.asarray(theta) + rng.normal(0, 0.4) + rng.normal(0, 0.35, n)
            cuts = np.linspace(-0.9, 0.9, len(levels) - 1)
            for j, who in enumerate((first, second)):
                seen = true + severity[who] + rng.normal(0, 0.45, n)
                pts = levels[np.searchsorted(cuts, seen)]
                totals[:, j] += pts
                keep = np.ones(n, bool) if j == 0 else double
                frames.append(pd.DataFrame({"trainee_id": ids[keep], "assignment": bank.id, "grade_id": item.grade_id,
                                            "criterion": crit, "rater_id": [f"rt{r + 1:02d}" for r in who[keep]],
                                            "points": pts[keep], "max_points": float(levels[-1])}))
        final = np.where(double, totals.mean(axis=1), totals[:, 0])
        marks.update({(t, item.grade_id): float(m) for t, m in zip(ids, final)})
    return pd.concat(frames, ignore_index=True), marks


def _bank_stage(bank: Bank) -> str:
    """The stage at which a bank is submitted: the gates by id, reports at the end of the practice,
    the renewal training never (RENEWAL_BANKS), case studies by everyone (in Training Program 1)."""
    if bank.id in GATES:
        return bank.id
    if bank.id in RENEWAL_BANKS:
        return "renewal"
    return "practice" if bank.kind == "report" else "tp1"


SubmitFn = Callable[[Bank, Sequence[str]], dict[str, dict[str, float]]]


def generate_cohort(people: Sequence[Trainee], *, seed: int, banks: Sequence[Bank] = (),
                    modules: Sequence[str] = (), consultations: int | None = None,
                    pass_mark: float | Mapping[str, Any] | None = None, submit: SubmitFn | None = None) -> dict:
    """Every table of a cohort as DataFrames (trainees, enrolment, rubric_scores, pretest, reaction,
    followup, consultations, roster), consistent with each other and driven by the same latent
    ability.

    ``submit(bank, trainee_ids)`` writes the submissions of a bank for the trainees who reached it
    and returns their autograded marks {trainee_id: {grade_id: points}} (`simulate_cohort` writes
    nbgrader notebooks this way). Without it the marks are drawn from the item-response model and a
    ``scores`` table in the gradebook-export schema is returned too. A gate without a bank is
    decided on a model test. ``consultations``: number of records (default
    CONSULTATIONS_PER_TRAINEE per trainee). ``pass_mark``: as `coordkit.rule.gate_pass_marks` takes it
    (None: the rule's defaults; a number: every gate; a mapping: [tool.coordkit.certification]).
    """
    import pandas as pd

    marks = gate_pass_marks(pass_mark)

    people = list(people)
    frame = trainee_frame(people, seed=seed)
    n = len(frame)
    ids = frame["trainee_id"].to_numpy()
    theta = frame["theta"].to_numpy()
    rng = np.random.default_rng([seed, 23])
    raters = max(4, math.ceil(n / 15))
    severity = rng.normal(0.0, 0.3, raters)
    by_stage: dict[str, list[Bank]] = {}
    for bank in banks:
        by_stage.setdefault(_bank_stage(bank), []).append(bank)
    rubric_frames, score_rows = [], []

    def sit(bank: Bank, mask) -> np.ndarray:
        """Submit `bank` for the trainees in `mask`; their percent of the bank's maximum."""
        who = ids[mask]
        if submit is not None:
            got = submit(bank, list(who))
            auto = {t: got.get(t, {}) for t in who}
        else:
            pts, gids = model_marks(bank, theta[mask], rng=rng)
            auto = {t: dict(zip(gids, row)) for t, row in zip(who, pts)}
            for t, marks in auto.items():
                score_rows.extend((t, bank.id, gid, "auto", float(v)) for gid, v in marks.items())
        rows, manual = rubric_marks(bank, who, theta[mask], rng=rng, raters=raters, severity=severity)
        rubric_frames.append(rows)
        written = dict.fromkeys(who, 0.0)
        for (t, gid), mark in manual.items():
            written[t] += mark
            if submit is None:
                score_rows.append((t, bank.id, gid, "manual", 0.0))   # as nbgrader exports it
        total = np.array([sum(auto[t].values()) + written[t] for t in who])
        return 100 * total / max(bank.max_total, 1e-9)

    def gate(name: str, mask) -> np.ndarray:
        """Who of `mask` passes the gate test `name` (a model test when it has no bank yet)."""
        percent = np.full(n, np.nan)
        test = by_stage.get(name)
        percent[mask] = sit(test[0], mask) if test else _gate_percent_model(theta[mask], rng)
        return mask & (percent >= marks[name])

    everyone = np.ones(n, bool)
    for bank in by_stage.get("tp1", []):
        sit(bank, everyone)
    u = rng.random((n, 3))
    tp1_done = u[:, 0] >= _sigmoid(-3.6 - 0.5 * theta)
    check_ok = gate("tp1_check", tp1_done)
    practice_ok = check_ok & (u[:, 1] >= _sigmoid(-3.4 - 0.3 * theta))
    practice_failed = np.zeros(n, bool)          # the practice report was not accepted
    for bank in by_stage.get("practice", []):
        accepted = np.zeros(n, bool)
        accepted[practice_ok] = sit(bank, practice_ok) >= marks["practice_report"]
        practice_failed |= practice_ok & ~accepted
        practice_ok &= accepted
    tp2_ok = practice_ok & (u[:, 2] >= 0.02)
    completion_ok = gate("completion_test", tp2_ok)

    enrolment = _enrolment(ids, rng, tp1_done=tp1_done, check_ok=check_ok, practice_ok=practice_ok,
                           practice_failed=practice_failed, tp2_ok=tp2_ok, completion_ok=completion_ok)
    reached = {"tp1": tp1_done, "PRACTICE": practice_ok, "TP2": tp2_ok}
    tables = {
        "trainees": frame[["trainee_id", "prefecture", "org_type", "years_experience", "first_language"]].copy(),
        "enrolment": enrolment,
        "rubric_scores": pd.concat(rubric_frames, ignore_index=True) if rubric_frames else _empty_rubric(),
        "pretest": _pretest(frame, banks, rng),
        "reaction": _reaction(frame, modules, reached, seed=seed),
    }
    records = _consultations(frame, enrolment, rng,
                             consultations if consultations is not None else CONSULTATIONS_PER_TRAINEE * n)
    tables["consultations"] = records
    tables["followup"] = _followup(frame, enrolment, records, rng)
    tables["roster"] = _roster(seed=seed)
    if submit is None:
        max_points = {(b.id, it.grade_id): it.points for b in banks for it in b.items}
        scores = pd.DataFrame(score_rows, columns=["trainee_id", "assignment", "grade_id", "kind", "score"])
        scores.insert(2, "notebook", scores["assignment"])
        scores["max_score"] = [max_points[(a, g)] for a, g in zip(scores["assignment"], scores["grade_id"])]
        scores["needs_manual_grade"] = scores["kind"] == "manual"
        tables["scores"] = scores.sort_values(["assignment", "trainee_id", "grade_id"]).reset_index(drop=True)
    return tables


def _empty_rubric():
    import pandas as pd

    return pd.DataFrame(columns=["trainee_id", "assignment", "grade_id", "criterion", "rater_id", "points",
                                 "max_points"])


def _enrolment(ids, rng, *, tp1_done, check_ok, practice_ok, practice_failed, tp2_ok, completion_ok):
    import pandas as pd

    n = len(ids)
    t = {k: np.datetime64(v) for k, v in TIMELINE.items()}
    tp1_date = np.where(tp1_done, _day_offsets(rng, n, TIMELINE["tp1_end"] - dt.timedelta(days=25), TIMELINE["tp1_end"]),
                        _day_offsets(rng, n, TIMELINE["enrolled"] + dt.timedelta(days=10),
                                     TIMELINE["tp1_end"] - dt.timedelta(days=5)))
    practice_date = np.where(practice_ok | practice_failed, t["practice_end"],
                             _day_offsets(rng, n, TIMELINE["tp1_check"] + dt.timedelta(days=10),
                                          TIMELINE["practice_end"] - dt.timedelta(days=10)))
    everyone = np.ones(n, bool)
    stages = [  # stage, who reached it, status, date
        ("enrolled", everyone, np.full(n, "enrolled"), np.full(n, t["enrolled"])),
        ("tp1", everyone, np.where(tp1_done, "completed", "withdrawn"), tp1_date),
        ("tp1_check", tp1_done, np.where(check_ok, "passed", "failed"), np.full(n, t["tp1_check"])),
        ("practice", check_ok, np.where(practice_ok, "completed", np.where(practice_failed, "failed", "withdrawn")),
         practice_date),
        ("tp2", practice_ok, np.where(tp2_ok, "attended", "absent"), np.full(n, t["tp2"])),
        ("completion_test", tp2_ok, np.where(completion_ok, "passed", "failed"), np.full(n, t["completion_test"])),
        ("certified", completion_ok, np.full(n, "certified"), np.full(n, t["certified"])),
    ]
    frames = []
    for order, (stage, reached, status, date) in enumerate(stages):
        frames.append(pd.DataFrame({"trainee_id": ids[reached], "stage": stage, "status": status[reached],
                                    "date": date[reached].astype("datetime64[s]"), "_o": order}))
    out = pd.concat(frames, ignore_index=True).sort_values(["trainee_id", "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def _pretest(frame, banks, rng):
    import pandas as pd

    test = next((b for b in banks if b.id == "completion_test"), None)
    b = [it.difficulty for it in test.items if it.auto] if test else MODEL_TEST
    expected = p_correct(frame["theta_pre"].to_numpy()[:, None], np.asarray(b, float)[None, :]).mean(axis=1)
    score = np.clip(100 * expected + rng.normal(0, 5, len(frame)), 0, 100).round(1)
    return pd.DataFrame({"trainee_id": frame["trainee_id"], "pre_score": score, "max_score": 100})


def _reaction(frame, modules, reached, *, seed: int):
    import pandas as pd

    from ...themes import THEMES

    modules = list(modules)
    if not modules:
        return pd.DataFrame(columns=["trainee_id", "module", "satisfaction", "relevance", "recommend", "comment"])
    rng = np.random.default_rng([seed, 77])
    effects = module_effects(modules, seed=seed)
    n, m = len(frame), len(modules)
    eligible = np.ones((n, m), bool)
    for j, module in enumerate(modules):
        key = "tp1" if module.startswith("TP1") else module
        if key in reached:
            eligible[:, j] = reached[key]
    # trainees who left during TP1 answered the modules they had reached
    left = ~reached["tp1"]
    tp1_cols = np.array([mod.startswith("TP1") for mod in modules])
    cut = (rng.random(n) * tp1_cols.sum()).astype(int)
    order = np.cumsum(tp1_cols) - 1
    eligible[left[:, None] & tp1_cols[None, :] & (order[None, :] < cut[:, None])] = True
    answered = eligible & (rng.random((n, m)) >= 0.05)
    ti, mj = np.nonzero(answered)
    k = len(ti)
    theta = frame["theta"].to_numpy()[ti]
    mood = 3.8 + 0.25 * theta + effects["effect"].to_numpy()[mj] + frame["leniency"].to_numpy()[ti] + rng.normal(0, 0.55, k)
    satisfaction = np.clip(np.round(mood), 1, 5).astype(int)
    relevance = np.clip(np.round(mood + rng.normal(0.1, 0.5, k)), 1, 5).astype(int)
    recommend = np.clip(np.round(2 * mood - 0.4 + rng.normal(0, 1.2, k)), 0, 10).astype(int)
    tones = np.where(mood >= 4.2, np.where(rng.random(k) < 0.8, "positive", "request"),
                     np.where(mood >= 3.2, rng.choice(["request", "critical", "positive"], k, p=[0.5, 0.25, 0.25]),
                              np.where(rng.random(k) < 0.7, "critical", "request")))
    codes = [t.code for t in THEMES]
    theme = np.array(codes)[rng.integers(len(codes), size=k)]
    weak = effects["effect"].to_numpy()[mj] < -0.2
    use_problem = weak & (tones != "positive") & (rng.random(k) < 0.7)
    theme = np.where(use_problem, effects["problem_theme"].to_numpy()[mj], theme)
    comments = np.full(k, "", dtype=object)
    has = rng.random(k) < 0.35
    pick = rng.random(k)
    for i in np.flatnonzero(has):
        bank = REACTION_COMMENTS[theme[i]]
        phrases = bank.get(tones[i]) or next(iter(bank.values()))
        comments[i] = phrases[int(pick[i] * len(phrases))]
    return pd.DataFrame({"trainee_id": frame["trainee_id"].to_numpy()[ti], "module": np.array(modules)[mj],
                         "satisfaction": satisfaction, "relevance": relevance, "recommend": recommend,
                         "comment": comments})


def _weighted_codes(rng, weights: dict, size: int):
    p = np.array(list(weights.values()), float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _consultations(frame, enrolment, rng, m: int):
    """`m` consultation records over the trainees' counters, from six months before enrolment to the
    follow-up survey. The handling trainee's ability at the date (theta_pre, plus the share of the
    gain reached by then) sets the odds of connecting the consultation to a solution and its speed."""
    import pandas as pd

    from ..outcomes import trainee_milestones

    n = len(frame)
    start = np.datetime64(TIMELINE["enrolled"]) - np.timedelta64(RECORDS_BEFORE_DAYS, "D")
    end = np.datetime64(TIMELINE["certified"]) + np.timedelta64(FOLLOWUP_AFTER_DAYS, "D")
    span = int((end - start).astype(int))
    volume = rng.lognormal(0.0, 0.6, n)
    who = rng.choice(n, size=m, p=volume / volume.sum())
    day = start + rng.integers(0, span, m).astype("timedelta64[D]")
    topic_code = _weighted_codes(rng, TOPIC_WEIGHTS, m)
    topic = np.array(list(TOPIC_WEIGHTS), dtype=object)[topic_code]
    language = np.array(list(CONSULTATION_LANGUAGES), dtype=object)[_weighted_codes(rng, CONSULTATION_LANGUAGES, m)]
    issues = rng.choice([1, 2, 3, 4, 5], size=m, p=[0.52, 0.28, 0.12, 0.06, 0.02])

    ms = trainee_milestones(enrolment).reindex(frame["trainee_id"])
    enrolled = ms["enrolled"].to_numpy(dtype="datetime64[D]")
    exit_ = ms["exit"].to_numpy(dtype="datetime64[D]")
    reached_share = (enrolment.groupby("trainee_id").size().reindex(frame["trainee_id"]).to_numpy() - 1) / 6
    length = np.maximum((exit_ - enrolled).astype(int), 1)
    progress = np.clip((day - enrolled[who]).astype(int) / length[who], 0, 1) * reached_share[who]
    skill = frame["theta_pre"].to_numpy()[who] + frame["gain"].to_numpy()[who] * progress

    p_unresolved = _sigmoid(-1.5 - 0.9 * skill + 0.45 * (issues - 1))
    bias = np.array([REFER_BIAS[k] for k in TOPIC_WEIGHTS])[topic_code]
    p_refer = _sigmoid(bias + 0.55 * (issues - 1) + 0.25 * skill)
    u = rng.random((m, 2))
    outcome = np.where(u[:, 0] < p_unresolved, "unresolved", np.where(u[:, 1] < p_refer, "referred", "resolved"))
    base = np.array([BASE_DAYS[k] for k in TOPIC_WEIGHTS], dtype=float)[topic_code]
    days = base * np.exp(0.3 * (issues - 1) - 0.3 * skill + rng.normal(0, 0.5, m))
    days = np.round(np.where(outcome == "referred", 0.5 * days, days)).astype(np.int64)
    pending = (outcome != "unresolved") & (day + days.astype("timedelta64[D]") > end)
    outcome = np.where(pending, "pending", outcome)
    closed = np.isin(outcome, ["resolved", "referred"])
    partner = np.full(m, "", dtype=object)
    referred = np.flatnonzero(outcome == "referred")
    pick = rng.random(len(referred))
    for code, key in enumerate(TOPIC_WEIGHTS):
        sel = referred[topic_code[referred] == code]
        options = np.array(PARTNERS[key], dtype=object)
        partner[sel] = options[(pick[np.searchsorted(referred, sel)] * len(options)).astype(int)]
    order = np.argsort(day, kind="stable")
    out = pd.DataFrame({
        "consultation_id": pd.Series(np.arange(1, m + 1)).astype(str).str.zfill(7).radd("c").to_numpy(),
        "trainee_id": frame["trainee_id"].to_numpy()[who][order],
        "date": day[order].astype("datetime64[s]"),
        "topic": topic[order], "language": language[order], "issues": issues[order], "outcome": outcome[order],
        "referred_to": partner[order],
        "days_to_resolution": pd.array(np.where(closed, days, 0)[order], dtype="Int64"),
    })
    out.loc[~closed[order], "days_to_resolution"] = pd.NA
    return out


def _followup(frame, enrolment, records, rng):
    import pandas as pd

    certified = enrolment.loc[enrolment["stage"] == "certified", "trainee_id"].to_numpy()
    f = frame.set_index("trainee_id").loc[certified]
    respond = rng.random(len(f)) < _sigmoid(1.4 + 0.5 * f["leniency"].to_numpy())
    f = f[respond]
    k = len(f)
    when = (np.datetime64(TIMELINE["certified"]) + np.timedelta64(FOLLOWUP_AFTER_DAYS, "D")
            + rng.integers(0, 21, k).astype("timedelta64[D]"))
    surveyed = pd.Series(when.astype("datetime64[s]"), index=f.index)
    rec = records[records["trainee_id"].isin(f.index)]
    answer = surveyed.reindex(rec["trainee_id"]).to_numpy()
    window = (rec["date"].to_numpy() <= answer) & (rec["date"].to_numpy() > answer - np.timedelta64(183, "D"))
    sub = rec.loc[window]
    handled = sub.groupby("trainee_id").size().reindex(f.index).fillna(0).to_numpy()
    referred = (sub["outcome"] == "referred").groupby(sub["trainee_id"]).sum().reindex(f.index).fillna(0).to_numpy()
    theta = f["theta"].to_numpy()
    lean = f["leniency"].to_numpy()
    out = pd.DataFrame({"trainee_id": f.index.to_numpy(), "surveyed_on": when.astype("datetime64[s]"),
                        "consultations_handled": np.round(handled * rng.lognormal(0.08, 0.2, k)).astype(int),
                        "referrals_made": np.round(referred * rng.lognormal(0.05, 0.25, k)).astype(int),
                        "preventive_sessions": rng.poisson(0.8 + 0.6 * np.clip(theta, 0, None))})
    for col, shift in zip(("uses_c1", "uses_c2", "uses_c3", "uses_c4"), (0.6, -0.1, 0.2, 0.4)):
        out[col] = np.clip(np.round(3.2 + shift + 0.45 * theta + 0.3 * lean + rng.normal(0, 0.7, k)), 1, 5).astype(int)
    text = np.array(FOLLOWUP_COMMENTS, dtype=object)[rng.integers(len(FOLLOWUP_COMMENTS), size=k)]
    out["comment"] = np.where(rng.random(k) < 0.4, text, "")
    return out.sort_values("trainee_id").reset_index(drop=True)


def _roster(*, seed: int):
    """Lecturers per role and fiscal year: a pool recruited (and pre-trained) each year, with some
    leaving; available days per year drawn per lecturer (ASSUMPTIONS, for the capacity plan)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 91])
    plan = {  # role: (lecturers in FY2025, recruited per year, available days range)
        "tp2_facilitator": (8, 3, (4, 10)), "practice_supervisor": (22, 6, (8, 20)), "rater": (5, 2, (6, 15)),
    }
    rows, next_id = [], 1
    for role, (start, per_year, (low, high)) in plan.items():
        active: list[tuple[str, float]] = []
        for year in ROSTER_YEARS:
            active = [(lid, days) for lid, days in active if rng.random() >= 0.1]
            for _ in range(start if year == ROSTER_YEARS[0] else per_year):
                active.append((f"lec{next_id:03d}", float(rng.integers(low, high + 1))))
                next_id += 1
            rows += [{"lecturer_id": lid, "role": role, "fiscal_year": year, "available_days": days}
                     for lid, days in active]
    return pd.DataFrame(rows)
