"""Hostile and broken submissions, graded in one cohort with honest ones (`coordkit grade`).

The grader reads each answer from the notebook as data and never runs the trainee's code, so every
attack that is code (on the IPython shell, the checker, builtins, the file system, processes, the
environment) changes nothing: the score is exactly what the answer lines give (0 for empty answers),
the code is listed in the summary, no process survives, and the feedback holds only what the course
generates. Submissions that cannot be read are quarantined with their reason. Honest trainees score
exactly what stock nbgrader gives them; no file outside the hostile trainees' own autograded and
feedback folders changes (every file of the course, and a folder outside it, is hashed before and
after; the gradebook is checked instead: its integrity, and the honest trainees' grades).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sqlite3

import psutil
import pytest

from coordkit.content.banks import load_banks
from coordkit.course import autograde, export_scores
from coordkit.cohort.simulate.scratch import copy_course, scratch_course
from coordkit.grading import grade_cohort
from coordkit.grading.sandbox import MiB, Limits

pytestmark = pytest.mark.slow

ID = "cs01_job_loss"
LIMITS = Limits(submission_bytes=6 * MiB, notebook_bytes=2 * MiB)
CANARY = "coordkit-canary-7f3a9"          # an environment variable of the grader: never in feedback
SLEEPER = "987654"                        # a process attack code would start: must not exist

def _answer(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _fill(nb: dict, bank, *, right: bool) -> dict:
    """The released notebook with every autograded answer right (the key) or wrong (a distractor)."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("_answer"):
            item = bank.item(gid[: -len("_answer")])
            value = item.key if right else item.distractors[0]
            lines = "".join(cell["source"]).split("\n")
            cell["source"] = "\n".join(f"{item.grade_id} = {_answer(value)}" if l.startswith(f"{item.grade_id} = ")
                                       else l for l in lines)
    return nb


def _cell(nb: dict, gid: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)


def _prepend(nb: dict, gid: str, code: str) -> dict:
    cell = _cell(nb, gid)
    cell["source"] = code + "\n" + "".join(cell["source"])
    return nb


def _hostile(released: dict, bank, course, outside) -> dict[str, dict]:
    """trainee -> {"files": {name: bytes}, "expect": "graded"|"quarantined", "reason"/"note": text,
    "total": the exact autograded score}."""
    first, second = bank.items[0].grade_id, bank.items[1].grade_id
    auto = [i.grade_id for i in bank.items if i.auto]
    points = {i.grade_id: i.points for i in bank.items}
    full = sum(points[g] for g in auto)
    root = course.course_root
    nbname = f"{ID}.ipynb"

    def nbfile(nb):
        return {nbname: json.dumps(nb, ensure_ascii=False).encode()}

    empty = copy.deepcopy(released)
    right, wrong = _fill(released, bank, right=True), _fill(released, bank, right=False)
    cases: dict[str, dict] = {}

    def code_attack(name, code, *, base=empty, total=0.0, note="is not an answer line", **extra):
        cases[name] = {"files": nbfile(_prepend(copy.deepcopy(base), f"{first}_answer", code)), "expect": "graded",
                       "note": note, "total": total, **extra}

    # -- the IPython shell, the checker, builtins: answers empty, so 0 ------------------------------
    code_attack("h_input_transformer", "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])")
    code_attack("h_ast_transformer", (
        "import ast\nclass _T(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(_T())"))
    code_attack("h_run_cell_wrap", "_ip = get_ipython(); _orig = _ip.run_cell\n"
                                   "_ip.run_cell = lambda *a, **k: _orig('pass', **k)")
    code_attack("h_builtins", "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\n"
                              "__builtins__.__dict__['type'] = lambda *a: str")
    code_attack("h_patched_checker", (
        "import sys, coordkit.checks as _c\n"
        "class _Any(str):\n    __eq__ = lambda self, other: True\n    __hash__ = str.__hash__\n"
        "_c.answer = lambda *a, **k: _Any('x')\n_c.normalize = lambda *a, **k: _Any('x')\n"), base=wrong)
    code_attack("h_audit_off", "import sys\nsys.addaudithook(lambda *a: None)\n"
                               "__import__('coordkit.grading.sandbox').grading.sandbox.guard = lambda: None")
    # -- hidden tests and the environment into feedback: nothing of it runs ------------------------
    hooks = copy.deepcopy(empty)
    _prepend(hooks, f"{first}_answer", "get_ipython().events.register('pre_run_cell', lambda *a: print(In, Out))")
    hooks["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": "import os\nprint(In)\nprint(Out)\nprint(dict(os.environ))\n"
                                     "raise RuntimeError(str(In) + str(os.environ))"})
    cases["h_leak_hidden_tests"] = {"files": nbfile(hooks), "expect": "graded", "note": "added by the trainee",
                                    "total": 0.0}
    # -- processes: never started ---------------------------------------------------------------------
    code_attack("h_fork_exec", (
        "import _posixsubprocess, os, subprocess\n"
        f"subprocess.Popen(['sleep', '{SLEEPER}'], preexec_fn=os.setsid, start_new_session=True)\n"
        f"os.system('touch ' + {str(outside / 'forked.txt')!r})"))
    escape = "\n".join([
        "import os, shutil, sqlite3",
        f"print(os.stat({str(root / 'submitted' / 'tr001' / ID / nbname)!r}))",
        f"open({str(root / 'source' / ID / nbname)!r}).read()",
        f"sqlite3.connect({str(root / 'gradebook.db')!r}).execute('delete from grade')",
        f"open({str(root / 'submitted' / 'tr002' / ID / nbname)!r}, 'w').write('{{}}')",
        f"shutil.rmtree({str(root / 'release')!r})",
        f"open({str(outside / 'escaped.txt')!r}, 'w').write('x')",
        f"open({str(outside / 'secret.txt')!r}, 'a').write('x')",
        "os.kill(os.getppid(), 9)",
    ])
    code_attack("h_escape", escape, base=right, total=full)
    code_attack("h_infinite_loop", "while True: pass", base=right, total=full)
    code_attack("h_exit", "import os\nos._exit(3)", base=right, total=full)
    code_attack("h_memory", "x = bytearray(8 * 1024**3)", base=right, total=full)
    code_attack("h_big_write", "open('big.bin', 'wb').write(b'0' * (100 * 1024**2))", base=right, total=full)
    fake = ("class _Any(str):\n    __eq__ = lambda self, other: True\n    __hash__ = str.__hash__\n"
            "def answer(*a, **k):\n    return _Any('x')\n")
    shadow = _prepend(copy.deepcopy(wrong), f"{first}_answer", "import sys\nsys.path.insert(0, '.')\n")
    cases["h_shadow_modules"] = {"files": {**nbfile(shadow), "coordkit/__init__.py": b"",
                                           "coordkit/checks.py": fake.encode(),
                                           "ipykernel_launcher.py": b"import os; os.system('touch /tmp/pwned')\n"},
                                 "expect": "graded", "note": "other file(s) in the submission not used", "total": 0.0}
    # -- files the trainee put in the folder: not in the autograded or feedback folders --------------
    cases["h_extra_files"] = {"files": {**nbfile(right), "evil.html": b"<script>alert(1)</script>",
                                        f"{ID}.html": b"<script>alert(2)</script>"},
                              "expect": "graded", "note": "not used", "total": full}
    # -- active content for the lecturer's browser ----------------------------------------------------
    script = copy.deepcopy(right)
    script["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"x": {"model_name": "HTMLModel", "state": {"value": "<img src=x onerror=pwned()>"}}},
        "version_major": 2, "version_minor": 0}}
    answer_cell = _cell(script, f"{first}_answer")
    answer_cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
        "text/html": "<script>window.pwned = 1</script>", "application/javascript": "window.pwned = 2",
        "text/plain": "pwned"}}]
    answer_cell["id"] = 'x"><script>pwned()</script>'
    written = [i.grade_id for i in bank.items if not i.auto]
    _cell(script, written[0])["source"] = ("<script>window.pwned = 3</script><img src=x onerror='pwned()'>"
                                            "[link](javascript:pwned()) 課題は4つ")
    _cell(script, written[1])["attachments"] = {"a.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9cHduZWQoKT4="}}
    script["cells"].append({"cell_type": "raw", "metadata": {"format": "text/html"},
                            "source": "<script>window.pwned = 4</script>"})
    cases["h_active_content"] = {"files": nbfile(script), "expect": "graded", "note": "removed", "total": full}
    # -- answers that are not one literal --------------------------------------------------------------
    computed = _fill(released, bank, right=True)
    src = "".join(_cell(computed, f"{first}_answer")["source"])
    key = bank.item(first).key
    _cell(computed, f"{first}_answer")["source"] = src.replace(f'{first} = "{key}"', f'{first} = "{key[:5]}" + "{key[5:]}"')
    cases["h_computed_answer"] = {"files": nbfile(computed), "expect": "graded", "note": "not written as one value",
                                  "total": full - points[first]}
    moved = copy.deepcopy(right)
    cell = _cell(moved, f"{second}_answer")
    cell["source"] = "".join(cell["source"]).replace(f'{second} = "{bank.item(second).key}"', f'{second} = ""')
    moved["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": f'{second} = "{bank.item(second).key}"'})
    cases["h_answer_in_added_cell"] = {"files": nbfile(moved), "expect": "graded", "note": "added by the trainee",
                                       "total": full - points[second]}
    raw_bytes = copy.deepcopy(right)
    cell = _cell(raw_bytes, f"{first}_answer")
    cell["source"] = "".join(cell["source"]).replace(f'{first} = "{key}"', f'{first} = b"{key}"')
    cases["h_bytes_answer"] = {"files": nbfile(raw_bytes), "expect": "graded", "note": "not written as one value",
                               "total": full - points[first]}
    broken = copy.deepcopy(right)
    cell = _cell(broken, f"{first}_answer")
    cell["source"] = "".join(cell["source"]).replace(f'{first} = "{key}"', f'{first} = "{key}')
    cases["h_syntax_error"] = {"files": nbfile(broken), "expect": "graded", "note": "not valid Python",
                               "total": full - points[first]}
    nested = copy.deepcopy(right)
    cell = _cell(nested, f"{first}_answer")
    cell["source"] = "".join(cell["source"]).replace(f'{first} = "{key}"', f'{first} = ' + "(" * 5000 + "1" + ")" * 5000)
    cases["h_nested_literal"] = {"files": nbfile(nested), "expect": "graded", "note": "not", "total": full - points[first]}
    many = copy.deepcopy(right)
    many["cells"] += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": f"x{i} = {i}"} for i in range(2000)]
    cases["h_many_cells"] = {"files": nbfile(many), "expect": "graded", "note": "added by the trainee", "total": full}
    # -- the notebook's structure ----------------------------------------------------------------------
    cases["h_invalid_json"] = {"files": {nbname: nbfile(right)[nbname][:-200]}, "expect": "quarantined",
                               "reason": "not valid JSON"}
    cases["h_deep_json"] = {"files": {nbname: b'{"cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"},
                            "expect": "quarantined", "reason": "nested too deeply"}
    other = copy.deepcopy(right)
    other["metadata"]["coordkit"]["assignment"] = "cs02_dv_child"
    for c in other["cells"]:
        meta = c["metadata"].get("nbgrader")
        if meta:
            meta["grade_id"] = "x_" + meta["grade_id"]
    cases["h_other_assignment"] = {"files": nbfile(other), "expect": "quarantined", "reason": "cs02_dv_child"}
    deleted = copy.deepcopy(right)
    deleted["cells"] = [c for c in deleted["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != first]
    cases["h_deleted_test"] = {"files": nbfile(deleted), "expect": "graded", "note": f"{first} was deleted",
                               "total": full - points[first]}
    duplicated = copy.deepcopy(right)
    i = duplicated["cells"].index(_cell(duplicated, first))
    duplicated["cells"][i:i] = copy.deepcopy(duplicated["cells"][i - 1:i + 1])       # answer + test twice
    cases["h_duplicated_cells"] = {"files": nbfile(duplicated), "expect": "graded", "note": "appears 2 times",
                                   "total": full}
    edited = copy.deepcopy(wrong)
    for gid in auto:
        _cell(edited, gid)["source"] = "_a = 'anything'\nassert True"
    cases["h_edited_tests"] = {"files": nbfile(edited), "expect": "graded", "note": "was edited", "total": 0.0}
    deleted_all = copy.deepcopy(wrong)
    deleted_all["cells"] = [c for c in deleted_all["cells"]
                            if c["metadata"].get("nbgrader", {}).get("grade_id") not in auto]
    cases["h_deleted_tests"] = {"files": nbfile(deleted_all), "expect": "graded", "note": "was deleted", "total": 0.0}
    relabelled = copy.deepcopy(empty)
    relabelled["cells"].append({"cell_type": "code", "execution_count": None, "outputs": [], "source": "assert True",
                                "metadata": {"nbgrader": {"grade": True, "grade_id": "q99_bonus", "points": 100,
                                                          "locked": True, "solution": False, "task": False,
                                                          "schema_version": 3}}})
    cases["h_forged_test_cell"] = {"files": nbfile(relabelled), "expect": "graded", "note": "not in the assignment",
                                   "total": 0.0}
    # the course's last cell (answers_check: locked, not graded, never run by the grader) rewritten to
    # set every answer to its key, the answer cells left empty
    keyed = copy.deepcopy(empty)
    _cell(keyed, "answers_check")["source"] = "\n".join(f'{g} = "{bank.item(g).key}"' for g in auto)
    cases["h_forged_answers_check"] = {"files": nbfile(keyed), "expect": "graded", "note": "was edited",
                                       "total": 0.0}
    # -- size and files ----------------------------------------------------------------------------------
    cases["h_missing_file"] = {"files": {"timestamp.txt": b"2025-01-20 09:00:00.000000 UTC"},
                               "expect": "quarantined", "reason": "missing file"}
    bad = nbfile(right)[nbname].replace(b"\xe5\x95\x8f", b"\xff\xfe\x95", 1)   # bytes that are not UTF-8
    cases["h_not_utf8"] = {"files": {nbname: bad}, "expect": "quarantined", "reason": "not UTF-8"}
    padded = copy.deepcopy(right)
    padded["metadata"]["padding"] = "x" * (3 * MiB)
    cases["h_huge_notebook"] = {"files": nbfile(padded), "expect": "quarantined", "reason": "limit for one notebook"}
    cases["h_huge_file"] = {"files": {**nbfile(right), "data.bin": os.urandom(7 * MiB)}, "expect": "quarantined",
                            "reason": "over the 6.0 MB limit"}
    cases["h_many_files"] = {"files": nbfile(right), "empty_files": 30_000, "expect": "quarantined",
                             "reason": "more than 100 files"}
    cases["h_symlink"] = {"files": nbfile(right), "link": ("db", root / "gradebook.db"), "expect": "quarantined",
                          "reason": "symbolic link"}
    return cases


def _hashes(folder, skip) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path not in skip and not os.path.islink(path):
                with open(path, "rb") as fh:
                    out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory, settings, facts):
    bank = next(b for b in load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir) if b.id == ID)
    work = tmp_path_factory.mktemp("hostile")
    course = scratch_course(work / "course", settings=settings, banks=[bank], trainees=4, seed=5)
    honest = sorted(p.name for p in (course.course_root / "submitted").iterdir())
    stock = copy_course(work / "stock", settings=course)
    autograde(ID, settings=stock, stock=True)       # nbgrader's own steps, honest submissions only
    outside = work / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for trainees", encoding="utf-8")
    released = json.loads((course.course_root / "release" / ID / f"{ID}.ipynb").read_text(encoding="utf-8"))
    cases = _hostile(released, bank, course, outside)
    for trainee, case in cases.items():
        folder = course.course_root / "submitted" / trainee / ID
        folder.mkdir(parents=True)
        for name, data in case["files"].items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        if "link" in case:
            os.symlink(case["link"][1], folder / case["link"][0])
        if "empty_files" in case:
            (folder / "many").mkdir()
            for i in range(case["empty_files"]):
                (folder / "many" / f"{i}.txt").touch()
    root = course.course_root
    allowed = {str(root / stage / t / ID) for stage in ("autograded", "feedback") for t in list(cases) + honest}
    skip = allowed | {str(root / "gradebook.db"), str(root / ".coordkit"), str(course.reports_dir)}
    before = _hashes(work, skip)
    os.environ["COORDKIT_CANARY"] = CANARY
    try:
        result = grade_cohort([ID], settings=course, jobs=2, limits=LIMITS, show_progress=False)
    finally:
        del os.environ["COORDKIT_CANARY"]
    after = _hashes(work, skip)
    return {"course": course, "result": result, "cases": cases, "honest": honest, "bank": bank, "stock": stock,
            "before": before, "after": after, "outside": outside,
            # multiprocessing's resource tracker (the coordinator's, started with its pool) aside
            "children": [p.cmdline() for p in psutil.Process().children(recursive=True)
                         if "multiprocessing.resource_tracker" not in " ".join(p.cmdline())],
            "sleepers": [p.pid for p in psutil.process_iter(["cmdline"]) if SLEEPER in (p.info["cmdline"] or [])]}


def _outcome(graded, trainee):
    return next(o for o in graded["result"].outcomes if o.trainee_id == trainee)


def _scores(graded, trainee) -> dict[str, float]:
    frame = export_scores(settings=graded["course"], assignments=[ID])
    rows = frame[frame.trainee_id == trainee]
    return dict(zip(rows.grade_id, rows.score))


def test_nothing_outside_the_trainees_own_folders_changed(graded):
    assert graded["after"] == graded["before"]
    for marker in ("escaped.txt", "forked.txt"):
        assert not (graded["outside"] / marker).exists()
    path = graded["course"].db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_grading_leaves_no_process_behind(graded):
    assert graded["children"] == [] and graded["sleepers"] == []


def test_honest_trainees_score_what_stock_nbgrader_gives_them(graded):
    ours = export_scores(settings=graded["course"], assignments=[ID])
    stock = export_scores(settings=graded["stock"], assignments=[ID])
    ours = ours[ours.trainee_id.isin(graded["honest"])].reset_index(drop=True)
    assert not stock.empty and ours.equals(stock)
    for trainee in graded["honest"]:
        assert (_outcome(graded, trainee).status, _outcome(graded, trainee).reasons) == ("graded", [])


HOSTILE = [
    "h_input_transformer", "h_ast_transformer", "h_run_cell_wrap", "h_builtins", "h_patched_checker", "h_audit_off",
    "h_leak_hidden_tests", "h_fork_exec", "h_escape", "h_infinite_loop", "h_exit", "h_memory", "h_big_write",
    "h_shadow_modules", "h_extra_files", "h_active_content", "h_computed_answer", "h_answer_in_added_cell",
    "h_bytes_answer", "h_syntax_error", "h_nested_literal", "h_many_cells", "h_invalid_json", "h_deep_json",
    "h_other_assignment", "h_deleted_test", "h_duplicated_cells", "h_edited_tests", "h_deleted_tests",
    "h_forged_test_cell", "h_forged_answers_check", "h_missing_file", "h_not_utf8", "h_huge_notebook", "h_huge_file", "h_many_files",
    "h_symlink"]


def test_every_case_is_listed(graded):
    assert sorted(HOSTILE) == sorted(graded["cases"])


@pytest.mark.parametrize("trainee", HOSTILE)
def test_hostile_submission(graded, trainee):
    case, outcome = graded["cases"][trainee], _outcome(graded, trainee)
    summary = "\n".join(graded["result"].summary_lines())
    assert outcome.status == case["expect"], outcome.reasons
    assert trainee in summary
    root = graded["course"].course_root
    if case["expect"] == "quarantined":
        assert case["reason"] in outcome.reasons[0]
        assert graded["result"].quarantined[ID][trainee] == outcome.reasons[0]
        assert not (root / "autograded" / trainee).exists()
        return
    if "note" in case:
        assert any(case["note"] in r for r in outcome.reasons), outcome.reasons
    scores = _scores(graded, trainee)
    auto = [i.grade_id for i in graded["bank"].items if i.auto]
    assert sum(scores[g] for g in auto) == case["total"], scores
    assert outcome.auto_score == case["total"]
    # the lecturer's view: only outputs the grader wrote (its notes, the tests' results)
    notebook = json.loads((root / "autograded" / trainee / ID / f"{ID}.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        assert cell["cell_type"] in ("code", "markdown") and "attachments" not in cell
        for out in cell.get("outputs", []):
            assert out["output_type"] in ("error", "execute_result") or out.get("metadata", {}).get("coordkit"), out
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}
    # the feedback: one HTML page, nothing of the trainee's code's doing, no hidden test
    feedback = root / "feedback" / trainee / ID
    assert sorted(p.name for p in feedback.iterdir()) == sorted({f"{ID}.html", "timestamp.txt"} & {
        p.name for p in feedback.iterdir()}) and (feedback / f"{ID}.html").is_file()
    page = (feedback / f"{ID}.html").read_text(encoding="utf-8")
    for secret in ("BEGIN HIDDEN", "_a ==", "is str and", CANARY, "<script>window", "onerror", "javascript:pwned",
                   "window.pwned = ", "PHN2Zy", "HTMLModel", "pwned()</script>"):
        assert secret not in page, secret


def test_the_lecturers_view_lists_ignored_code(graded):
    root = graded["course"].course_root
    notebook = json.loads((root / "autograded" / "h_fork_exec" / ID / f"{ID}.ipynb").read_text(encoding="utf-8"))
    notes = [o["data"]["text/plain"] for c in notebook["cells"] for o in c.get("outputs", [])
             if o.get("metadata", {}).get("coordkit")]
    assert any("import _posixsubprocess" in "".join(n) and "not run, not scored" in "".join(n) for n in notes), notes
