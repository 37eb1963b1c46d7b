import shutil

import pandas as pd
import pytest

from coordkit.cohort import (
    TABLES, Cohort, analyse_items, assignment_marks, consultation_outcomes, coordinator_change, data_dictionary,
    final_manual_marks, funnel, gate_check, headline, item_catalogue, item_order, load_cohort, pre_post,
    rater_pairs, rater_severity, reaction_summary, read_table, revision_candidates, subgroup_table,
    table_markdown, wide_scores,
)
from coordkit.errors import DatasetError


def test_the_bundled_sample_cohort_loads(root):
    cohort = load_cohort(root / "datasets" / "sample")
    assert len(cohort.trainees) >= 10
    assert set(cohort.scores["trainee_id"]) <= set(cohort.trainees["trainee_id"])
    h = headline(cohort)
    assert h["trainees"] == len(cohort.trainees)
    assert 0 <= h["mean_auto_percent"] <= 100


def write_csv(path, header, *rows):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_errors_name_file_row_and_column(tmp_path):
    path = write_csv(tmp_path / "reaction.csv", "trainee_id,module,satisfaction,relevance,recommend,comment",
                     "tr001,TP1-A1,4,5,9,", "tr002,TP1-A1,six,5,9,")
    with pytest.raises(DatasetError, match=r"reaction\.csv row 3 column 'satisfaction': 'six' is not a number"):
        read_table(path, "reaction")


def test_out_of_range_likert_is_refused(tmp_path):
    path = write_csv(tmp_path / "reaction.csv", "trainee_id,module,satisfaction,relevance,recommend,comment",
                     "tr001,TP1-A1,7,5,9,")
    with pytest.raises(DatasetError, match=r"row 2 column 'satisfaction': 7 is outside 1..5"):
        read_table(path, "reaction")


def test_missing_column_is_named(tmp_path):
    path = write_csv(tmp_path / "pretest.csv", "trainee_id,pre_score", "tr001,40")
    with pytest.raises(DatasetError, match=r"column 'max_score': column missing"):
        read_table(path, "pretest")


def test_unknown_trainee_is_refused(tmp_path, root):
    sample = root / "datasets" / "sample"
    for name in ("trainees", "scores", "reaction"):
        (tmp_path / f"{name}.csv").write_bytes((sample / f"{name}.csv").read_bytes())
    write_csv(tmp_path / "pretest.csv", "trainee_id,pre_score,max_score", "ghost,40,100")
    with pytest.raises(DatasetError, match=r"pretest\.csv row 2 column 'trainee_id': 'ghost' is not in trainees\.csv"):
        load_cohort(tmp_path)


def test_wide_scores_has_one_column_per_item(root):
    cohort = load_cohort(root / "datasets" / "sample")
    assignment = cohort.scores["assignment"].iloc[0]
    wide, max_marks = wide_scores(cohort.scores, assignment=assignment)
    auto_items = cohort.scores.query("assignment == @assignment and kind == 'auto'")["grade_id"].unique()
    assert sorted(wide.columns) == sorted(auto_items)
    assert list(max_marks.index) == list(wide.columns)
    assert len(wide) == cohort.scores.query("assignment == @assignment")["trainee_id"].nunique()


# ---------------------------------------------------------------------------------------------
# every table: schema, validation naming file / row / column, cross-table checks
# ---------------------------------------------------------------------------------------------



def test_the_bundled_sample_has_every_table(root):
    cohort = load_cohort(root / "datasets" / "sample")
    assert cohort.missing == ()
    for table in TABLES:
        assert len(getattr(cohort, table)) > 0, table
    assert {"tp1_check", "completion_test"} <= set(cohort.assignments)


def sample_copy(tmp_path, root, *tables):
    for name in tables:
        shutil.copy(root / "datasets" / "sample" / f"{name}.csv", tmp_path / f"{name}.csv")
    return tmp_path


ENROL = "trainee_id,stage,status,date"


@pytest.mark.parametrize("table, header, rows, message", [
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,tp1,passed,2025-09-01"],
     r"enrolment\.csv row 3 column 'status': 'passed' is not an outcome of stage 'tp1'"),
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,tp1_check,passed,2025-10-01"],
     r"enrolment\.csv row 3 column 'stage': trainee 'tr001' reached 'tp1_check' without a 'tp1' row"),
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,tp1,withdrawn,2025-09-01",
                          "tr001,tp1_check,passed,2025-10-01"],
     r"row 3 column 'status': trainee 'tr001' has status 'withdrawn' at 'tp1' but later stages too"),
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,tp1,completed,2025/09/01"],
     r"enrolment\.csv row 3 column 'date': '2025/09/01' is not a date; write it as YYYY-MM-DD"),
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,tp1,completed,2025-07-01"],
     r"row 3 column 'date': 2025-07-01 is before the date of the previous stage"),
    ("enrolment", ENROL, ["tr001,enrolled,enrolled,2025-08-01", "tr001,graduated,certified,2025-09-01"],
     r"row 3 column 'stage': 'graduated' is not one of enrolled, tp1"),
    ("rubric_scores", "trainee_id,assignment,grade_id,criterion,rater_id,points,max_points",
     ["tr001,cs01_job_loss,q6_issues,coverage,rt01,3,2"],
     r"rubric_scores\.csv row 2 column 'points': 3 is outside 0\.\.2"),
    ("rubric_scores", "trainee_id,assignment,grade_id,criterion,rater_id,points,max_points",
     ["tr001,cs01_job_loss,q6_issues,coverage,rt01,1,2", "tr001,cs01_job_loss,q6_issues,coverage,rt01,2,2"],
     r"rubric_scores\.csv row 3 column 'rater_id': .*appears twice"),
    ("consultations", "consultation_id,trainee_id,date,topic,language,issues,outcome,referred_to,days_to_resolution",
     ["c1,tr001,2025-05-01,tax,日本語,1,referred,,3"],
     r"consultations\.csv row 2 column 'referred_to': empty although the outcome is 'referred'"),
    ("consultations", "consultation_id,trainee_id,date,topic,language,issues,outcome,referred_to,days_to_resolution",
     ["c1,tr001,2025-05-01,tax,日本語,1,resolved,,"],
     r"row 2 column 'days_to_resolution': empty although the outcome is 'resolved'"),
    ("consultations", "consultation_id,trainee_id,date,topic,language,issues,outcome,referred_to,days_to_resolution",
     ["c1,tr001,2025-05-01,visa,日本語,1,pending,,"],
     r"row 2 column 'topic': 'visa' is not one of"),
    ("consultations", "consultation_id,trainee_id,date,topic,language,issues,outcome,referred_to,days_to_resolution",
     ["c1,tr001,2025-05-01,tax,日本語,1.5,pending,,"],
     r"row 2 column 'issues': '1\.5' is not a whole number"),
    ("followup", "trainee_id,surveyed_on,consultations_handled,referrals_made,preventive_sessions,uses_c1,uses_c2,"
                 "uses_c3,uses_c4,comment", ["tr001,2026-10-01,30,10,2,4,3,6,4,"],
     r"followup\.csv row 2 column 'uses_c3': 6 is outside 1\.\.5"),
    ("roster", "lecturer_id,role,fiscal_year,available_days", ["lec001,lecturer,2026,5"],
     r"roster\.csv row 2 column 'role': 'lecturer' is not one of tp2_facilitator"),
    ("trainees", "trainee_id,prefecture,org_type,years_experience,first_language",
     ["tr001,東京,municipality,3,日本語"], r"trainees\.csv row 2 column 'prefecture': '東京' is not one of"),
])
def test_each_table_names_file_row_and_column(tmp_path, table, header, rows, message):
    path = write_csv(tmp_path / f"{table}.csv", header, *rows)
    with pytest.raises(DatasetError, match=message):
        read_table(path, table)


def test_a_follow_up_answer_must_come_from_a_certified_trainee(tmp_path, root):
    folder = sample_copy(tmp_path, root, "trainees", "enrolment")
    enrol = pd.read_csv(folder / "enrolment.csv")
    uncertified = sorted(set(enrol["trainee_id"]) - set(enrol.loc[enrol["stage"] == "certified", "trainee_id"]))[0]
    write_csv(folder / "followup.csv", "trainee_id,surveyed_on,consultations_handled,referrals_made,"
              "preventive_sessions,uses_c1,uses_c2,uses_c3,uses_c4,comment", f"{uncertified},2026-10-01,3,1,0,4,3,3,4,")
    with pytest.raises(DatasetError, match=rf"followup\.csv row 2 column 'trainee_id': '{uncertified}' is not certified"):
        load_cohort(folder)


def test_only_trainees_are_required_and_missing_tables_are_listed(tmp_path, root):
    cohort = load_cohort(sample_copy(tmp_path, root, "trainees", "reaction"))
    assert cohort.scores is None and cohort.reaction is not None
    assert set(cohort.missing) == set(TABLES) - {"trainees", "reaction"}
    without = tmp_path / "without_trainees"
    without.mkdir()
    with pytest.raises(DatasetError, match=r"trainees\.csv: file not found"):
        load_cohort(sample_copy(without, root, "reaction"))


def test_a_table_of_another_module_is_read_with_its_own_schema(tmp_path):
    path = write_csv(tmp_path / "attendance.csv", "trainee_id,session,attended", "tr001,TP2-day1,maybe")
    schemas = {"attendance": {"trainee_id": ("id", True), "session": ("str", True), "attended": ("bool", True)}}
    with pytest.raises(DatasetError, match=r"attendance\.csv row 2 column 'attended': 'maybe' is not true/false"):
        read_table(path, "attendance", schemas=schemas)


def test_the_data_dictionary_describes_every_column():
    frame = data_dictionary()
    assert set(frame["table"]) == set(TABLES)
    assert (frame["description"].str.len() > 10).all()
    for name, spec in TABLES.items():
        assert len(frame[frame["table"] == name]) == len(spec.columns)
        text = table_markdown(name)
        assert all(f"`{c.name}`" in text for c in spec.columns)


def test_the_book_page_has_a_section_for_every_table(root):
    page = (root / "book" / "evaluation" / "data_dictionary.md").read_text(encoding="utf-8")
    for name in TABLES:
        assert f'table_markdown("{name}")' in page, f"the data dictionary page lacks {name}"


# ---------------------------------------------------------------------------------------------
# aggregations on small hand-made tables (expected values counted by hand)
# ---------------------------------------------------------------------------------------------

def frame_enrolment(paths):
    """paths: {trainee: [(stage, status), ...]} -> an enrolment frame with increasing dates."""
    rows = [{"trainee_id": t, "stage": s, "status": st, "date": pd.Timestamp("2025-08-01") + pd.Timedelta(days=30 * i)}
            for t, steps in paths.items() for i, (s, st) in enumerate(steps)]
    return pd.DataFrame(rows)


FULL = [("enrolled", "enrolled"), ("tp1", "completed"), ("tp1_check", "passed"), ("practice", "completed"),
        ("tp2", "attended"), ("completion_test", "passed"), ("certified", "certified")]


def test_funnel_counts_reached_and_passed_per_stage():
    enrol = frame_enrolment({"a": FULL, "b": FULL[:2] + [("tp1_check", "failed")], "c": [FULL[0], ("tp1", "withdrawn")],
                             "d": FULL})
    f = funnel(enrol)
    assert f.loc["tp1", "reached"] == 4 and f.loc["tp1", "succeeded"] == 3
    assert f.loc["tp1_check", "reached"] == 3 and f.loc["tp1_check", "rate"] == pytest.approx(200 / 3)
    assert f.loc["certified", "of_enrolled"] == 50


def test_reaction_summary_top2_box_and_nps():
    reaction = pd.DataFrame({"trainee_id": list("abcde"), "module": ["M"] * 5,
                             "satisfaction": [5, 4, 3, 2, 4], "relevance": [5, 5, 5, 1, 1],
                             "recommend": [10, 9, 8, 3, 6], "comment": ["", "良かった", "", "", ""]})
    s = reaction_summary(reaction).loc["M"]
    assert s["satisfaction_top2"] == 60 and s["relevance_top2"] == 60
    assert s["promoters"] == 2 and s["detractors"] == 2 and s["nps"] == 0
    assert s["comments"] == 1


def consult(rows):
    frame = pd.DataFrame(rows, columns=["trainee_id", "date", "outcome", "days_to_resolution"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["days_to_resolution"] = frame["days_to_resolution"].astype("Int64")
    frame["topic"] = "tax"
    return frame


def test_consultation_outcomes_split_before_during_after_certification():
    enrol = frame_enrolment({"a": FULL, "b": [FULL[0], ("tp1", "withdrawn")]})   # a certified 2026-01-28
    c = consult([("a", "2025-05-01", "unresolved", None), ("a", "2025-05-02", "resolved", 4),
                 ("a", "2026-06-01", "resolved", 2), ("a", "2026-06-02", "referred", 6), ("a", "2026-06-03", "pending", None),
                 ("b", "2025-05-01", "unresolved", None), ("b", "2026-06-01", "resolved", 3)])
    out = consultation_outcomes(c, enrol)
    before, after = out.loc[(True, "before")], out.loc[(True, "after")]
    assert before["closed"] == 2 and before["connected"] == 50 and before["unresolved"] == 50
    assert after["records"] == 3 and after["closed"] == 2 and after["connected"] == 100
    assert after["median_days"] == 4
    assert out.loc[(False, "after"), "resolved"] == 100


def test_coordinator_change_needs_enough_records_on_both_sides():
    enrol = frame_enrolment({"a": FULL, "b": FULL})
    rows = [("a", "2025-05-01", "unresolved", None)] * 2 + [("a", "2025-05-02", "resolved", 1)] * 2 \
        + [("a", "2026-06-01", "resolved", 1)] * 4 + [("b", "2025-05-01", "resolved", 1)] * 4
    change = coordinator_change(consult(rows), enrol, min_records=4)
    assert list(change.index) == ["a"]
    assert change.loc["a", "connected_before"] == 50 and change.loc["a", "change"] == 50


def rubric_frame():
    return pd.DataFrame([
        ("t1", "cs", "q6", "coverage", "rt01", 2.0, 2.0), ("t1", "cs", "q6", "priority", "rt01", 1.0, 2.0),
        ("t1", "cs", "q6", "coverage", "rt02", 1.0, 2.0), ("t1", "cs", "q6", "priority", "rt02", 1.0, 2.0),
        ("t2", "cs", "q6", "coverage", "rt02", 0.0, 2.0), ("t2", "cs", "q6", "priority", "rt02", 1.0, 2.0),
    ], columns=["trainee_id", "assignment", "grade_id", "criterion", "rater_id", "points", "max_points"])


def test_an_answers_mark_is_the_mean_of_its_raters_totals():
    marks = final_manual_marks(rubric_frame()).set_index("trainee_id")
    assert marks.loc["t1", "score"] == 2.5 and marks.loc["t1", "raters"] == 2 and marks.loc["t1", "max_score"] == 4
    assert marks.loc["t2", "score"] == 1.0


def test_rater_pairs_and_severity():
    pairs = rater_pairs(rubric_frame())
    assert len(pairs) == 2                                         # only t1 was double-marked
    assert pairs.loc[("t1", "cs", "q6", "coverage"), ["points_a", "points_b"]].tolist() == [2.0, 1.0]
    answer = rater_pairs(rubric_frame(), level="answer")
    assert answer.iloc[0][["rater_id_a", "rater_id_b", "points_a", "points_b"]].tolist() == ["rt01", "rt02", 3.0, 2.0]
    sev = rater_severity(rubric_frame())
    assert sev.loc["rt01", "mean_difference"] == 1.0 and sev.loc["rt02", "mean_difference"] == -1.0
    assert sev.loc["rt02", "answers_marked"] == 2


def small_cohort(tmp_path, *, scores, rubric=None, enrolment=None, pretest=None):
    trainees = pd.DataFrame({"trainee_id": sorted(scores["trainee_id"].unique())})
    return Cohort(name="t", folder=tmp_path, trainees=trainees, scores=scores, rubric_scores=rubric,
                  enrolment=enrolment, pretest=pretest)


def score_rows(assignment, marks, max_score=1.0, kind="auto"):
    return pd.DataFrame([{"trainee_id": t, "assignment": assignment, "notebook": assignment, "grade_id": g, "kind": kind,
                          "score": 0.0 if v is None else v, "max_score": max_score,
                          "needs_manual_grade": v is None}
                         for t, row in marks.items() for g, v in row.items()])


def test_written_answers_take_their_rubric_mark_and_items_keep_question_order(tmp_path):
    scores = pd.concat([score_rows("cs", {"t1": {"q10_a": 1.0, "q2_b": 0.0}, "t2": {"q10_a": 0.0, "q2_b": 1.0}}),
                        score_rows("cs", {"t1": {"q6": None}, "t2": {"q6": None}}, max_score=4.0, kind="manual")])
    wide, maxm = assignment_marks(small_cohort(tmp_path, scores=scores, rubric=rubric_frame()), "cs")
    assert list(wide.columns) == ["q2_b", "q6", "q10_a"] == item_order(["q10_a", "q6", "q2_b"])
    assert wide.loc["t1", "q6"] == 2.5 and wide.loc["t2", "q6"] == 1.0 and maxm["q6"] == 4.0


def test_gate_check_finds_a_decision_that_contradicts_the_mark(tmp_path):
    scores = score_rows("tp1_check", {"a": {"q1": 1.0, "q2": 1.0}, "b": {"q1": 1.0, "q2": 0.0}})
    enrol = frame_enrolment({"a": FULL[:3], "b": FULL[:3]})           # both 'passed'; b has 50 %
    check = gate_check(small_cohort(tmp_path, scores=scores, enrolment=enrol), pass_mark=60).set_index("gate")
    assert check.loc["tp1_check", "disagreements"] == 1 and check.loc["tp1_check", "examples"] == "b"


def test_pre_post_needs_the_completion_test(tmp_path):
    scores = score_rows("cs01", {"a": {"q1": 1.0}})
    pre = pd.DataFrame({"trainee_id": ["a"], "pre_score": [40.0], "max_score": [100.0]})
    with pytest.raises(DatasetError, match=r"no scores for 'completion_test'.*found: cs01"):
        pre_post(small_cohort(tmp_path, scores=scores, pretest=pre))


def test_subgroups_hide_small_counts_and_rates_that_would_reveal_them(root):
    cohort = load_cohort(root / "datasets" / "sample")
    people = pd.concat([cohort.trainees.assign(trainee_id=cohort.trainees["trainee_id"] + f"_{i}") for i in range(3)])
    people["org_type"] = ["municipality"] * 25 + ["prefecture"] * 11
    big = Cohort(name="x", folder=cohort.folder, trainees=people.reset_index(drop=True),
                 enrolment=frame_enrolment({t: FULL if i % 3 else FULL[:2] + [("tp1_check", "failed")]
                                            for i, t in enumerate(people["trainee_id"])}))
    table = subgroup_table(big, by="org_type", threshold=10)
    municipal, prefectural = table.loc["市区町村"], table.loc["都道府県"]
    assert municipal["trainees"] == 25 and table.loc["合計", "trainees"] == 36
    assert "<10" in (prefectural["certified"], prefectural["not_certified"])
    assert prefectural["certification_rate"] == "—"                 # one of its counts is small
    counts = (municipal["certified"], municipal["not_certified"])
    assert (municipal["certification_rate"] != "—") == all(isinstance(v, int) and v >= 10 for v in counts)


def test_revision_list_puts_the_strongest_evidence_first():
    items = pd.DataFrame({"assignment": ["t", "t", "t"], "item": ["q1", "q2", "q3"], "unit": ["U1", "U1", "U2"],
                          "facility": [60.0, 95.0, 55.0], "discrimination_index": [-20.0, 10.0, 45.0],
                          "n": [40, 40, 40], "flags": ["negative discrimination: check the key",
                                                      "very easy (facility > 90%); low discrimination (<30)", ""]}
                         ).set_index(["assignment", "item"])
    modules = pd.DataFrame({"responses": [40, 40], "satisfaction_top2": [35.0, 90.0], "relevance_top2": [50.0, 90.0],
                            "nps": [-30.0, 20.0]}, index=pd.Index(["M1", "M2"], name="module"))
    ranked = revision_candidates(items=items, modules=modules)
    assert ranked["target"].tolist()[0] == "M1"                    # 2 + 2 + 1 points
    assert ranked.set_index("target").loc["t / q1", "points"] > ranked.set_index("target").loc["t / q2", "points"] - 1
    assert "M2" not in ranked["target"].tolist() and "t / q3" not in ranked["target"].tolist()
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))


def test_item_analysis_of_the_sample_covers_both_tests(root, settings):
    cohort = load_cohort(root / "datasets" / "sample")
    items, tests, _ = analyse_items(cohort, catalogue=item_catalogue(settings.items_dir, settings.facts))
    assert {"tp1_check", "completion_test"} <= set(tests.index)
    assert items["unit"].notna().all()
    sat = cohort.enrolment[cohort.enrolment["stage"].isin(["tp1_check", "completion_test"])].groupby("stage").size()
    assert tests.loc["tp1_check", "n"] == sat["tp1_check"]                  # only the trainees who sat each test
    assert tests.loc["completion_test", "n"] == sat["completion_test"]


# -- the package layout (issue 15): old paths keep working, the package re-exports the old API ---------

OLD_PATHS = {"coordkit.evaluation": "coordkit.cohort.evaluation", "coordkit.simulate": "coordkit.cohort.simulate",
             "coordkit.report": "coordkit.cohort.report", "coordkit.plotting": "coordkit.cohort.plotting",
             "coordkit.capacity": "coordkit.cohort.capacity", "coordkit.datahash": "coordkit.cohort.datahash"}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_an_old_module_path_is_the_moved_module_itself(old):
    import importlib

    new = importlib.import_module(OLD_PATHS[old])
    assert importlib.import_module(old) is new           # a monkeypatch on either is seen by both


@pytest.mark.parametrize("package", ["coordkit.cohort", "coordkit.cohort.evaluation", "coordkit.cohort.simulate"])
def test_each_package_re_exports_its_public_names(package):
    import importlib

    mod = importlib.import_module(package)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"
    assert len(mod.__all__) == len(set(mod.__all__))


def test_what_the_evaluator_notebooks_import_from_the_old_paths_still_resolves():
    from coordkit.cohort import (GATES, PERIOD_LABELS, ROLES, STAGE_LABELS, SUBGROUPS, TABLES,  # noqa: F401
                                 RevisionRules, analyse_items, consultation_periods, load_cohort, rater_pairs,
                                 read_table, table_markdown)
    from coordkit.evaluation import ItemFlagRules, icc_ci, kappa_ci, suppress_small_cells  # noqa: F401
    from coordkit.simulate import TIMELINE, generate_cohort  # noqa: F401

    assert read_table.__module__ == "coordkit.cohort.tables"
    assert suppress_small_cells.__module__ == "coordkit.cohort.evaluation.privacy"
