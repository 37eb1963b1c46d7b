"""The trainee's path on one machine, with the real nbgrader exchange commands (the ones behind the
JupyterLab Assignments tab): the lecturer releases to an exchange folder, a trainee fetches,
validates, submits; the lecturer collects, autogrades and releases feedback; the trainee fetches it.

The exchange, the course root and the trainee's home are temporary folders. The trainee's commands
run in their home (HOME set to it), as book/guides/trainee_guide.md describes."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from coordkit.content.banks import display_key, load_bank
from coordkit.course import autograde, export_scores, generate_feedback, release_assignments, run_nbgrader

pytestmark = pytest.mark.slow

ASSIGNMENT = "cs01_job_loss"
TRAINEE = "trainee01"


@pytest.fixture(scope="module")
def place(tmp_path_factory, settings, facts):
    base = tmp_path_factory.mktemp("exchange")
    folders = {name: base / name for name in ("course", "exchange", "home")}
    for folder in folders.values():
        folder.mkdir()
    folders["exchange"].chmod(0o777)
    shutil.copy(settings.course_root / "nbgrader_config.py", folders["course"] / "nbgrader_config.py")
    lecturer = dataclasses.replace(settings, course_root=folders["course"], reports_dir=base / "reports",
                                   db_url=f"sqlite:///{folders['course'] / 'gradebook.db'}")
    bank = load_bank(settings.items_dir / f"{ASSIGNMENT}.yml", facts, rubrics_dir=settings.rubrics_dir)
    release_assignments([bank], settings=lecturer, force=True)           # nbgrader generate_assignment
    exchange = [f"--Exchange.root={folders['exchange']}", "--Exchange.path_includes_course=True"]
    return {**folders, "lecturer": lecturer, "bank": bank, "exchange_args": exchange}


def trainee(place, *args: str) -> str:
    """Run `nbgrader <args>` as the trainee would in a terminal: in their home, as their user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(HOME=str(place["home"]), MPLBACKEND="Agg",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=place["home"], env=env,
                          capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return output


def lecturer(place, *args: str, log: str) -> str:
    return run_nbgrader([*args, *place["exchange_args"]], settings=place["lecturer"], log_name=log)


def _answer(notebook, bank) -> None:
    """Write the trainee's answers: the key in everyday notation, and a short written answer."""
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("_answer"):
            item = bank.item(gid[: -len("_answer")])
            written = display_key(item) if item.kind in ("date", "order") else str(item.key).lower()
            cell.source = cell.source.replace(f'{item.grade_id} = ""', f'{item.grade_id} = "{written}"')
        elif cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
            cell.source = "子どもの受診を最初にします。次に、期限のある届出をします。"


def test_the_trainee_path_from_release_to_feedback(place):
    bank = place["bank"]
    course_args = ["--course=coordkit", *place["exchange_args"]]

    lecturer(place, "release_assignment", ASSIGNMENT, log="release_assignment")
    listing = trainee(place, "list", *course_args)
    assert ASSIGNMENT in listing

    trainee(place, "fetch_assignment", ASSIGNMENT, *course_args)
    fetched = place["home"] / "coordkit" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.is_file()

    # Validate on the untouched notebook: every answer is reported as missing, no answer is shown
    report = trainee(place, "validate", str(fetched))
    assert "VALIDATION FAILED" in report and "まだ答えが書かれていません" in report
    for item in bank.items:
        if item.kind == "date":
            assert item.key not in report and display_key(item) not in report

    notebook = nbformat.read(fetched, as_version=4)
    _answer(notebook, bank)
    nbformat.write(notebook, fetched)
    report = trainee(place, "validate", str(fetched))
    assert "Success! Your notebook passes all the tests." in report, report

    # nbgrader names a submission after the OS account; the tests run under one account, so the
    # trainee id is given explicitly (on the training machines each trainee has their own account)
    trainee(place, "submit", ASSIGNMENT, f"--student={TRAINEE}", *course_args)
    lecturer(place, "collect", ASSIGNMENT, log="collect")
    collected = place["course"] / "submitted" / TRAINEE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert collected.is_file()

    graded = autograde(ASSIGNMENT, settings=place["lecturer"])
    assert graded.graded == [TRAINEE]
    scores = export_scores(settings=place["lecturer"], assignments=[ASSIGNMENT])
    auto = scores[(scores.trainee_id == TRAINEE) & (scores.kind == "auto")]
    assert len(auto) == len([i for i in bank.items if i.auto])
    assert (auto.score == auto.max_score).all(), auto
    assert scores[scores.kind == "manual"].needs_manual_grade.all()

    generate_feedback(ASSIGNMENT, settings=place["lecturer"])
    lecturer(place, "release_feedback", ASSIGNMENT, log="release_feedback")
    trainee(place, "fetch_feedback", ASSIGNMENT, f"--student={TRAINEE}", *course_args)
    pages = list((place["home"] / "coordkit" / ASSIGNMENT / "feedback").glob("*/*.html"))
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    assert bank.rubric.cell("q6_issues").criteria[0].ja in html
    assert "BEGIN HIDDEN TESTS" not in html and bank.item("q6_issues").model_answer.splitlines()[0] not in html
