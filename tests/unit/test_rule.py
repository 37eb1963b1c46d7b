"""The certification rule has one owner (coordkit.rule) and one place to change it:
[tool.coordkit.certification] in pyproject.toml, checked when the settings load."""

import json
import re

import pytest

from coordkit.config import load_settings
from coordkit.errors import ConfigError
from coordkit.rule import DEFAULT_PASS_PERCENT, RULE_KEYS, gate_pass_marks, rule_for

BASE = """[tool.coordkit]
facts = "datasets/facts.yml"
course_root = "assignments"
items_dir = "graders/items"
rubrics_dir = "graders/rubrics"
evaluation_dir = "graders/evaluation"
cohorts_dir = "datasets/cohorts"
reports_dir = "reports"
build_dir = "_build"
db_url = "sqlite:///assignments/gradebook.db"
"""


def checkout(tmp_path, extra: str):
    (tmp_path / "pyproject.toml").write_text(BASE + extra, encoding="utf-8")
    return tmp_path


def test_a_pass_mark_set_in_pyproject_reaches_the_rule(tmp_path, facts):
    settings = load_settings(checkout(tmp_path, "\n[tool.coordkit.certification]\n"
                                                 "completion_test_pass_percent = 70\nvalidity_years = 5\n"))
    rule = rule_for(settings, facts=facts)
    assert rule.completion_test_pass_percent == 70 and not rule.is_default("completion_test_pass_percent")
    assert rule.mark_label("completion_test_pass_percent") == "70%"
    assert rule.validity_years == 5
    assert rule.tp1_check_pass_percent == DEFAULT_PASS_PERCENT and rule.is_default("tp1_check_pass_percent")
    assert "completion_test_pass_percent = 70.0" not in rule.assumptions()
    assert gate_pass_marks(settings.certification) == {"tp1_check": DEFAULT_PASS_PERCENT,
                                                       "practice_report": DEFAULT_PASS_PERCENT,
                                                       "completion_test": 70.0}


def test_without_the_table_the_defaults_hold(settings, facts):
    assert settings.certification == {}
    rule = rule_for(settings, facts=facts)
    assert rule.completion_test_pass_percent == DEFAULT_PASS_PERCENT
    assert rule.validity_years == facts.value("program.certificate_validity_years")


@pytest.mark.parametrize("extra, message", [
    ("\n[tool.coordkit.certification]\npass_mark = 70\n",
     r"pyproject.toml \[tool.coordkit.certification\]: unknown key\(s\) \['pass_mark'\]; known keys are \["),
    ("\n[tool.coordkit.certification]\ncompletion_test_pass_percent = 170\n",
     r"\[tool.coordkit.certification\]: certification rule: completion_test_pass_percent = 170 must be a number "
     r"from 0 to 100"),
    ("\n[tool.coordkit.certification]\nvalidity_years = 2.5\n", r"validity_years = 2.5 must be a positive whole"),
    ("certification = 70\n", r"certification must be a table \(\[tool.coordkit.certification\]\)"),
])
def test_a_wrong_override_is_named_when_the_settings_load(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(checkout(tmp_path, extra))


def test_gate_pass_marks_takes_a_number_or_the_overrides():
    assert gate_pass_marks() == dict.fromkeys(("tp1_check", "practice_report", "completion_test"), DEFAULT_PASS_PERCENT)
    assert set(gate_pass_marks(65).values()) == {65.0}
    assert gate_pass_marks({"tp1_check_pass_percent": 50})["tp1_check"] == 50.0


def test_no_other_module_writes_a_pass_mark_of_its_own(root):
    """A pass mark is a literal only in coordkit/rule.py; the evaluator notebooks' parameter default (a
    papermill parameter must be a literal) is the rule's default, and `coordkit evaluate` passes the rule's."""
    literal = re.compile(r"(pass_mark\w*|_pass_percent)\s*(?::\s*float\s*)?=\s*\d", re.I)
    offenders = [f"{p.relative_to(root)}:{n}" for p in (root / "src" / "coordkit").rglob("*.py") if p.name != "rule.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if literal.search(line)]
    assert offenders == []
    for path in sorted((root / "graders" / "evaluation").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for m in re.finditer(r"^pass_mark\s*=\s*([\d.]+)", "".join(cell["source"]), re.M):
                assert float(m.group(1)) == DEFAULT_PASS_PERCENT, path.name


def test_the_evaluation_report_gets_the_rules_pass_mark(tmp_path):
    from coordkit.cohort.report import _parameters

    settings = load_settings(checkout(tmp_path, "\n[tool.coordkit.certification]\ncompletion_test_pass_percent = 65\n"))
    params = _parameters(settings, data_dir=tmp_path, cohort="x", figures=tmp_path)
    assert params["pass_mark"] == 65.0


def test_the_certification_module_keeps_its_import_paths():
    from coordkit import certification, rule

    assert certification.CertificationRule is rule.CertificationRule and certification.rule_for is rule.rule_for
    assert "validity_years" in RULE_KEYS


def test_the_syllabus_path_is_a_setting(tmp_path, settings, root):
    assert settings.syllabus == root / "book" / "syllabus.yml"
    moved = load_settings(checkout(tmp_path, 'syllabus = "content/units.yml"\n'))
    assert moved.syllabus == tmp_path / "content" / "units.yml"
    from coordkit.cohort.report import _parameters

    assert _parameters(moved, data_dir=tmp_path, cohort="x", figures=tmp_path)["syllabus_path"] == str(moved.syllabus)


def test_a_build_dir_jupyter_book_would_ignore_is_named(tmp_path):
    text = (BASE + "").replace('build_dir = "_build"', 'build_dir = "site"')
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"build_dir = 'site' must be a folder named _build"):
        load_settings(tmp_path)
    (tmp_path / "pyproject.toml").write_text(text.replace('"site"', '"site/_build"'), encoding="utf-8")
    assert load_settings(tmp_path).build_dir == tmp_path / "site" / "_build"
