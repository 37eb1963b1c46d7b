"""Errors a user can cause get one line naming the problem and the fix, exit code 1, no traceback."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def coordkit(*args, cwd, env=None):
    exe = Path(sys.executable).parent / "coordkit"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def checkout(tmp_path, root):
    """A minimal copy of the repository: configuration, facts and item banks."""
    for rel in ("pyproject.toml", "datasets/facts.yml", "graders/items", "graders/rubrics",
                "assignments/nbgrader_config.py"):
        src, dst = root / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return tmp_path


def assert_one_line_error(proc, *needles):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_help_is_quick_and_lists_the_commands(root):
    proc = coordkit("--help", cwd=root)
    assert proc.returncode == 0
    for command in ("demo", "simulate", "release", "grade", "export", "evaluate", "book", "facts"):
        assert command in proc.stdout


def test_missing_facts_file(checkout):
    (checkout / "datasets" / "facts.yml").unlink()
    proc = coordkit("facts", "check", cwd=checkout)
    assert_one_line_error(proc, "coordkit: error:", "facts.yml not found", "restore it from git")


def test_malformed_facts_file(checkout):
    path = checkout / "datasets" / "facts.yml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")
    proc = coordkit("release", cwd=checkout)
    assert_one_line_error(proc, "facts.yml line", "malformed YAML", "fix the file")


def test_fact_without_source(checkout):
    path = checkout / "datasets" / "facts.yml"
    text = path.read_text(encoding="utf-8").replace(
        "    source: https://www.moj.go.jp/isa/applications/procedures/nyuukokukanri10_00014.html\n", "", 1)
    path.write_text(text, encoding="utf-8")
    proc = coordkit("facts", "check", cwd=checkout)
    assert_one_line_error(proc, "residence.affiliation_notice_days", "missing source")


def test_unknown_assignment_id(checkout):
    proc = coordkit("release", "cs99_nothing", cwd=checkout)
    assert_one_line_error(proc, "unknown assignment id(s) cs99_nothing", "known: ", "cs01_job_loss")


@pytest.mark.parametrize("size", ["0", "-5"])
def test_cohort_size_of_zero_or_less(checkout, size):
    for command in (("simulate",), ("demo",)):
        proc = coordkit(*command, "--trainees", size, cwd=checkout)
        assert proc.returncode == 2
        assert "not positive" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; covered by the file-in-the-way case")
def test_unwritable_reports_folder_permissions(checkout):
    locked = checkout / "locked"
    locked.mkdir(mode=0o500)
    proc = coordkit("export", "--out", str(locked / "x" / "scores.csv"), cwd=checkout)
    assert_one_line_error(proc, "cannot write")


def test_output_folder_that_cannot_be_written(checkout):
    blocker = checkout / "blocked"
    blocker.write_text("a file where a folder should be")
    proc = coordkit("book", "build", "--reports", str(blocker / "reports"), cwd=checkout)
    assert_one_line_error(proc, "cannot write the reports folder", str(blocker), "choose a writable folder")
    proc = coordkit("evaluate", "--data", str(checkout.parent / "none"), cwd=checkout)
    assert_one_line_error(proc, "no such cohort folder")


def test_evaluate_from_a_gradebook_of_a_course_that_does_not_exist(checkout):
    proc = coordkit("--course-id", "ghost", "evaluate", "--gradebook", cwd=checkout)
    assert_one_line_error(proc, "--gradebook", "ghost", "no nbgrader_config.py", "--course-id")


def test_not_a_checkout(tmp_path):
    proc = coordkit("facts", "check", cwd=tmp_path)
    assert_one_line_error(proc, "no pyproject.toml with [tool.coordkit]")


def test_facts_review_lists_what_is_due_by_kind(root):
    proc = coordkit("facts", "review", "--older-than", "30d", "--today", "2027-06-01", cwd=root)
    assert proc.returncode == 0
    out = proc.stdout
    # nobody has read the sources yet, some sources are third-party, one rule is pending, all are stale by then
    for kind in ("unread:", "third_party:", "pending:", "stale:"):
        assert f"\n{kind}" in out, kind
    assert "pension.lump_sum_max_years_reform" in out.split("\npending:")[1].split("\n\n")[0]
    assert "[NEWS]" in out.split("\nthird_party:")[1].split("\n\n")[0]
    proc = coordkit("facts", "review", "--older-than", "180d", "--today", "2026-12-08", cwd=root)
    assert "\nstale:" not in proc.stdout and "\nunread:" in proc.stdout


@pytest.mark.parametrize("args, needles", [
    (["grade", "cs01_job_loss", "--db-url", "not a url"], ["--db-url", "not a database URL"]),
    (["export", "--db-url", "postgresql://nohost:1/x"], ["postgresql://nohost:1/x", "cannot connect"]),
    (["grade", "cs01_job_loss", "--timeout", "-5"], ["--timeout -5", "at least 1"]),
    (["facts", "review", "--today", "2025-02-30"], ["2025-02-30", "not a date in the calendar"]),
    (["renewals", "--within", "99999999d"], ["--within", "at most 100 years"]),
])
def test_bad_inputs_are_one_line_naming_the_input(checkout, args, needles):
    assert_one_line_error(coordkit(*args, cwd=checkout), *needles)


def test_an_impossible_date_in_a_yaml_file_names_the_line(checkout):
    import re

    bank = checkout / "graders" / "items" / "cs01_job_loss.yml"
    text = bank.read_text(encoding="utf-8")
    date = re.search(r"\b\d{4}-\d{2}-\d{2}\b", re.sub(r"#.*", lambda m: " " * len(m.group(0)), text))
    line = text[:date.start()].count("\n") + 1
    bank.write_text(text[:date.start()] + "2025-02-30" + text[date.end():], encoding="utf-8")
    assert_one_line_error(coordkit("simulate", "cs01_job_loss", cwd=checkout), f"line {line}", "2025-02-30",
                          "not a date in the calendar")
    facts = checkout / "datasets" / "facts.yml"
    text = facts.read_text(encoding="utf-8")
    first = re.search(r"^  - id: .*\n", text, re.M)
    facts.write_text(text[:first.end()] + "    verified: 2025-13-01\n" + text[first.end():], encoding="utf-8")
    line = text[:first.end()].count("\n") + 1
    assert_one_line_error(coordkit("facts", "check", cwd=checkout), f"line {line}", "2025-13-01",
                          "not a date in the calendar")


def test_debug_shows_the_hidden_cause_of_a_one_line_error(checkout):
    """`from None` hides the YAML parser's error from users; --debug and COORDKIT_DEBUG=1 bring it back."""
    path = checkout / "datasets" / "facts.yml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "COORDKIT_DEBUG"}
    plain = coordkit("facts", "check", cwd=checkout, env=env)
    assert_one_line_error(plain, "facts.yml line", "malformed YAML")
    assert "yaml" not in plain.stderr.lower().replace("malformed yaml", "")
    for args, extra in ((["--debug"], {}), ([], {"COORDKIT_DEBUG": "1"})):
        proc = coordkit(*args, "facts", "check", cwd=checkout, env={**env, **extra})
        assert proc.returncode == 1, proc.stderr
        err = proc.stderr
        # the parser's own error, where it was raised, then our error, then the same one line as without it
        assert "Traceback (most recent call last)" in err
        assert "yaml.parser.ParserError" in err or "yaml.scanner.ScannerError" in err, err
        assert "coordkit.errors.FactsError" in err and "in load_facts" in err
        assert err.index("yaml.") < err.index("coordkit.errors.FactsError")
        assert err.strip().splitlines()[-1] == plain.stderr.strip()
    off = coordkit("facts", "check", cwd=checkout, env={**env, "COORDKIT_DEBUG": "0"})
    assert off.stderr == plain.stderr
