"""`coordkit certify | verify | renewals | renew | register ...` through coordkit.cli.main, in a
throw-away checkout (its own cohorts, reports and register). Until cli.py wires the commands in
(`cli_certify.register(sub)` in build_parser), the fixture adds them to the real parser."""

import argparse
import datetime as dt
import json
import tomllib

import pandas as pd
import pytest

from coordkit import cli, cli_certify
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
    rows = []
    for tid, completion in (("tr001", 16), ("tr002", 5), ("tr003", 18)):
        for assignment, score, kind in (("tp1_check", 15, "auto"), ("practice_report", 8, "manual"),
                                        ("completion_test", completion, "auto")):
            rows.append(dict(trainee_id=tid, assignment=assignment, notebook=assignment, grade_id="q1_all",
                             kind=kind, score=score, max_score=20 if kind == "auto" else 10,
                             needs_manual_grade=False))
    pd.DataFrame(rows).to_csv(tmp_path / "scores.csv", index=False)
    return tmp_path


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
    assert "tr002" in out and "completion_test" in out and "5 of 20 points = 25.0%" in out
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
    rows = [dict(trainee_id=c.certificate_id, assignment=a, notebook=a, grade_id="q1_all", kind="auto",
                 score=s, max_score=10, needs_manual_grade=False)
            for c in certs for a, s in (("renewal_refresher", 8), ("case_meeting", 7 if c is certs[0] else 2))]
    pd.DataFrame(rows).to_csv(checkout / "renewal.csv", index=False)
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
