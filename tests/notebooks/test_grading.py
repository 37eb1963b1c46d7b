"""`coordkit grade`: parallel autograding with the real nbgrader, in temporary courses.

- Scores are identical to stock `nbgrader autograde` on a copy of the same submissions, with the
  default engine (answers read as data) and with the previous one (`engine="kernel"`).
- Feedback says which written answers await marking (not 0 points).
- A run killed mid-way (SIGKILL to the whole process group) leaves an intact gradebook, and the
  next run finishes the job: no grade lost, none duplicated, scores identical to stock.
- A second run reuses what is graded.
- No released notebook and no feedback file of any assignment shows a solution, a hidden test, a
  model answer or their markers (feedback may repeat only what the trainee wrote).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from coordkit.content.banks import load_banks
from coordkit.course import autograde, export_scores
from coordkit.cohort.simulate.scratch import copy_course, scratch_course
from coordkit.grading import grade_cohort

pytestmark = pytest.mark.slow

GRADED = ["cs01_job_loss", "cs02_dv_child"]


@pytest.fixture(scope="module")
def banks(settings, facts):
    return load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)


@pytest.fixture(scope="module")
def base(tmp_path_factory, settings, banks):
    """Every assignment released; a simulated cohort of 10 trainees (nothing graded)."""
    return scratch_course(tmp_path_factory.mktemp("base"), settings=settings, banks=banks, trainees=10, seed=11)


@pytest.fixture(scope="module")
def stock(tmp_path_factory, base):
    """The same submissions graded by stock `nbgrader autograde` (nbgrader's own steps: its Execute runs
    each notebook), one assignment after another."""
    copy = copy_course(tmp_path_factory.mktemp("stock"), settings=base)
    for assignment in GRADED:
        autograde(assignment, settings=copy, stock=True)
    return export_scores(settings=copy, assignments=GRADED)


def _scores(settings):
    return export_scores(settings=settings, assignments=GRADED)


def _db_counts(settings) -> dict:
    path = settings.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return {"integrity": db.execute("pragma integrity_check").fetchone()[0],
                "submissions": db.execute("select count(*) from submitted_assignment").fetchone()[0],
                "grades": db.execute("select count(*) from grade").fetchone()[0],
                "students": db.execute("select count(*) from student").fetchone()[0]}


def _submissions(settings) -> int:
    return sum(1 for a in GRADED for p in (settings.course_root / "submitted").iterdir() if (p / a).is_dir())


def test_parallel_grading_scores_equal_stock_and_rerun_reuses(tmp_path, base, stock):
    ours = copy_course(tmp_path, settings=base)
    result = grade_cohort(GRADED, settings=ours, jobs=2, show_progress=False)
    assert not result.quarantined
    assert sum(result.graded.values()) == _submissions(ours)
    assert _scores(ours).equals(stock)
    for assignment in GRADED:
        for trainee in (ours.course_root / "submitted").iterdir():
            if (trainee / assignment).is_dir():
                assert list((ours.course_root / "feedback" / trainee.name / assignment).glob("*.html"))
    before = _db_counts(ours)
    again = grade_cohort(GRADED, settings=ours, jobs=2, show_progress=False)
    assert sum(again.graded.values()) == 0 and sum(again.reused.values()) == _submissions(ours)
    assert _db_counts(ours) == before and _scores(ours).equals(stock)
    table = "\n".join(result.summary_lines())
    assert all(a in table for a in GRADED) and "submissions" in table


def test_the_previous_engine_is_still_reachable_and_scores_the_same(tmp_path, base, stock):
    ours = copy_course(tmp_path, settings=base)
    result = grade_cohort(GRADED, settings=ours, jobs=2, show_progress=False, engine="kernel")
    assert not result.quarantined and "audit hook" in result.sandbox
    assert _scores(ours).equals(stock)


def test_feedback_says_which_written_answers_await_marking(tmp_path, base, banks):
    ours = copy_course(tmp_path, settings=base)
    grade_cohort(GRADED[:1], settings=ours, jobs=1, show_progress=False)
    bank = next(b for b in banks if b.id == GRADED[0])
    written = [i for i in bank.items if not i.auto]
    page = next((ours.course_root / "feedback").glob(f"*/{bank.id}/{bank.id}.html")).read_text(encoding="utf-8")
    assert page.count("awaiting marking (") == 2 * len(written)        # the table of contents and each answer
    assert f"{len(written)} answer(s) awaiting marking" in page
    for item in written:
        assert f"0.0 / {item.points:.1f}" not in page.split(f'id="{item.grade_id}"')[-1][:400]


def test_killed_run_resumes_without_losing_or_duplicating_grades(tmp_path, settings, base, stock):
    course = copy_course(tmp_path, settings=base)
    total = _submissions(course)
    # one worker: finished submissions are committed in batches (up to 16, at most 1 s apart), and two
    # workers can grade this whole small cohort inside one batch, before the run can be interrupted
    cmd = [sys.executable, "-m", "coordkit", "grade", *GRADED, "--course", str(course.course_root),
           "--jobs", "1", "--reports", str(tmp_path / "reports")]
    proc = subprocess.Popen(cmd, cwd=settings.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    autograded = course.course_root / "autograded"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        done = sum(1 for p in autograded.glob("*/*") if p.is_dir()) if autograded.is_dir() else 0
        if done >= 3:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted = _db_counts(course)
    assert interrupted["integrity"] == "ok"
    assert 3 <= interrupted["submissions"] < total
    resumed = grade_cohort(GRADED, settings=course, jobs=2, show_progress=False)
    assert sum(resumed.reused.values()) >= 3
    assert sum(resumed.graded.values()) + sum(resumed.reused.values()) == total
    final = _db_counts(course)
    assert final["integrity"] == "ok" and final["submissions"] == total
    assert final["students"] == len({p.name for p in (course.course_root / "submitted").iterdir()})
    assert _scores(course).equals(stock)
    assert not list((course.course_root / ".coordkit" / "runs").iterdir())


# --- nothing secret in releases and feedback -----------------------------------------------------

MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME",
           "END MARK SCHEME", "模範解答（採点者用）", "Model answer (graders only)"]
_REGION = re.compile(r"#+\s*BEGIN (SOLUTION|HIDDEN TESTS)\s*\n(.*?)#+\s*END \1", re.S)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _prose(line: str) -> str:
    """A markdown line as rendered text: no list marker, emphasis or heading marks."""
    return _norm(re.sub(r"^\s*(?:[-*+]|\d+\.|#+|>)\s+", "", line).replace("*", "").replace("`", ""))


def _plain(path) -> list[str]:
    """A release or feedback file as the lines a trainee sees (HTML tags removed, entities decoded)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        raw = re.sub(r"<style.*?</style>|<script.*?</script>", " ", raw, flags=re.S)
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    elif path.suffix == ".ipynb":
        cells = json.loads(raw)["cells"]
        raw = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
    return [_norm(line) for line in raw.splitlines() if line.strip()]


def secrets(source_path, bank) -> tuple[set[str], set[str], set[str]]:
    """(solution lines, hidden-test lines, model-answer phrases) of one assignment: the solution and
    hidden-test regions of its source notebook, and the model answers of its item bank. The bank's
    keys must appear in the hidden tests (or this scanner would look for the wrong thing)."""
    nb = json.loads(source_path.read_text(encoding="utf-8"))
    solutions, hidden = set(), set()
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for kind, body in _REGION.findall(source):
            lines = {_norm(l) for l in body.splitlines() if len(_norm(l)) >= 5}
            (solutions if kind == "SOLUTION" else hidden).update(lines)
    models = set()
    for item in bank.items:
        if item.auto:
            assert any(json.dumps(item.key, ensure_ascii=False) in h or repr(item.key) in h for h in hidden), \
                f"{bank.id} {item.grade_id}: key not found in the hidden tests"
        models.update(p for p in map(_prose, (item.model_answer or "").splitlines()) if len(p) >= 12)
    return solutions, hidden, models


def leaks(lines: list[str], secret: tuple[set[str], set[str], set[str]], allowed: set[str] = frozenset()) -> list[str]:
    """Markers and model-answer phrases anywhere; solution and hidden-test lines as whole lines
    (a solution line the trainee wrote themselves is allowed in their own feedback)."""
    solutions, hidden, models = secret
    text = " ".join(lines)
    found = [m for m in MARKERS if m in text] + [m for m in models if m in text]
    found += [line for line in lines if line in hidden or (line in solutions and line not in allowed)]
    return sorted(set(found))


def test_scanner_finds_what_it_looks_for(base, banks):
    bank = next(b for b in banks if b.id == GRADED[0])
    source = base.course_root / "source" / bank.id / f"{bank.id}.ipynb"
    secret = secrets(source, bank)
    assert all(secret)
    found = leaks(_plain(source), secret)
    assert any(x in secret[0] for x in found) and any(x in secret[1] for x in found)


def test_releases_and_feedback_never_show_solutions_or_hidden_tests(tmp_path, base, banks):
    course = copy_course(tmp_path, settings=base)
    ids = [b.id for b in banks]
    blank = course.course_root / "submitted" / "tr999"          # hands in every released notebook unchanged
    for bank in banks:
        (blank / bank.id).mkdir(parents=True)
        for nb in (course.course_root / "release" / bank.id).glob("*.ipynb"):
            (blank / bank.id / nb.name).write_bytes(nb.read_bytes())
    result = grade_cohort(ids, settings=course, jobs=2, show_progress=False)
    assert not result.quarantined, result.quarantined
    scanned = {"release": 0, "feedback": 0}
    problems = []
    for bank in banks:
        secret = secrets(course.course_root / "source" / bank.id / f"{bank.id}.ipynb", bank)
        for path in (course.course_root / "release" / bank.id).rglob("*"):
            if path.is_file():
                scanned["release"] += 1
                problems += [f"{path}: {x}" for x in leaks(_plain(path), secret)]
        for folder in (course.course_root / "feedback").glob(f"*/{bank.id}"):
            submitted = course.course_root / "submitted" / folder.parent.name / bank.id
            own = {line for p in submitted.glob("*.ipynb") for line in _plain(p)}
            for path in folder.rglob("*"):
                if path.is_file():
                    scanned["feedback"] += 1
                    problems += [f"{path}: {x}" for x in leaks(_plain(path), secret, allowed=own)]
        assert list((course.course_root / "feedback" / "tr999" / bank.id).glob("*.html")), bank.id
    assert scanned["release"] >= len(banks) and scanned["feedback"] >= 2 * len(banks)
    assert not problems, "\n".join(problems[:20])
