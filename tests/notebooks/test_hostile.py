"""Hostile and broken submissions, graded in one cohort with honest ones (`coordkit grade`).

Each class is graded (with a note) or quarantined with its reason in the summary; the honest
trainees score exactly what stock nbgrader gives them; a tampered test never earns points; and
no file outside the hostile trainees' own autograded and feedback folders changes (every file of
the course, and a folder outside it, is hashed before and after; the gradebook is checked instead:
its integrity, and the honest trainees' grades).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sqlite3

import pytest

from coordkit.banks import load_banks
from coordkit.course import autograde, copy_course, export_scores, scratch_course
from coordkit.grading import grade_cohort
from coordkit.sandbox import MiB, Limits

pytestmark = pytest.mark.slow

ID = "cs01_job_loss"
LIMITS = Limits(cell_timeout=4, notebook_seconds=15, cpu_seconds=30, submission_bytes=2 * MiB)


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
    """trainee -> {"files": {name: bytes}, "expect": "graded"|"quarantined", "reason": text, ...}."""
    first, second = bank.items[0].grade_id, bank.items[1].grade_id
    auto = [i.grade_id for i in bank.items if i.auto]
    root = course.course_root
    nbname = f"{ID}.ipynb"

    def nbfile(nb):
        return {nbname: json.dumps(nb, ensure_ascii=False).encode()}

    right, wrong = _fill(released, bank, right=True), _fill(released, bank, right=False)
    cases: dict[str, dict] = {}

    cases["h_invalid_json"] = {"files": {nbname: nbfile(right)[nbname][:-200]}, "expect": "quarantined",
                               "reason": "not valid JSON"}
    other = copy.deepcopy(right)
    other["metadata"]["coordkit"]["assignment"] = "cs02_dv_child"
    for cell in other["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta:
            meta["grade_id"] = "x_" + meta["grade_id"]
    cases["h_other_assignment"] = {"files": nbfile(other), "expect": "quarantined", "reason": "cs02_dv_child"}

    deleted = copy.deepcopy(right)
    deleted["cells"] = [c for c in deleted["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != first]
    cases["h_deleted_test"] = {"files": nbfile(deleted), "expect": "graded", "note": f"{first} was deleted",
                               "zero": [first]}
    duplicated = copy.deepcopy(right)
    i = duplicated["cells"].index(_cell(duplicated, first))
    duplicated["cells"][i:i] = copy.deepcopy(duplicated["cells"][i - 1:i + 1])       # answer + test twice
    cases["h_duplicated_cells"] = {"files": nbfile(duplicated), "expect": "graded", "note": "appears 2 times",
                                   "full": auto}
    edited = copy.deepcopy(wrong)
    for gid in auto:
        _cell(edited, gid)["source"] = "_a = 'anything'\nassert True"
    cases["h_edited_tests"] = {"files": nbfile(edited), "expect": "graded", "note": "was edited", "zero": auto}
    deleted_all = copy.deepcopy(wrong)
    deleted_all["cells"] = [c for c in deleted_all["cells"]
                            if c["metadata"].get("nbgrader", {}).get("grade_id") not in auto]
    cases["h_deleted_tests"] = {"files": nbfile(deleted_all), "expect": "graded", "zero": auto}
    patched = _prepend(copy.deepcopy(wrong), f"{first}_answer", (
        "import builtins, sys, coordkit.checks as _c\n"
        "class _Any(str):\n    __eq__ = lambda self, other: True\n    __hash__ = str.__hash__\n"
        "_c.answer = lambda *a, **k: _Any('x')\n_c.normalize = lambda *a, **k: _Any('x')\n"
        "builtins.type = lambda *a: str\n"))
    cases["h_patched_checker"] = {"files": nbfile(patched), "expect": "graded", "zero": auto}

    cases["h_infinite_loop"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer", "while True: pass")),
                                "expect": "graded", "note": "per-cell time limit", "zero": [first],
                                "full": [second]}
    stubborn = ("import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except BaseException:\n        pass")
    cases["h_uninterruptible_loop"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer", stubborn)),
                                       "expect": "quarantined", "reason": "stopped answering"}
    slow = copy.deepcopy(right)
    for gid in auto:
        _prepend(slow, f"{gid}_answer", "import time\ntime.sleep(3.5)")
    cases["h_slow"] = {"files": nbfile(slow), "expect": "quarantined", "reason": "time budget"}
    cases["h_large_output"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer",
                                                        "print('x' * 5_000_000)\nfor i in range(200_000): print(i)")),
                               "expect": "graded", "note": "printed more than", "full": auto, "max_bytes": 1_500_000}
    cases["h_exit"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer", "import os\nos._exit(3)")),
                       "expect": "quarantined", "reason": "kernel stopped"}
    cases["h_crash"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer",
                                                 "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")),
                        "expect": "quarantined", "reason": "kernel stopped"}
    cases["h_memory"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer", "x = bytearray(8 * 1024**3)")),
                         "expect": "graded", "note": "ran out of memory", "full": [second]}
    escape = "\n".join([
        "import os, shutil, subprocess, sqlite3",
        "tried = []",
        "def attempt(name, fn):",
        "    try:",
        "        fn(); tried.append(name + ': DONE')",
        "    except Exception as exc:",
        "        tried.append(name + ': ' + type(exc).__name__)",
        f"attempt('read other trainee', lambda: open({str(root / 'submitted' / 'tr001' / ID / nbname)!r}).read())",
        f"attempt('read source', lambda: open({str(root / 'source' / ID / nbname)!r}).read())",
        f"attempt('read gradebook', lambda: open({str(root / 'gradebook.db')!r}, 'rb').read())",
        f"attempt('sqlite gradebook', lambda: sqlite3.connect({str(root / 'gradebook.db')!r}).execute('delete from grade'))",
        f"attempt('write gradebook', lambda: open({str(root / 'gradebook.db')!r}, 'ab').write(b'x'))",
        f"attempt('overwrite other', lambda: open({str(root / 'submitted' / 'tr002' / ID / nbname)!r}, 'w').write('{{}}'))",
        f"attempt('delete release', lambda: shutil.rmtree({str(root / 'release')!r}))",
        f"attempt('list course', lambda: os.listdir({str(root)!r}))",
        f"attempt('write outside', lambda: open({str(outside / 'pwned.txt')!r}, 'w').write('x'))",
        f"attempt('change outside', lambda: open({str(outside / 'secret.txt')!r}, 'a').write('x'))",
        "attempt('relative escape', lambda: open('../' * 8 + 'gradebook.db', 'rb').read())",
        f"attempt('symlink', lambda: os.symlink({str(root / 'gradebook.db')!r}, 'db_link'))",
        f"attempt('subprocess', lambda: subprocess.run(['cp', {str(root / 'gradebook.db')!r}, 'stolen.db']))",
        f"attempt('os.system', lambda: os.system('touch ' + {str(outside / 'system.txt')!r}))",
        "attempt('ctypes', lambda: __import__('ctypes').CDLL(None).getpid())",
        "attempt('kill grader', lambda: os.kill(os.getppid(), 9))",
        "print('\\n'.join(tried))",
    ])
    cases["h_escape"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer", escape)),
                         "expect": "graded", "note": "blocked by the sandbox", "full": auto, "no_done": True}
    cases["h_big_write"] = {"files": nbfile(_prepend(copy.deepcopy(right), f"{first}_answer",
                                                     "open('big.bin', 'wb').write(b'0' * (100 * 1024**2))")),
                            "expect": "graded", "note": "tried to write a file over", "full": [second]}
    fake = ("class _Any(str):\n    __eq__ = lambda self, other: True\n    __hash__ = str.__hash__\n"
            "def answer(*a, **k):\n    return _Any('x')\n")
    shadow = _prepend(copy.deepcopy(wrong), f"{first}_answer", (
        "import sys\nsys.path.insert(0, '.')\n"
        "for name in [m for m in sys.modules if m.startswith('coordkit')]:\n    del sys.modules[name]\n"
        "import coordkit.checks\nprint(coordkit.checks.__file__)"))
    cases["h_shadow_modules"] = {"files": {**nbfile(shadow), "coordkit/__init__.py": b"",
                                           "coordkit/checks.py": fake.encode(),
                                           "ipykernel_launcher.py": b"import os; os.system('touch /tmp/pwned')\n"},
                                 "expect": "graded", "zero": auto}
    cases["h_missing_file"] = {"files": {"timestamp.txt": b"2025-01-20 09:00:00.000000 UTC"},
                               "expect": "quarantined", "reason": "missing file"}
    bad = nbfile(right)[nbname].replace(b"\xe5\x95\x8f", b"\xff\xfe\x95", 1)   # bytes that are not UTF-8
    cases["h_not_utf8"] = {"files": {nbname: bad}, "expect": "quarantined", "reason": "not UTF-8"}
    padded = copy.deepcopy(right)
    padded["metadata"]["padding"] = "x" * (3 * MiB)
    cases["h_huge_notebook"] = {"files": nbfile(padded), "expect": "quarantined", "reason": "over the"}
    cases["h_huge_file"] = {"files": {**nbfile(right), "data.bin": os.urandom(3 * MiB)}, "expect": "quarantined",
                            "reason": "over the"}
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
    autograde(ID, settings=stock)
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
    root = course.course_root
    allowed = {str(root / stage / t / ID) for stage in ("autograded", "feedback") for t in list(cases) + honest}
    skip = allowed | {str(root / "gradebook.db"), str(root / ".coordkit"), str(course.reports_dir)}
    before = _hashes(work, skip)
    result = grade_cohort([ID], settings=course, jobs=2, limits=LIMITS, show_progress=False)
    after = _hashes(work, skip)
    return {"course": course, "result": result, "cases": cases, "honest": honest, "bank": bank, "stock": stock,
            "before": before, "after": after, "outside": outside}


def _outcome(graded, trainee):
    return next(o for o in graded["result"].outcomes if o.trainee_id == trainee)


def _scores(graded, trainee) -> dict[str, float]:
    frame = export_scores(settings=graded["course"], assignments=[ID])
    rows = frame[frame.trainee_id == trainee]
    return dict(zip(rows.grade_id, rows.score))


def test_nothing_outside_the_trainees_own_folders_changed(graded):
    assert graded["after"] == graded["before"]
    assert not (graded["outside"] / "pwned.txt").exists() and not (graded["outside"] / "system.txt").exists()
    path = graded["course"].db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_honest_trainees_score_what_stock_nbgrader_gives_them(graded):
    ours = export_scores(settings=graded["course"], assignments=[ID])
    stock = export_scores(settings=graded["stock"], assignments=[ID])
    ours = ours[ours.trainee_id.isin(graded["honest"])].reset_index(drop=True)
    assert not stock.empty and ours.equals(stock)
    for trainee in graded["honest"]:
        assert (_outcome(graded, trainee).status, _outcome(graded, trainee).reasons) == ("graded", [])


@pytest.mark.parametrize("trainee", [
    "h_invalid_json", "h_other_assignment", "h_deleted_test", "h_duplicated_cells", "h_edited_tests",
    "h_deleted_tests", "h_patched_checker", "h_shadow_modules", "h_infinite_loop", "h_uninterruptible_loop",
    "h_slow", "h_large_output", "h_exit", "h_crash", "h_memory", "h_escape", "h_big_write", "h_missing_file",
    "h_not_utf8", "h_huge_notebook", "h_huge_file", "h_symlink"])
def test_hostile_submission(graded, trainee):
    case, outcome = graded["cases"][trainee], _outcome(graded, trainee)
    summary = "\n".join(graded["result"].summary_lines())
    assert outcome.status == case["expect"], outcome.reasons
    assert trainee in summary
    if case["expect"] == "quarantined":
        assert case["reason"] in outcome.reasons[0]
        assert graded["result"].quarantined[ID][trainee] == outcome.reasons[0]
        assert not (graded["course"].course_root / "autograded" / trainee).exists()
        return
    if "note" in case:
        assert any(case["note"] in r for r in outcome.reasons), outcome.reasons
    scores = _scores(graded, trainee)
    points = {i.grade_id: i.points for i in graded["bank"].items}
    for gid in case.get("zero", []):
        assert scores[gid] == 0, (gid, scores)
    for gid in case.get("full", []):
        assert scores[gid] == points[gid], (gid, scores)
    notebook = graded["course"].course_root / "autograded" / trainee / ID / f"{ID}.ipynb"
    if "max_bytes" in case:
        assert notebook.stat().st_size < case["max_bytes"]
    if case.get("no_done"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        printed = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
        assert printed.count(": PermissionError") == 16 and ": DONE" not in printed, printed
        assert "BEGIN SOLUTION" not in printed and "not for trainees" not in printed
