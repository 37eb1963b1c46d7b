"""`coordkit certify | verify | renewals | renew | register ...` through coordkit.cli.main, in a
throw-away checkout (its own cohorts, reports and register). Until cli.py wires the commands in
(`certify.register(sub)` in coordkit.cli.main.build_parser), the fixture adds them to the real parser."""

import argparse
import datetime as dt
import json
import tomllib

import pandas as pd
import pytest

from coordkit import cli
from coordkit.cli import certify as cli_certify
from coordkit.register import _check_char, open_register


@pytest.fixture
def coordkit(monkeypatch, capsys):
    original = cli.build_parser

    def build():
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "certify" not in sub.choices:
            cli_certify.register(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)

    def run(*argv):
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


@pytest.fixture
def checkout(root, tmp_path):
    """A checkout using the real facts and banks, with its own cohort c1 (3 trainees)."""
    table = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coordkit"]
    table = {k: (str(root / v) if isinstance(v, str) and k.endswith(("_dir", "facts")) else v)
             for k, v in table.items()}
    table.update(cohorts_dir="cohorts", reports_dir="reports", course_root="assignments", build_dir="_build",
                 db_url="sqlite:///gradebook.db", default_cohort="c1")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.coordkit]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()), encoding="utf-8")
    folder = tmp_path / "cohorts" / "c1"
    folder.mkdir(parents=True)
    pd.DataFrame([dict(trainee_id=t, prefecture=p, org_type="municipality", years_experience=2.5,
                       first_language="日本語") for t, p in (("tr001", "東京都"), ("tr002", "北海道"),
                                                          ("tr003", "沖縄県"))]).to_csv(folder / "trainees.csv",
                                                                                      index=False)
    graded(tmp_path, {tid: {"tp1_check": 0.75, "practice_report": 0.8, "completion_test": completion}
                      for tid, completion in (("tr001", 0.8), ("tr002", 0.25), ("tr003", 0.9))}, "scores.csv")
    return tmp_path


def graded(checkout, fractions: dict, out: str):
    """Grades in the checkout's gradebook (created with the real item banks' items if missing): each
    item of each assignment scored at `fractions[trainee][assignment]` of its points; then the
    per-item scores exported to `out`, as `coordkit export` writes them (what --scores takes)."""
    from nbgrader.api import Gradebook

    from coordkit.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.course import apply_submission_state, create_gradebook, export_scores
    from coordkit.facts import load_facts

    settings = load_settings(checkout)
    settings = settings.with_overrides(db_url=f"sqlite:///{checkout / 'gradebook.db'}")
    ids = sorted({a for per in fractions.values() for a in per})
    banks = {b.id: b for b in load_banks(settings.items_dir, load_facts(settings.facts), ids,
                                         rubrics_dir=settings.rubrics_dir)}
    create_gradebook(settings.db_url, course_id="coordkit", definitions=[{
        "name": a, "duedate": None, "notebooks": [{
            "name": a, "kernelspec": "{}", "solution_cells": [], "task_cells": [], "source_cells": [],
            "grade_cells": [(i.grade_id, i.points, "code" if i.auto else "markdown") for i in banks[a].items]}]}
        for a in ids])
    with Gradebook(settings.db_url, "coordkit") as gb:
        for tid, per in fractions.items():
            for a, f in per.items():
                grades = {i.grade_id: ((i.points * f, None, None, False) if i.auto else (None, i.points * f, None, False))
                          for i in banks[a].items}
                apply_submission_state(gb, assignment=a, student=tid, manual=True, state={
                    "student": {"first_name": None, "last_name": None, "email": None, "lms_user_id": None},
                    "timestamp": None, "extension": None,
                    "notebooks": {a: {"late_submission_penalty": None, "flagged": False, "grades": grades,
                                      "comments": {}}}})
    export_scores(settings=settings, assignments=ids).to_csv(checkout / out, index=False)
    return {a: banks[a].max_points if hasattr(banks[a], "max_points") else sum(i.points for i in banks[a].items)
            for a in ids}


def certify(coordkit, checkout, *more):
    return coordkit("--root", checkout, "certify", "--scores", checkout / "scores.csv", "--synthetic-records",
                    "--date", "2025-03-28", *more)


def registered(checkout):
    with open_register(f"sqlite:///{checkout / 'records' / 'register.db'}", create=False) as reg:
        return reg.certificates()


def test_certify_explains_refusals_and_registers_the_rest(coordkit, checkout, facts):
    code, out, err = certify(coordkit, checkout)
    assert code == 0, err
    if facts["program.certificate_validity_years"].source_kind != "ISA":
        assert "validity period is an assumption" in out
    assert "Cohort c1 on 2025-03-28" in out
    assert "tr002" in out and "completion_test" in out and "points = 25.0%" in out
    assert "below the pass mark 60% (assumed default)" in out
    assert "Assumptions" in out and "completion_test_pass_percent" in out
    certs = registered(checkout)
    certified = {c.trainee_id for c in certs}
    assert "tr002" not in certified and certified
    for cert in certs:
        assert cert.certificate_id in out and cert.code in out
        assert (checkout / "reports" / "certificates" / f"{cert.certificate_id}.pdf").is_file()
    assert (checkout / "reports" / "c1" / "certification.csv").is_file()
    assert "wrote fictional records" in out


def test_certify_twice_registers_nobody_twice(coordkit, checkout):
    certify(coordkit, checkout)
    first = registered(checkout)
    code, out, _ = certify(coordkit, checkout)
    assert code == 0 and f"0 newly registered, {len(first)} already in the register" in out
    assert registered(checkout) == first


def test_certify_dry_run_writes_no_register(coordkit, checkout):
    code, out, _ = certify(coordkit, checkout, "--dry-run")
    assert code == 0 and "dry run" in out
    assert not (checkout / "records").exists()


def test_certify_without_records_is_one_line_naming_the_file(coordkit, checkout):
    code, out, err = coordkit("--root", checkout, "certify", "--scores", checkout / "scores.csv")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "attendance.csv: file not found" in err and "--synthetic-records" in err


def test_certify_with_a_broken_scores_file_names_row_and_column(coordkit, checkout):
    (checkout / "scores.csv").write_text(
        "trainee_id,assignment,notebook,grade_id,kind,score,max_score,needs_manual_grade\n"
        "tr001,tp1_check,tp1_check,q1_all,auto,lots,20,false\n", encoding="utf-8")
    code, _, err = certify(coordkit, checkout)
    assert code == 1 and "scores.csv row 2 column 'score'" in err


def test_certify_refuses_scores_that_are_not_the_item_banks_or_the_gradebooks(coordkit, checkout):
    table = pd.read_csv(checkout / "scores.csv")
    forged = pd.concat([table, table[(table.trainee_id == "tr002") & (table.assignment == "completion_test")]
                        .head(1).assign(grade_id="q99_bonus", score=100.0, max_score=100.0)])
    forged.to_csv(checkout / "scores.csv", index=False)
    code, out, err = certify(coordkit, checkout)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "q99_bonus is not an item of completion_test" in err and "line" in err
    raised = table.copy()
    raised.loc[(raised.trainee_id == "tr002") & (raised.assignment == "completion_test"), "score"] = \
        raised["max_score"]
    raised.to_csv(checkout / "scores.csv", index=False)
    code, out, err = certify(coordkit, checkout)
    assert code == 1 and "but the gradebook holds" in err and "tr002" in err
    assert not (checkout / "records" / "register.db").exists()


def test_verify_answers_valid_expired_unknown_and_rejects_garbage(coordkit, checkout):
    certify(coordkit, checkout)
    cert = registered(checkout)[0]
    code, out, _ = coordkit("--root", checkout, "verify", cert.code, "--date", cert.expires_on)
    assert code == 0 and out.startswith("valid:") and f"valid until {cert.expires_on}" in out
    after = cert.expires_on + dt.timedelta(days=1)
    code, out, _ = coordkit("--root", checkout, "verify", cert.code.lower(), "--date", after)
    assert code == cli_certify.EXIT_EXPIRED and out.startswith("expired:") and f"expired on {after}" in out
    payload = "".join(reversed(cert.verification_code[:11]))
    code, out, _ = coordkit("--root", checkout, "verify", payload + _check_char(payload))
    assert code == cli_certify.EXIT_UNKNOWN and out.startswith("unknown:")
    for garbage in ("hello", cert.verification_code[:11] + ("0" if cert.verification_code[-1] != "0" else "1")):
        code, out, err = coordkit("--root", checkout, "verify", garbage)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1


def test_verify_without_a_register_says_how_to_make_one(coordkit, checkout):
    code, _, err = coordkit("--root", checkout, "verify", "7K3M-QX9A-2B46")
    assert code == 1 and "no register at" in err and "coordkit certify" in err


def test_renewals_lists_who_must_renew_and_when(coordkit, checkout):
    certify(coordkit, checkout)
    certs = registered(checkout)
    day = certs[0].expires_on - dt.timedelta(days=30)
    code, out, _ = coordkit("--root", checkout, "renewals", "--within", "90d", "--date", day)
    assert code == 0
    for cert in certs:
        assert cert.certificate_id in out and f"expires {cert.expires_on} (in 30 days)" in out
    code, out, _ = coordkit("--root", checkout, "renewals", "--date", day - dt.timedelta(days=365))
    assert code == 0 and out.startswith("No certificate expires")
    code, _, err = coordkit("--root", checkout, "renewals", "--within", "soon")
    assert code == 1 and "180d" in err


def test_bad_date_is_an_argparse_error(coordkit, checkout):
    with pytest.raises(SystemExit) as exit_info:
        coordkit("--root", checkout, "verify", "7K3M-QX9A-2B46", "--date", "28/03/2025")
    assert exit_info.value.code == 2


def test_register_export_carries_only_consented_fields(coordkit, checkout):
    certify(coordkit, checkout)
    out_file = checkout / "public.csv"
    code, out, _ = coordkit("--root", checkout, "register", "export", "--out", out_file, "--date", "2025-04-01")
    assert code == 0 and str(out_file) in out
    frame = pd.read_csv(out_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    by_affiliation = {c.affiliation: c for c in registered(checkout)}
    for row in frame.to_dict("records"):
        if row["name_ja"]:
            cert = next(c for c in registered(checkout) if c.name_ja == row["name_ja"])
            assert cert.publish_name
        if row["affiliation"]:
            assert by_affiliation[row["affiliation"]].publish_affiliation
    shown = {c.certificate_id for c in registered(checkout)
             if c.publish_name or c.publish_affiliation or c.publish_specialist_fields}
    assert f"left out: {len(registered(checkout)) - len(shown)}" in out


def test_register_amend_and_history(coordkit, checkout):
    certify(coordkit, checkout)
    cert = registered(checkout)[0]
    code, out, _ = coordkit("--root", checkout, "register", "amend", cert.certificate_id, "--publish-name", "no",
                            "--publish-affiliation", "no", "--publish-specialist-fields", "no",
                            "--reason", "本人から公表の同意撤回", "--date", "2025-05-01")
    assert code == 0 and "amended" in out
    code, out, _ = coordkit("--root", checkout, "register", "history", cert.certificate_id)
    assert code == 0 and "certified" in out and "amended" in out and "本人から公表の同意撤回" in out
    code, _, err = coordkit("--root", checkout, "register", "amend", cert.certificate_id, "--reason", "x")
    assert code == 1 and "nothing to amend" in err


def test_renew_from_the_renewal_training_scores(coordkit, checkout):
    certify(coordkit, checkout)
    certs = registered(checkout)
    graded(checkout, {c.certificate_id: {"renewal_refresher": 0.8, "case_meeting": 0.7 if c is certs[0] else 0.2}
                      for c in certs}, "renewal.csv")
    day = certs[0].expires_on - dt.timedelta(days=10)
    code, out, _ = coordkit("--root", checkout, "renew", "--scores", checkout / "renewal.csv", "--date", day)
    assert code == 0
    assert f"renewed {certs[0].certificate_id}" in out
    for other in certs[1:]:
        assert other.certificate_id in out and "case_meeting" in out
    after = {c.certificate_id: c for c in registered(checkout)}
    assert after[certs[0].certificate_id].renewals == 1
    assert after[certs[0].certificate_id].expires_on > certs[0].expires_on
    assert all(after[c.certificate_id].renewals == 0 for c in certs[1:])
    assert (checkout / "reports" / "certificates" / f"{certs[0].certificate_id}_renewal1.pdf").is_file()
