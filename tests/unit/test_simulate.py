import json
from dataclasses import replace

import numpy as np
import pytest

from coordkit.banks import load_bank, load_banks
from coordkit.cohort import (
    assignment_percent, consultation_outcomes, final_manual_marks, followup_vs_records, load_cohort, pre_post,
    reaction_summary,
)
from coordkit.errors import CoordkitError
from coordkit.cohort.simulate import (
    CONSULTATION_LANGUAGES, REACTION_COMMENTS, TABLE_FILES, TOPIC_WEIGHTS, answer_marks, fill_submission,
    generate_cohort, make_trainees, module_effects, p_correct, simulate_cohort, survey_modules, write_tables,
)


def test_same_seed_same_cohort_other_seed_other_cohort():
    assert make_trainees(20, seed=1) == make_trainees(20, seed=1)
    assert make_trainees(20, seed=1) != make_trainees(20, seed=2)


def test_ids_are_pseudonymous_and_attributes_plausible():
    people = make_trainees(200, seed=2024)
    assert len({p.trainee_id for p in people}) == 200
    assert all(p.trainee_id.startswith("tr") for p in people)
    assert all(p.years_experience >= 1 for p in people)
    assert len({p.prefecture for p in people}) > 5 and len({p.org_type for p in people}) > 2


@pytest.mark.parametrize("n", [0, -3])
def test_cohort_size_must_be_positive(n):
    with pytest.raises(CoordkitError, match="at least 1 trainee"):
        make_trainees(n, seed=1)


def test_abler_trainees_answer_more_items_right(root, facts):
    bank = load_bank(root / "graders" / "items" / "cs01_job_loss.yml", facts)
    released = {"cells": [{"cell_type": "code", "source": f"{it.grade_id} = \"\"",
                           "metadata": {"nbgrader": {"solution": True, "grade_id": f"{it.grade_id}_answer"}}}
                          for it in bank.items if it.auto]}
    people = make_trainees(300, seed=7)

    def right(person, rng):
        nb = fill_submission(released, bank, person, rng)
        return sum(json.loads(c["source"].split(" = ", 1)[1]) == it.key
                   for c, it in zip(nb["cells"], [i for i in bank.items if i.auto]))

    rng = np.random.default_rng(0)
    strong = [p for p in people if p.theta > 0.8]
    weak = [p for p in people if p.theta < -0.8]
    assert np.mean([right(p, rng) for p in strong]) > np.mean([right(p, rng) for p in weak]) + 1


def test_p_correct_is_a_logistic_curve():
    assert p_correct(0, 0) == pytest.approx(0.5)
    assert p_correct(2, 0) > 0.95 and p_correct(-2, 0) < 0.05


# ---------------------------------------------------------------------------------------------
# the evaluation tables: consistent, valid, plausible, and with real effects to find
# ---------------------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def banks(settings, facts):
    return load_banks(settings.items_dir, facts)


@pytest.fixture(scope="module")
def big(settings, banks, tmp_path_factory):
    """400 trainees, with synthetic gradebook scores, written and loaded back through validation."""
    tables = generate_cohort(make_trainees(400, seed=3), seed=3, banks=banks, modules=survey_modules(settings, banks))
    folder = tmp_path_factory.mktemp("big")
    write_tables(tables, folder)
    tables["scores"].to_csv(folder / "scores.csv", index=False)
    return load_cohort(folder)


def test_every_generated_table_passes_validation(big):
    assert big.missing == ()
    assert {"tp1_check", "completion_test"} <= set(big.assignments)


def test_tests_and_reports_are_sat_only_by_trainees_who_reached_them(big):
    e = big.enrolment
    for gate in ("tp1_check", "completion_test"):
        sat = set(e.loc[e["stage"] == gate, "trainee_id"])
        graded = set(big.scores.loc[big.scores["assignment"] == gate, "trainee_id"])
        assert graded == sat and 0 < len(sat) < len(big.trainees)
    failed = set(e.loc[(e["stage"] == "tp1_check") & (e["status"] == "failed"), "trainee_id"])
    assert failed and not failed & set(e.loc[e["stage"] == "practice", "trainee_id"])


def test_gate_decisions_follow_the_marks_at_the_pass_mark(big):
    e = big.enrolment.set_index(["stage", "trainee_id"])["status"]
    for gate in ("tp1_check", "completion_test"):
        pct = assignment_percent(big, gate)
        passed = e.loc[gate].reindex(pct.index) == "passed"
        assert ((pct >= 60) == passed).all()


def test_a_quarter_of_the_written_answers_are_marked_twice_by_two_raters(big):
    marks = final_manual_marks(big.rubric_scores)
    for assignment, group in marks.groupby("assignment"):
        share = (group["raters"] == 2).mean()
        assert share >= 0.24 and (group["raters"] == 2).sum() >= 10, assignment
    per = big.rubric_scores.groupby(["trainee_id", "assignment", "grade_id", "criterion"])["rater_id"]
    assert (per.nunique() == per.size()).all()                  # never the same rater twice


def test_the_training_has_effects_the_evaluation_can_find(big, settings, banks):
    pp = pre_post(big)
    assert pp["post"].mean() > pp["pre"].mean() + 10
    out = consultation_outcomes(big.consultations, big.enrolment)
    assert out.loc[(True, "after"), "connected"] > out.loc[(True, "before"), "connected"] + 5
    summary = reaction_summary(big.reaction)
    effects = module_effects(survey_modules(settings, banks), seed=3)["effect"]
    assert effects.idxmin() in summary.sort_values("satisfaction_top2").index[:2]


def test_topics_and_languages_follow_the_one_stop_centres_shares(big):
    topics = big.consultations["topic"].astype(str).value_counts(normalize=True) * 100
    languages = big.consultations["language"].astype(str).value_counts(normalize=True) * 100
    total = sum(TOPIC_WEIGHTS.values())
    assert topics["tax"] == pytest.approx(100 * TOPIC_WEIGHTS["tax"] / total, abs=1.5)
    assert topics.index[0] == "tax" and languages.index[0] == "ポルトガル語"
    assert languages["ポルトガル語"] == pytest.approx(CONSULTATION_LANGUAGES["ポルトガル語"], abs=2)


def test_follow_up_answers_come_from_certified_trainees_and_match_their_records(big):
    both = followup_vs_records(big.followup, big.consultations, big.enrolment)
    ratio = (both["reported_consultations"] / both["recorded_consultations"]).median()
    assert 0.8 < ratio < 1.4
    assert big.followup["surveyed_on"].min() > big.enrolment.loc[big.enrolment["stage"] == "certified", "date"].max()


def test_every_reaction_comment_is_written_in_japanese(big):
    comments = big.reaction["comment"][big.reaction["comment"] != ""]
    assert len(comments) > 100
    known = {c for bank in REACTION_COMMENTS.values() for phrases in bank.values() for c in phrases}
    assert set(comments) <= known
    assert all(c.endswith("。") for c in known)


def test_the_generator_scales_to_a_million_records():
    tables = generate_cohort(make_trainees(50, seed=1), seed=1, consultations=20_000)
    assert len(tables["consultations"]) == 20_000
    assert tables["consultations"]["consultation_id"].is_unique


# ---------------------------------------------------------------------------------------------
# simulate_cohort: the submissions and the tables agree
# ---------------------------------------------------------------------------------------------

def fake_release(bank, folder):
    """A minimal released notebook: one answer cell per autograded item, one per written answer."""
    cells = [{"cell_type": "code", "source": f"{it.grade_id} = \"\"", "metadata": {"nbgrader": {
        "solution": True, "grade_id": f"{it.grade_id}_answer"}}} for it in bank.items if it.auto]
    cells += [{"cell_type": "markdown", "source": "ここに回答を書いてください", "metadata": {"nbgrader": {
        "solution": True, "grade": True, "grade_id": it.grade_id}}} for it in bank.items if not it.auto]
    path = folder / "release" / bank.id / f"{bank.id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


def test_simulate_cohort_writes_submissions_only_for_the_stages_reached(settings, banks, tmp_path):
    chosen = [b for b in banks if b.id in ("cs01_job_loss", "tp1_check", "completion_test")]
    local = replace(settings, course_root=tmp_path / "course", cohorts_dir=tmp_path / "cohorts")
    for bank in chosen:
        fake_release(bank, local.course_root)
    result = simulate_cohort(chosen, settings=local, trainees=30, seed=5, cohort="t", consultations=300,
                             modules=["TP1-B2", "TP2"])
    cohort = load_cohort(result.out_dir)
    assert set(cohort.missing) == {"scores"} and set(result.files) == set(TABLE_FILES)
    submitted = {(p.parent.parent.name, p.parent.name) for p in (local.course_root / "submitted").glob("*/*/*.ipynb")}
    assert submitted == result.submissions
    e = cohort.enrolment
    for gate in ("tp1_check", "completion_test"):
        assert {t for t, a in submitted if a == gate} == set(e.loc[e["stage"] == gate, "trainee_id"])
    assert {t for t, a in submitted if a == "cs01_job_loss"} == set(cohort.trainees["trainee_id"])
    # the recorded gate decision is what the autograder will give the written answers
    bank = next(b for b in chosen if b.id == "tp1_check")
    for trainee, status in e.loc[e["stage"] == "tp1_check", ["trainee_id", "status"]].itertuples(index=False):
        nb = json.loads((local.course_root / "submitted" / trainee / bank.id / f"{bank.id}.ipynb").read_text(encoding="utf-8"))
        answers = {c["metadata"]["nbgrader"]["grade_id"][:-len("_answer")]: json.loads(c["source"].split(" = ", 1)[1])
                   for c in nb["cells"] if c["cell_type"] == "code"}
        manual = final_manual_marks(cohort.rubric_scores)
        manual = manual[(manual["trainee_id"] == trainee) & (manual["assignment"] == bank.id)]["score"].sum()
        percent = 100 * (sum(answer_marks(bank, answers).values()) + manual) / bank.max_total
        assert (percent >= 60) == (status == "passed"), trainee


def test_a_negative_number_of_consultations_is_refused(settings, banks):
    with pytest.raises(CoordkitError, match="cannot be negative"):
        simulate_cohort(banks[:1], settings=settings, trainees=2, seed=1, consultations=-1)


def test_simulate_never_writes_into_a_course_with_real_submissions(settings, banks, tmp_path):
    bank = next(b for b in banks if b.id == "cs01_job_loss")
    local = replace(settings, course_root=tmp_path / "course", cohorts_dir=tmp_path / "cohorts")
    fake_release(bank, local.course_root)
    real = local.course_root / "submitted" / "tr001" / bank.id / f"{bank.id}.ipynb"
    real.parent.mkdir(parents=True)
    real.write_text('{"a real trainee": "work"}', encoding="utf-8")
    with pytest.raises(CoordkitError, match="holds real submissions .*tr001"):
        simulate_cohort([bank], settings=local, trainees=3, seed=5, cohort="t", consultations=10, modules=["TP2"])
    assert real.read_text(encoding="utf-8") == '{"a real trainee": "work"}'
    assert not (local.course_root / "submitted" / "tr002").exists()
    # a course simulate made itself can be simulated again
    real.parent.parent.rename(tmp_path / "kept")
    simulate_cohort([bank], settings=local, trainees=3, seed=5, cohort="t", consultations=10, modules=["TP2"])
    simulate_cohort([bank], settings=local, trainees=3, seed=6, cohort="t", consultations=10, modules=["TP2"])
