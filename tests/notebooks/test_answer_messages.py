"""What a trainee sees when answers are malformed, in the real tools (issue #16 point 3, #17 point 1).

One assignment (cs01) is released with nbgrader and filled as a trainee would: two answers malformed,
every other one right. Then:

- Run All in a real kernel (nbclient) runs to the end: each malformed answer is shown under its
  question, and the last cell lists both, with their question names and examples of their own (never
  the key), in Japanese then English; the good answers are not listed;
- `nbgrader validate` (with the course configuration) fails on exactly those two questions and prints
  the bilingual guidance;
- autograding, by coordkit's engine (answers read as data) and by stock `nbgrader autograde` (the
  notebook run in a kernel), gives 0 to the two malformed answers and full marks to every other one,
  and the feedback keeps the format message of each.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from coordkit.content.banks import example, load_banks
from coordkit.course import export_scores, release_assignments, run_nbgrader, tool_env
from coordkit.cohort.simulate.scratch import course_settings
from coordkit.grading import grade_cohort

pytestmark = pytest.mark.slow

ASSIGNMENT = "cs01_job_loss"
MALFORMED = {"q1_notice_deadline": "4月中旬", "q2_notice_where": "BとC"}


def _literal(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


@pytest.fixture(scope="module")
def course(tmp_path_factory, settings, facts):
    folder = tmp_path_factory.mktemp("messages")
    temp = course_settings(folder, settings=settings)
    temp.course_root.mkdir(parents=True)
    shutil.copy(settings.course_root / "nbgrader_config.py", temp.course_root / "nbgrader_config.py")
    bank, = load_banks(settings.items_dir, facts, [ASSIGNMENT], rubrics_dir=settings.rubrics_dir)
    release_assignments([bank], settings=temp)
    nb = nbformat.read(temp.course_root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        name = gid.removesuffix("_answer")
        if gid.endswith("_answer") and cell.cell_type == "code":
            value = MALFORMED.get(name, bank.item(name).key)
            cell.source = cell.source.replace(f'{name} = ""', f"{name} = {_literal(value)}")
        elif cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source += "\n\n相談者の話を聞き、在留カードを確認します。"      # a written answer
    filled = folder / "filled.ipynb"
    nbformat.write(nb, filled)
    return {"settings": temp, "bank": bank, "filled": filled, "folder": folder}


def _text(cell) -> str:
    return "\n".join(str(o.get("text", "")) + str((o.get("data") or {}).get("text/plain", ""))
                     for o in cell.get("outputs", []))


def test_run_all_reports_every_malformed_answer_at_once(course):
    nb = nbformat.read(course["filled"], as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(course["folder"])}}).execute()     # raises on any error
    bank = course["bank"]
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    for name in MALFORMED:                           # under each malformed question: its own message
        shown = _text(by_id[name])
        assert f"【{name}】" in shown and f"[{name}]" in shown and f"例: {name} = {example(bank.item(name))}" in shown
    summary = _text(nb.cells[-1])
    numbers = {i.grade_id: n for n, i in enumerate(bank.items, start=1)}
    for name in MALFORMED:
        n = numbers[name]
        ja, en = summary.index(f"問{n} 【{name}】"), summary.index(f"Question {n} [{name}]")
        assert ja < en
        assert f"例: {name} = {example(bank.item(name))}" in summary
        assert f"Example: {name} = {example(bank.item(name))}" in summary
    assert "直すところが 2 問" in summary and "2 answers must be fixed" in summary
    good = [i.grade_id for i in bank.items if i.auto and i.grade_id not in MALFORMED]
    assert good and not any(g in summary for g in good)
    for item in bank.items:                          # no key is shown (a choice key may be any letter)
        if item.auto and item.kind == "date":
            assert item.key not in summary


def test_nbgrader_validate_names_both_answers_in_japanese_and_english(course):
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(course["filled"])],
                          cwd=course["settings"].course_root, env=tool_env(course["settings"]),
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout
    assert "提出の前に直すところが 2 か所あります" in out and "2 cell(s) below need fixing" in out
    assert "例のとおりに直してください" in out and "correct that question's answer cell" in out
    for name in MALFORMED:
        assert f"【{name}】" in out and f"[{name}]" in out
    assert out.count("The following cell failed") == 2          # exactly the two malformed questions
    assert "Traceback" not in out


@pytest.mark.parametrize("engine", ["coordkit", "stock"])
def test_autograde_scores_the_malformed_zero_and_the_rest_full(course, engine):
    settings = course["settings"]
    folder = settings.course_root / "submitted" / f"tr_{engine}" / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copy(course["filled"], folder / f"{ASSIGNMENT}.ipynb")
    if engine == "coordkit":
        result = grade_cohort([ASSIGNMENT], settings=settings, jobs=1, show_progress=False)
        outcome, = [o for o in result.outcomes if o.trainee_id == f"tr_{engine}"]
        assert outcome.status == "graded"
        assert not any("added by the trainee" in r for r in outcome.reasons), outcome.reasons   # the course's cell
    else:
        run_nbgrader(["autograde", ASSIGNMENT, "--create", "--student", f"tr_{engine}"], settings=settings,
                     log_name="autograde_stock")
    scores = export_scores(settings=settings, assignments=[ASSIGNMENT])
    mine = scores[(scores.trainee_id == f"tr_{engine}") & (scores.kind == "auto")]
    got = {r.grade_id: (r.score, r.max_score) for r in mine.itertuples()}
    assert set(got) == {i.grade_id for i in course["bank"].items if i.auto}
    for gid, (score, max_score) in got.items():
        assert score == (0 if gid in MALFORMED else max_score), f"{engine}: {gid} scores {score}"
    autograded = nbformat.read(settings.course_root / "autograded" / f"tr_{engine}" / ASSIGNMENT
                               / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in autograded.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in MALFORMED:
            assert any(o.get("ename") == "AnswerFormatError" for o in cell.outputs), f"{engine}: {gid}"
