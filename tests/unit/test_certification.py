"""The certification rule: every gate, every refusal explained, the records it reads, certifying a
cohort into the register, renewal, and the refresher test's coverage of changed facts."""

import datetime as dt
import math

import pandas as pd
import pytest

from coordkit.certification import (SCHEMAS, SYNTHETIC_MARKER, CertificationRule, certify_cohort, decide,
                                    decide_renewal, default_rule, load_records, refresher_coverage,
                                    renew_certificates, synthesize_records, validity_notes)
from coordkit.errors import ConfigError, DatasetError
from coordkit.certification.register import expiry_date, open_register

D = dt.date
SESSIONS = ("TP2-day1", "TP2-day2")
SCORE_COLUMNS = ("trainee_id", "assignment", "notebook", "grade_id", "kind", "score", "max_score",
                 "needs_manual_grade")


@pytest.fixture
def rule(facts):
    return default_rule(facts=facts)


def scores_for(tid, *, tp1=(16, 20), practice=(8, 10), completion=(15, 20), pending=()):
    """One row per assignment (None: not submitted), plus an ungraded written answer per `pending`."""
    rows = []
    for assignment, result in (("tp1_check", tp1), ("practice_report", practice), ("completion_test", completion)):
        if result is None:
            continue
        kind = "manual" if assignment == "practice_report" else "auto"
        rows.append(dict(trainee_id=tid, assignment=assignment, notebook=assignment, grade_id="q1_main", kind=kind,
                         score=float(result[0]), max_score=float(result[1]), needs_manual_grade=False))
    for assignment in pending:
        rows.append(dict(trainee_id=tid, assignment=assignment, notebook=assignment, grade_id="q9_reflection",
                         kind="manual", score=math.nan, max_score=4.0, needs_manual_grade=True))
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))



def attendance_for(tid, attended=(True, True), sessions=SESSIONS):
    return pd.DataFrame([dict(trainee_id=tid, session=s, attended=a) for s, a in zip(sessions, attended)],
                        columns=list(SCHEMAS["attendance"]))


PEOPLE = pd.DataFrame([dict(trainee_id="tr001", name_ja="佐藤 花子（仮名）", name_en="SATO Hanako (pseudonym)",
                            affiliation="A市 多文化共生課（架空）", specialist_fields="労働", publish_name=False,
                            publish_affiliation=True, publish_specialist_fields=False)])


def check(rule, **kwargs):
    tid = "tr001"
    attendance = kwargs.pop("attendance", attendance_for(tid))
    people = kwargs.pop("people", PEOPLE)
    return decide(tid, scores=scores_for(tid, **kwargs), attendance=attendance, people=people, rule=rule)


def only_refusal(decision):
    assert not decision.certified
    assert len(decision.refusals) == 1, decision.explain()
    return decision.refusals[0]


# --- the rule ----------------------------------------------------------------------------------

def test_the_rule_takes_its_validity_from_the_facts_registry(facts, rule):
    assert rule.validity_years == facts.value("program.certificate_validity_years")
    assert default_rule(facts=facts, overrides={"validity_years": 5}).validity_years == 5


def test_defaults_are_labelled_as_assumptions_and_overrides_are_not(facts, rule):
    assert "tp1_check_pass_percent = 60.0" in rule.assumptions()
    assert rule.mark_label("completion_test_pass_percent").endswith("(assumed default)")
    stricter = default_rule(facts=facts, overrides={"completion_test_pass_percent": 70})
    assert stricter.mark_label("completion_test_pass_percent") == "70%"
    assert not any(a.startswith("completion_test_pass_percent") for a in stricter.assumptions())


@pytest.mark.parametrize("overrides, message", [
    ({"pass_mark": 60}, r"unknown key\(s\) \['pass_mark'\]"),
    ({"tp1_check_pass_percent": 120}, "from 0 to 100"),
    ({"tp1_check_pass_percent": "60"}, "from 0 to 100"),
    ({"validity_years": 0}, "positive whole number"),
    ({"completion_test": ""}, "assignment id"),
])
def test_bad_rule_settings_are_refused(facts, overrides, message):
    with pytest.raises(ConfigError, match=message):
        default_rule(facts=facts, overrides=overrides)


def test_certificates_say_the_validity_is_an_assumption_until_isa_confirms_it(facts, rule):
    notes = validity_notes(rule, facts)
    if facts["program.certificate_validity_years"].source_kind == "ISA":
        assert notes == ()
    else:
        assert any("仮定" in n for n in notes) and any("assumption" in n for n in notes)
    assert len(validity_notes(CertificationRule(validity_years=rule.validity_years + 2), facts)) == 2


# --- each gate and its refusal -----------------------------------------------------------------------

def test_every_gate_passed_certifies(rule):
    decision = check(rule)
    assert decision.certified and decision.refusals == ()
    assert [g.gate for g in decision.gates] == ["tp1_check", "practice_report", "tp2_attendance",
                                                "completion_test", "personal_record"]


def test_exactly_the_pass_mark_passes(rule):
    assert check(rule, tp1=(12, 20)).certified


def test_tp1_check_below_the_mark_is_refused_with_score_and_mark(rule):
    gate = only_refusal(check(rule, tp1=(11, 20)))
    assert (gate.gate, gate.status) == ("tp1_check", "below_mark")
    assert "tp1_check" in gate.detail and "11 of 20 points = 55.0%" in gate.detail
    assert "below the pass mark 60% (assumed default)" in gate.detail


def test_a_missing_submission_is_refused_and_says_what_to_do(rule):
    gate = only_refusal(check(rule, completion=None))
    assert (gate.gate, gate.status) == ("completion_test", "not_submitted")
    assert "coordkit grade completion_test" in gate.detail


def test_a_practice_report_still_being_graded_is_not_yet_accepted(rule):
    gate = only_refusal(check(rule, pending=["practice_report"]))
    assert (gate.gate, gate.status) == ("practice_report", "awaiting_grading")
    assert "q9_reflection" in gate.detail and "formgrader" in gate.detail


def test_a_practice_report_below_the_mark_is_not_accepted(rule):
    gate = only_refusal(check(rule, practice=(5, 10)))
    assert gate.gate == "practice_report"
    assert "5 of 10 points = 50.0%, not accepted, below the acceptance mark 60%" in gate.detail


def test_tp2_absence_names_the_session(rule):
    gate = only_refusal(check(rule, attendance=attendance_for("tr001", (True, False))))
    assert (gate.gate, gate.status) == ("tp2_attendance", "absent")
    assert "attended 1 of 2 sessions (50%)" in gate.detail and "absent: TP2-day2" in gate.detail
    assert "required 100% (assumed default)" in gate.detail


def test_tp2_without_a_record_counts_as_absent(rule):
    others = attendance_for("tr002")
    gate = only_refusal(check(rule, attendance=others))
    assert (gate.gate, gate.status) == ("tp2_attendance", "no_record")
    assert "no attendance record for: TP2-day1, TP2-day2" in gate.detail
    gate = only_refusal(check(rule, attendance=attendance_for("tr001", ())))   # nothing recorded at all
    assert "records no Training Program 2 session" in gate.detail


def test_tp2_attendance_threshold_is_configurable(facts):
    lenient = default_rule(facts=facts, overrides={"tp2_attendance_percent": 50})
    assert check(lenient, attendance=attendance_for("tr001", (True, False))).certified


def test_completion_test_below_a_stricter_configured_mark(facts):
    stricter = default_rule(facts=facts, overrides={"completion_test_pass_percent": 70})
    gate = only_refusal(check(stricter, completion=(13, 20)))
    assert "13 of 20 points = 65.0%, below the pass mark 70%" in gate.detail
    assert "assumed" not in gate.detail


def test_a_missing_personal_record_is_refused(rule):
    gate = only_refusal(check(rule, people=PEOPLE.iloc[0:0]))
    assert gate.gate == "personal_record" and "people.csv" in gate.detail


def test_every_failed_gate_is_explained_at_once(rule):
    decision = check(rule, tp1=(2, 20), practice=None, completion=(0, 20),
                     attendance=attendance_for("tr001", (False, False)))
    assert [g.gate for g in decision.refusals] == ["tp1_check", "practice_report", "tp2_attendance",
                                                   "completion_test"]
    assert decision.explain().count(";") >= 4


# --- records ------------------------------------------------------------------------------------

@pytest.fixture
def cohort_dir(tmp_path):
    folder = tmp_path / "cohorts" / "c1"
    folder.mkdir(parents=True)
    pd.DataFrame([dict(trainee_id=f"tr{i:03d}", prefecture=p, org_type=o, years_experience=3.0, first_language=l)
                  for i, (p, o, l) in enumerate([("東京都", "municipality", "日本語"),
                                                 ("愛知県", "prefecture", "ポルトガル語"),
                                                 ("大阪府", "international_association", "ベトナム語")], start=1)]
                 ).to_csv(folder / "trainees.csv", index=False)
    return folder


def trainees_of(folder):
    from coordkit.cohort import read_table
    return read_table(folder / "trainees.csv", "trainees")


def test_missing_records_name_the_file_and_the_way_out(cohort_dir):
    with pytest.raises(DatasetError, match=r"attendance.csv: file not found.*--synthetic-records"):
        load_records(cohort_dir, trainees=trainees_of(cohort_dir), seed=1)


def test_synthetic_records_are_fictional_reproducible_and_never_overwrite(cohort_dir):
    trainees = trainees_of(cohort_dir)
    records = load_records(cohort_dir, trainees=trainees, seed=7, synthetic=True)
    assert records.synthetic and {p.name for p in records.written} == {"attendance.csv", "people.csv"}
    assert (cohort_dir / SYNTHETIC_MARKER).is_file()
    assert records.people["name_ja"].str.endswith("（仮名）").all()
    assert records.people["name_en"].str.endswith("(pseudonym)").all()
    assert records.people["affiliation"].str.endswith("（架空）").all()
    assert set(records.attendance["session"]) == set(SESSIONS)
    again = synthesize_records(trainees, seed=7)
    pd.testing.assert_frame_equal(again[1], records.people)
    edited = records.people.assign(affiliation="本物の課")
    edited.to_csv(cohort_dir / "people.csv", index=False)
    (cohort_dir / "attendance.csv").unlink()
    second = load_records(cohort_dir, trainees=trainees, seed=7, synthetic=True)
    assert [p.name for p in second.written] == ["attendance.csv"]
    assert (second.people["affiliation"] == "本物の課").all()


def test_synthetic_attendance_follows_the_enrolment_table(cohort_dir):
    enrolment = pd.DataFrame([dict(trainee_id="tr001", stage="tp2", status="attended"),
                              dict(trainee_id="tr002", stage="tp2", status="absent")])
    attendance, _ = synthesize_records(trainees_of(cohort_dir), seed=3, enrolment=enrolment)
    by = attendance.groupby("trainee_id")["attended"].apply(list).to_dict()
    assert by == {"tr001": [True, True], "tr002": [True, False]}          # tr003 never reached TP2


@pytest.mark.parametrize("table, text, message", [
    ("attendance", "trainee_id,session,attended\ntr001,TP2-day1,maybe\n",
     r"attendance.csv row 2 column 'attended': 'maybe' is not true/false"),
    ("attendance", "trainee_id,session,attended\ntr009,TP2-day1,true\n",
     r"attendance.csv row 2 column 'trainee_id': 'tr009' is not in trainees.csv"),
    ("attendance", "trainee_id,session,attended\ntr001,TP2-day1,true\ntr001,TP2-day1,false\n",
     r"attendance.csv row 3: trainee_id 'tr001', session 'TP2-day1' appears twice"),
    ("attendance", "trainee_id,session\ntr001,TP2-day1\n", r"attendance.csv column 'attended': column missing"),
    ("people", "trainee_id,name_ja,name_en,affiliation,specialist_fields,publish_name,publish_affiliation,"
               "publish_specialist_fields\ntr001,,X,Y,,true,true,true\n",
     r"people.csv row 2 column 'name_ja': empty"),
])
def test_bad_records_are_reported_by_file_row_and_column(cohort_dir, table, text, message):
    load_records(cohort_dir, trainees=trainees_of(cohort_dir), seed=1, synthetic=True)
    (cohort_dir / f"{table}.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_records(cohort_dir, trainees=trainees_of(cohort_dir), seed=1)


# --- certifying a cohort ------------------------------------------------------------------------

@pytest.fixture
def local(settings, tmp_path, cohort_dir):
    return settings.with_overrides(root=tmp_path, cohorts_dir=tmp_path / "cohorts", reports_dir=tmp_path / "reports")


def cohort_scores():
    return pd.concat([scores_for("tr001"), scores_for("tr002", completion=(3, 20)), scores_for("tr003")])


def test_certify_cohort_registers_the_certified_once_and_writes_their_certificates(local, tmp_path, rule):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    result = certify_cohort("c1", settings=local, on=D(2025, 3, 28), scores=cohort_scores(), register_url=url,
                            synthetic_records=True, seed=5)
    refused = {d.trainee_id: d for d in result.refused}
    assert "tr002" in refused and refused["tr002"].refusals[0].gate == "completion_test"
    registered = {c.trainee_id: c for c in result.registered}
    assert set(registered) == {d.trainee_id for d in result.certified}
    for cert in registered.values():
        assert result.pdfs[cert.certificate_id].is_file()
        assert cert.expires_on == expiry_date(D(2025, 3, 28), years=rule.validity_years)
    table = pd.read_csv(result.decisions_csv)
    assert set(table["trainee_id"]) == {"tr001", "tr002", "tr003"}
    assert "completion_test" in table.set_index("trainee_id").loc["tr002", "refusals"]

    again = certify_cohort("c1", settings=local, on=D(2025, 4, 1), scores=cohort_scores(), register_url=url)
    assert again.registered == [] and {c.trainee_id for c in again.already} == set(registered)
    assert again.pdfs == {}
    with open_register(url) as reg:
        assert len(reg.certificates()) == len(registered)
        assert all(c.certified_on == D(2025, 3, 28) for c in reg.certificates())


def test_changed_personal_details_are_reported_not_silently_written(local, tmp_path):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    certify_cohort("c1", settings=local, on=D(2025, 3, 28), scores=cohort_scores(), register_url=url,
                   synthetic_records=True)
    people_csv = local.cohorts_dir / "c1" / "people.csv"
    people = pd.read_csv(people_csv)
    people.loc[people["trainee_id"] == "tr001", "affiliation"] = "B市 国際交流課（架空）"
    people.to_csv(people_csv, index=False)
    result = certify_cohort("c1", settings=local, on=D(2025, 4, 1), scores=cohort_scores(), register_url=url)
    cert = next(c for c in result.already if c.trainee_id == "tr001")
    assert result.differences[cert.certificate_id] == ["affiliation"]
    assert cert.affiliation != "B市 国際交流課（架空）"


def test_dry_run_decides_but_writes_nothing(local, tmp_path):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    result = certify_cohort("c1", settings=local, on=D(2025, 3, 28), scores=cohort_scores(), register_url=url,
                            synthetic_records=True, dry_run=True)
    assert result.certified and result.registered == []
    assert not (tmp_path / "register.db").exists() and not (tmp_path / "reports").exists()
    assert not (local.cohorts_dir / "c1" / "people.csv").exists()


def test_an_assignment_missing_from_the_gradebook_is_warned_about(local, tmp_path):
    scores = cohort_scores()
    result = certify_cohort("c1", settings=local, scores=scores[scores["assignment"] != "tp1_check"],
                            register_url=f"sqlite:///{tmp_path / 'r.db'}", synthetic_records=True, dry_run=True)
    assert any("tp1_check" in w for w in result.warnings)
    assert not result.certified


def test_an_unknown_cohort_is_a_one_line_error(local):
    with pytest.raises(DatasetError, match="no such cohort folder"):
        certify_cohort("nope", settings=local, scores=cohort_scores())


# --- renewal --------------------------------------------------------------------------------------

def renewal_scores(cert_id, *, refresher=(14, 18), meeting=(10, 14)):
    rows = []
    for assignment, (got, total) in (("renewal_refresher", refresher), ("case_meeting", meeting)):
        rows.append(dict(trainee_id=cert_id, assignment=assignment, notebook=assignment, grade_id="q1_all",
                         kind="auto", score=float(got), max_score=float(total), needs_manual_grade=False))
    return pd.DataFrame(rows)


def test_renewal_gates_window_refresher_and_case_meeting(local, tmp_path, rule):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    with open_register(url) as reg:
        cert = reg.add(cohort="c1", trainee_id="tr001", name_ja="佐藤 花子（仮名）", name_en="SATO Hanako (pseudonym)",
                       affiliation="A市（架空）", prefecture="東京都", certified_on=D(2024, 2, 29),
                       validity_years=rule.validity_years)
    early = decide_renewal(cert, scores=renewal_scores(cert.certificate_id),
                           on=cert.expires_on - dt.timedelta(days=rule.renewal_opens_days + 1), rule=rule)
    assert [g.status for g in early.refusals] == ["too_early"]
    failed = decide_renewal(cert, scores=renewal_scores(cert.certificate_id, refresher=(5, 18)),
                            on=cert.expires_on, rule=rule)
    assert [g.gate for g in failed.refusals] == ["renewal_refresher"]
    late = decide_renewal(cert, scores=renewal_scores(cert.certificate_id), on=cert.expires_on + dt.timedelta(days=1),
                          rule=rule)
    assert [g.status for g in late.refusals] == ["expired"]

    on = cert.expires_on - dt.timedelta(days=30)
    scores = pd.concat([renewal_scores(cert.certificate_id), renewal_scores("tr001", refresher=(0, 18))])
    result = renew_certificates(settings=local, on=on, scores=scores, register_url=url,
                                pdf_dir=tmp_path / "pdf")
    assert [c.certificate_id for c in result.renewed] == [cert.certificate_id]
    renewed = result.renewed[0]
    assert renewed.expires_on.year == cert.expires_on.year + rule.validity_years and renewed.renewals == 1
    assert result.pdfs[cert.certificate_id].name == f"{cert.certificate_id}_renewal1.pdf"
    assert renew_certificates(settings=local, on=on, scores=scores, register_url=url).renewed == []


def test_renewal_work_from_an_earlier_cycle_does_not_count(rule):
    from coordkit.certification.register import Certificate

    cert = Certificate(certificate_id="SC-2025-0001", cohort="c1", trainee_id="tr001", name_ja="x", name_en="x",
                       affiliation="x", prefecture="東京都", specialist_fields=(), certified_on=D(2025, 3, 28),
                       expires_on=D(2031, 3, 28), renewals=1, verification_code="7K3MQX9A2B46")
    opens = cert.expires_on - dt.timedelta(days=rule.renewal_opens_days)
    old = renewal_scores(cert.certificate_id).assign(timestamp=str(opens - dt.timedelta(days=400)))
    decision = decide_renewal(cert, scores=old, on=cert.expires_on, rule=rule)
    assert {g.gate for g in decision.refusals} == {"renewal_refresher", "case_meeting"}
    assert "by student id SC-2025-0001" in decision.refusals[0].detail
    new = renewal_scores(cert.certificate_id).assign(timestamp=f"{opens + dt.timedelta(days=5)} 10:00:00.0 UTC")
    assert decide_renewal(cert, scores=new, on=cert.expires_on, rule=rule).certified


# --- the refresher test covers the facts that changed -------------------------------------------

def test_refresher_coverage_splits_reverified_facts_into_tested_and_untested(settings, facts):
    bank = settings.items_dir / "renewal_refresher.yml"
    earliest = min(f.last_checked for f in facts)
    coverage = refresher_coverage(bank, facts=facts, since=earliest - dt.timedelta(days=1))
    tested = {f for used in coverage.items.values() for f in used}
    changed = {f.id for f in facts if not f.id.startswith(("program.", "population."))}
    assert set(coverage.covered) == changed & tested and set(coverage.uncovered) == changed - tested
    assert coverage.covered, "the refresher bank tests no fact of the registry"
    latest = max(f.last_checked for f in facts)
    assert refresher_coverage(bank, facts=facts, since=latest).covered == ()


@pytest.mark.parametrize("bank_id", ["renewal_refresher", "case_meeting"])
def test_the_renewal_banks_load_with_their_rubrics_and_fictional_people(settings, facts, bank_id):
    from coordkit.content.banks import build_notebook, load_bank

    bank = load_bank(settings.items_dir / f"{bank_id}.yml", facts)
    assert bank.id == bank_id and bank.items
    manual = [i for i in bank.items if not i.auto]
    assert manual and bank.rubric is not None
    assert {i.grade_id for i in manual} <= set(bank.rubric.cells)
    assert "仮名" in bank.intro + bank.case + "".join(i.prompt for i in bank.items)
    assert build_notebook(bank).cells


def test_the_refresher_computes_its_rule_answers_from_the_facts(settings, facts):
    from coordkit.content.banks import load_bank

    bank = load_bank(settings.items_dir / "renewal_refresher.yml", facts)
    ruled = [i for i in bank.items if i.auto and i.kind in ("date", "number")]
    assert ruled and all(i.facts_used for i in ruled), [i.grade_id for i in ruled if not i.facts_used]
