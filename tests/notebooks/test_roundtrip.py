"""Every assignment proven on its answer key with the real nbgrader, in a temporary course.

For every item bank: the source notebook is generated (its keys computed from datasets/facts.yml)
and released with `nbgrader generate_assignment`; the source submitted as-is ('key') scores full
marks on every autograded cell, the released blank ('blank') scores zero, and neither crashes
the grader (a single `nbgrader autograde "*"` call grades every submission of every assignment). The feedback shows each
written answer's rubric and never a hidden test, a model answer or a key. A test cell that writes a
warning to stderr still scores full marks (nbgrader alone would score it zero)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil

import nbformat
import pytest

from coordkit.content.banks import build_notebook, load_banks, write_source
from coordkit.course import export_scores, run_nbgrader

pytestmark = pytest.mark.slow

NOISY = "noisy_warning"
NOISE = ("import sys, warnings\n"
         "warnings.warn('a library warning', UserWarning)\n"
         "sys.stderr.write('library noise on stderr\\n')\n")


def _submit(root, student, assignment, nb) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def _noisy_source(bank):
    """cs01's source with a first test cell that emits a warning and writes to stderr."""
    nb = build_notebook(bank)
    first = bank.items[0].grade_id
    cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == first)
    cell.source = NOISE + cell.source
    nb.metadata["coordkit"]["assignment"] = NOISY
    return nb, first


@pytest.fixture(scope="module")
def course(tmp_path_factory, settings, facts):
    """One temporary course holding every assignment; nbgrader releases, autogrades and writes
    feedback for all of them in one call each ("*")."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(settings.course_root / "nbgrader_config.py", root / "nbgrader_config.py")
    temp = dataclasses.replace(settings, course_root=root, db_url=f"sqlite:///{root / 'gradebook.db'}",
                               reports_dir=root / "reports")
    banks = load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)
    for bank in banks:
        write_source(bank, root)
    cs01 = next(b for b in banks if b.id == "cs01_job_loss")
    noisy, noisy_item = _noisy_source(cs01)
    (root / "source" / NOISY).mkdir(parents=True)
    nbformat.write(noisy, root / "source" / NOISY / f"{NOISY}.ipynb")
    run_nbgrader(["generate_assignment", "*", "--force", "--create"], settings=temp, log_name="release_all")

    for bank in banks:
        _submit(root, "key", bank.id, nbformat.read(root / "source" / bank.id / f"{bank.id}.ipynb", as_version=4))
        _submit(root, "blank", bank.id, nbformat.read(root / "release" / bank.id / f"{bank.id}.ipynb", as_version=4))
    _submit(root, "key", NOISY, noisy)
    run_nbgrader(["autograde", "*", "--create"], settings=temp, log_name="autograde_all")
    run_nbgrader(["generate_feedback", "*"], settings=temp, log_name="feedback_all")
    scores = export_scores(settings=temp)
    return {"root": root, "settings": temp, "banks": banks, "scores": scores, "noisy_item": noisy_item}


def _score(scores, student, assignment, grade_id):
    row = scores[(scores.trainee_id == student) & (scores.assignment == assignment) & (scores.grade_id == grade_id)]
    assert len(row) == 1, f"no grade for {student} {assignment} {grade_id}"
    return row.iloc[0]


def test_the_key_scores_full_marks_and_the_blank_zero_on_every_autograded_cell(course):
    scores = course["scores"]
    for bank in course["banks"]:
        for student in ("key", "blank"):
            assert (course["root"] / "autograded" / student / bank.id / f"{bank.id}.ipynb").is_file()
        for item in bank.items:
            key, blank = (_score(scores, s, bank.id, item.grade_id) for s in ("key", "blank"))
            assert key.max_score == item.points
            if item.auto:
                assert key.score == item.points, f"{bank.id} {item.grade_id}: the key scores {key.score}"
                assert blank.score == 0, f"{bank.id} {item.grade_id}: the blank scores {blank.score}"
            else:
                assert key.needs_manual_grade, f"{bank.id} {item.grade_id}: a written answer awaits a grader"
                assert blank.score == 0 and not blank.needs_manual_grade


def test_the_release_holds_no_answer(course):
    for bank in course["banks"]:
        text = (course["root"] / "release" / bank.id / f"{bank.id}.ipynb").read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN RUBRIC", "模範解答"):
            assert marker not in text, f"{bank.id}: {marker} in the release"
        for item in bank.items:
            if item.auto:
                assert f'{item.grade_id} = \\"\\"' in text
            if item.kind == "date":
                assert item.key not in text, f"{bank.id} {item.grade_id}"


def _feedback(course, student, assignment) -> str:
    return (course["root"] / "feedback" / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")


def test_feedback_shows_the_rubrics_and_never_a_hidden_test_model_answer_or_key(course):
    for bank in course["banks"]:
        html = _feedback(course, "blank", bank.id)
        assert "BEGIN HIDDEN TESTS" not in html and "assert type(_a)" not in html
        for item in bank.items:
            if item.auto and item.kind == "date":
                assert item.key not in html, f"{bank.id} {item.grade_id}: key in feedback"
            if not item.auto:
                rubric = bank.rubric.cell(item.grade_id)
                for criterion in rubric.criteria:
                    assert criterion.ja in html and criterion.en in html, f"{bank.id} {item.grade_id}"
                first_line = item.model_answer.splitlines()[0]
                assert first_line not in html, f"{bank.id} {item.grade_id}: model answer in feedback"


def test_a_test_cell_writing_to_stderr_still_scores_full_marks(course):
    item = course["noisy_item"]
    autograded = nbformat.read(course["root"] / "autograded" / "key" / NOISY / f"{NOISY}.ipynb", as_version=4)
    cell = next(c for c in autograded.cells if c.metadata["nbgrader"].get("grade_id") == item)
    assert "warnings.warn" in cell.source            # the noisy cell really ran
    assert _score(course["scores"], "key", NOISY, item).score == 2

    # stock nbgrader (its own Execute, which runs the notebook; IgnorePattern off) would have scored it zero

    from coordkit.course import stock_autograde_steps

    stock_steps = stock_autograde_steps()
    run_nbgrader(["autograde", NOISY, "--force", "--IgnorePattern.enabled=False", *stock_steps],
                 settings=course["settings"], log_name="autograde_noisy_stock")
    stock = export_scores(settings=course["settings"], assignments=[NOISY])
    assert _score(stock, "key", NOISY, item).score == 0


def test_keys_in_the_graded_notebooks_follow_the_facts(course, facts):
    # the key that scored is the rule applied to today's facts, not a number typed into the bank
    cs01 = next(b for b in course["banks"] if b.id == "cs01_job_loss")
    expected = (dt.date(2025, 3, 31) + dt.timedelta(days=facts.value("residence.affiliation_notice_days"))).isoformat()
    graded = nbformat.read(course["root"] / "autograded" / "key" / cs01.id / f"{cs01.id}.ipynb", as_version=4)
    answer_cell = next(c for c in graded.cells if c.metadata["nbgrader"].get("grade_id") == "q1_notice_deadline_answer")
    assert re.search(rf'q1_notice_deadline = "{expected}"', answer_cell.source)
    assert _score(course["scores"], "key", cs01.id, "q1_notice_deadline").score == 2
