"""Plain `nbgrader autograde` (as a lecturer types it, and as Formgrader's autograde button runs it)
grades through the course's nbgrader_config.py with coordkit's LiteralExecute: no trainee code runs,
and every per-cell score equals `coordkit grade`'s, for honest and hostile submissions alike. A
hostile answer cell (a shell command, a checker replaced by one that accepts anything) changes no
score, and its side effect never happens. Runs the real nbgrader CLI, and the real Formgrader (a
Jupyter server with nbgrader's extensions, sent the request its autograde button sends), on copies
of a small scratch course."""

from __future__ import annotations

import copy
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from coordkit.content.banks import load_banks
from coordkit.course import export_scores, tool_env
from coordkit.cohort.simulate.scratch import copy_course, scratch_course
from coordkit.grading import grade_cohort

pytestmark = pytest.mark.slow

ID = "cs01_job_loss"


def _fill(nb: dict, bank, *, right: bool) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("_answer"):
            item = bank.item(gid[: -len("_answer")])
            value = item.key if right else item.distractors[0]
            lines = "".join(cell["source"]).split("\n")
            cell["source"] = "\n".join(f"{item.grade_id} = {json.dumps(value, ensure_ascii=False)}"
                                       if line.startswith(f"{item.grade_id} = ") else line for line in lines)
    return nb


def _attack(nb: dict, gid: str, code: str) -> dict:
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)
    cell["source"] = code + "\n" + "".join(cell["source"])
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory, settings, facts):
    bank = next(b for b in load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir) if b.id == ID)
    work = tmp_path_factory.mktemp("autograde_by_hand")
    course = scratch_course(work / "course", settings=settings, banks=[bank], trainees=2, seed=11)
    honest = sorted(p.name for p in (course.course_root / "submitted").iterdir())
    outside = work / "outside"
    outside.mkdir()
    released = json.loads((course.course_root / "release" / ID / f"{ID}.ipynb").read_text(encoding="utf-8"))
    first = f"{bank.items[0].grade_id}_answer"
    shell = f"import os\nos.system('touch {outside / 'pwned'}')\nopen({str(outside / 'written')!r}, 'w').write('x')"
    checker = ("import coordkit.checks as _c\nclass _Any(str):\n    __eq__ = lambda self, other: True\n"
               "    __hash__ = str.__hash__\n_c.answer = lambda *a, **k: _Any('x')\n"
               "_c.normalize = lambda *a, **k: _Any('x')\n")
    hostile = {"h_shell_right": _attack(_fill(released, bank, right=True), first, shell),
               "h_checker_wrong": _attack(_fill(released, bank, right=False), first, checker + shell)}
    for trainee, nb in hostile.items():
        folder = course.course_root / "submitted" / trainee / ID
        folder.mkdir(parents=True)
        (folder / f"{ID}.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    by_hand = copy_course(work / "by_hand", settings=course)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    proc = subprocess.run([str(nbgrader), "autograde", ID, "--create"], cwd=by_hand.course_root,
                          env=tool_env(by_hand), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    by_button = copy_course(work / "by_button", settings=course)
    button = _formgrader_autograde(by_button, sorted(honest + list(hostile)))
    result = grade_cohort([ID], settings=course, jobs=1, show_progress=False)
    auto = [i.grade_id for i in bank.items if i.auto]
    return {"course": course, "by_hand": by_hand, "by_button": by_button, "button": button, "result": result, "honest": honest, "outside": outside,
            "full": sum(i.points for i in bank.items if i.auto), "auto": auto, "log": proc.stdout + proc.stderr}


def _formgrader_autograde(settings, trainees: list[str]) -> dict[str, dict]:
    """Formgrader's autograde button, pressed for each trainee: the real Formgrader (a Jupyter server
    with nbgrader's extensions, started in the course folder as a lecturer starts it) and the
    request the button sends. Returns trainee -> Formgrader's answer."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={settings.course_root}"],
        cwd=settings.course_root, env=tool_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers=headers), timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, "the Jupyter server with Formgrader did not start"
                time.sleep(0.25)
        answers = {}
        for trainee in trainees:
            request = urllib.request.Request(f"{base}/formgrader/api/submission/{ID}/{trainee}/autograde",
                                             data=b"", method="POST", headers=headers)
            with urllib.request.urlopen(request, timeout=600) as resp:
                answers[trainee] = json.loads(resp.read())
        return answers
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _scores(settings):
    frame = export_scores(settings=settings, assignments=[ID])
    return frame.drop(columns=["needs_manual_grade"]).reset_index(drop=True)


def test_nbgrader_autograde_by_hand_gives_coordkit_grades_scores_cell_by_cell(graded):
    by_hand, ours = _scores(graded["by_hand"]), _scores(graded["course"])
    assert set(by_hand.trainee_id) == set(graded["honest"]) | {"h_shell_right", "h_checker_wrong"}
    assert len(by_hand) == len(ours) > 0
    assert by_hand.equals(ours), by_hand.compare(ours)


def test_formgraders_autograde_button_gives_coordkit_grades_scores_cell_by_cell(graded):
    assert all(answer["success"] for answer in graded["button"].values()), graded["button"]
    by_button, ours = _scores(graded["by_button"]), _scores(graded["course"])
    assert len(by_button) == len(ours) > 0
    assert by_button.equals(ours), by_button.compare(ours)


def test_hostile_answers_score_what_their_answer_lines_give(graded):
    frame = _scores(graded["by_hand"])
    auto = frame[frame.kind == "auto"].groupby("trainee_id").score.sum()
    assert auto["h_shell_right"] == graded["full"]
    assert auto["h_checker_wrong"] == 0.0
    assert any(auto[t] > 0 for t in graded["honest"])


def test_the_hostile_code_never_ran(graded):
    assert sorted(p.name for p in graded["outside"].iterdir()) == []


def test_the_lecturer_sees_that_the_code_was_not_run(graded):
    path = graded["by_hand"].course_root / "autograded" / "h_checker_wrong" / ID / f"{ID}.ipynb"
    text = path.read_text(encoding="utf-8")
    assert "coordkit (grading note)" in text and "not an answer line; not run, not scored" in text


# --- the separate test process (no course needed) ----------------------------------------------------

def test_tests_run_apart_score_like_tests_run_in_process():
    from coordkit.grading.nbgrader_plugins import run_tests, run_tests_apart

    tests = [("q1", "assert q1 == 'a'"), ("q2", "assert q2 == 2, 'wrong'"), ("q3", "0.5")]
    values = {"q1": "a", "q2": 3}
    assert run_tests_apart(tests, values) == run_tests(tests, values) == [
        ("pass", None), ("error", ("AssertionError", "wrong", ["AssertionError: wrong"])), ("result", "0.5")]


def test_a_test_that_never_ends_or_exhausts_memory_scores_zero_and_the_grader_goes_on():
    import os

    from coordkit.grading.nbgrader_plugins import run_tests_apart

    looped = run_tests_apart([("q1", "while True: pass"), ("q2", "pass")], {}, seconds=2)
    assert [kind for kind, _ in looped] == ["error", "error"] and "longer than 2 s" in looped[0][1][1]
    hungry = run_tests_apart([("q1", "x = bytearray(4 * 1024**3)")], {}, memory_bytes=1024**3)
    assert hungry[0][0] == "error"
    marker = "COORDKIT_TEST_PROCESS_MARK"
    run_tests_apart([("q1", f"import os; os.environ[{marker!r}] = '1'")], {})
    assert marker not in os.environ                  # nothing a test changes reaches the grading process
