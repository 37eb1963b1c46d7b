"""Cohort grading: autograde and feedback for every submission of the given assignments, in
parallel processes, with a progress bar and a summary. Scores come from the real nbgrader.

How it works (and why the gradebook cannot be corrupted):

- One coordinator process (the `coordkit grade` command) plans the work, starts `jobs` worker
  processes and is the only process that writes the course gradebook (any SQLAlchemy URL; SQLite
  by default).
- A worker grades one submission at a time with nbgrader's own Autograde and GenerateFeedback
  converters, in a private course root under <course>/.coordkit/runs/: the trainee's submitted
  files, the assignment's source folder, and a private SQLite gradebook copied from a template that
  holds the assignment definitions from the course gradebook (and, for a regrade, this
  submission's earlier state, so nbgrader sees what it would see in the course gradebook).
  The kernel runs in coordkit.sandbox. Before grading, the submission is checked (size, links,
  UTF-8, JSON, notebook, assignment); what cannot be graded is quarantined with its reason.
- When a worker is done, the coordinator writes that submission's state (timestamp, scores,
  comments, late penalty) into the course gradebook in one transaction, then moves its feedback
  and autograded folders into place (a rename: the autograded folder appearing is the commit
  point). A run killed at any moment leaves either a finished submission or one that the next run
  grades again; writing the same state twice changes nothing, so nothing is lost or duplicated.
- A submission is graded again when nbgrader would grade it again (no autograded folder, or a
  newer timestamp.txt), or with force=True. A quarantined one is checked again when its files change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Settings
from .errors import CoordkitError, OutputError
from .sandbox import KERNEL_LOG, REPORT, Limits

STATE_DIR = ".coordkit"


class GradingError(CoordkitError):
    """Grading cannot start (another run holds the course, or the course is not ready)."""


@dataclass
class SubmissionOutcome:
    assignment: str
    trainee_id: str
    status: str                      # graded | reused | quarantined
    reasons: list[str] = field(default_factory=list)
    auto_score: float | None = None  # autograded part
    auto_max: float | None = None
    seconds: float = 0.0


@dataclass
class CohortGradeResult:
    assignments: list[str]
    jobs: int = 1
    submissions: dict[str, int] = field(default_factory=dict)
    graded: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, str]] = field(default_factory=dict)   # assignment -> trainee -> reason
    outcomes: list[SubmissionOutcome] = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0

    @property
    def worked(self) -> int:
        return sum(1 for o in self.outcomes if o.status != "reused")

    def to_dict(self) -> dict:
        return {"assignments": self.assignments, "jobs": self.jobs, "submissions": self.submissions,
                "graded": self.graded, "reused": self.reused, "quarantined": self.quarantined,
                "sandbox": self.sandbox, "seconds": round(self.seconds, 2),
                "outcomes": [asdict(o) for o in self.outcomes]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{**asdict(o), "reasons": "; ".join(o.reasons)} for o in self.outcomes],
                            columns=["assignment", "trainee_id", "status", "reasons", "auto_score", "auto_max",
                                     "seconds"])

    def summary_lines(self) -> list[str]:
        """The summary table printed after grading, then quarantined and noted submissions."""
        width = max([len(a) for a in self.assignments] + [10])
        lines = [f"{'assignment':<{width}}  submissions  graded  reused  quarantined  mean auto score (graded now)"]
        for a in self.assignments:
            scored = [o for o in self.outcomes if o.assignment == a and o.auto_max]
            mean = (f"{100 * sum(o.auto_score for o in scored) / sum(o.auto_max for o in scored):.1f}%"
                    if scored else "-")
            lines.append(f"{a:<{width}}  {self.submissions.get(a, 0):>11}  {self.graded.get(a, 0):>6}  "
                         f"{self.reused.get(a, 0):>6}  {len(self.quarantined.get(a, {})):>11}  {mean:>28}")
        held = [o for o in self.outcomes if o.status == "quarantined"]
        if held:
            lines.append("Quarantined (not graded; the reason says what to fix, then run `coordkit grade` again):")
            lines += [f"  {o.trainee_id}  {o.assignment}  {o.reasons[0]}" for o in held]
        noted = [o for o in self.outcomes if o.status == "graded" and o.reasons]
        if noted:
            lines.append("Graded, with notes:")
            lines += [f"  {o.trainee_id}  {o.assignment}  {r}" for o in noted for r in o.reasons]
        if self.worked:
            lines.append(f"Time: {self.seconds:.1f} s for {self.worked} submission(s) with {self.jobs} job(s) "
                         f"({self.seconds / self.worked:.2f} s per submission).")
        if self.sandbox:
            lines.append(f"Sandbox: {self.sandbox}")
        return lines


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


# --- before grading: is this a submission nbgrader can grade? --------------------------------------

def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a submitted folder (links are not followed)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            st = os.lstat(os.path.join(dirpath, name))
            h.update(f"{os.path.relpath(os.path.join(dirpath, name), folder)}\0{st.st_size}\0{st.st_mtime_ns}\n"
                     .encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _grade_id(cell) -> str | None:
    """nbgrader's grade_id of a cell of untrusted JSON, or None."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def preflight(folder: Path, *, definition: dict, released: dict[str, dict[str, str]],
              limits: Limits) -> tuple[str | None, list[str]]:
    """(reason to quarantine or None, notes). Checks what nbgrader would crash on or grade wrongly:
    links, special files, size, missing notebooks, bytes that are not UTF-8, invalid JSON, a file
    that is not a notebook or belongs to another assignment; notes deleted, duplicated and edited
    cells (nbgrader grades those with the original tests)."""
    import stat

    assignment = definition["name"]
    total, largest = 0, (0, "")
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                return (f"contains a symbolic link ({rel} -> {os.readlink(path)}), which could reach "
                        "other files; the trainee must submit plain files"), []
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                return f"contains a special file ({rel}); the trainee must submit plain files", []
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                largest = max(largest, (st.st_size, rel))
    if total > limits.submission_bytes:
        return (f"the submission is {_mb(total)}, over the {_mb(limits.submission_bytes)} limit "
                f"(largest file: {largest[1]}, {_mb(largest[0])})"), []
    notes: list[str] = []
    present = 0
    for nb_def in definition["notebooks"]:
        name = f"{nb_def['name']}.ipynb"
        path = folder / name
        if not path.is_file():
            notes.append(f"{name} was not submitted: it scores 0")
            continue
        present += 1
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "the trainee should save the notebook again from Jupyter and resubmit"), []
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return (f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    "the file is damaged: the trainee should resubmit it from Jupyter"), []
        if not (isinstance(data, dict) and isinstance(data.get("cells"), list) and data.get("nbformat") == 4):
            return f"{name} is JSON but not a Jupyter notebook (version 4); the trainee should resubmit", []
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        other = (meta.get("coordkit") or {}).get("assignment") if isinstance(meta.get("coordkit"), dict) else None
        if other and other != assignment:
            return (f"{name} is the notebook of assignment {other}, not {assignment}; the trainee should "
                    f"submit the {assignment} notebook"), []
        expected = {c[0] for c in nb_def["source_cells"]}
        ids = [gid for gid in map(_grade_id, data["cells"]) if gid]
        if expected and not set(ids) & expected:
            return (f"{name} has none of the graded cells of {assignment} (it is another assignment's "
                    "notebook, or a new one); the trainee should submit the released notebook"), []
        graded = {c[0] for c in nb_def["grade_cells"]} | {c[0] for c in nb_def["task_cells"]}
        for gid in sorted(graded - set(ids)):
            notes.append(f"graded cell {gid} was deleted: it scores 0")
        for gid in sorted({i for i in ids if ids.count(i) > 1}):
            notes.append(f"cell {gid} appears {ids.count(gid)} times: the last copy was graded")
        originals = released.get(nb_def["name"], {})
        for cell in data["cells"]:
            gid = _grade_id(cell)
            if gid in originals:
                source = cell.get("source", "")        # a dict: _grade_id checked it
                source = "".join(source) if isinstance(source, list) else str(source)
                if source.strip() != originals[gid].strip():
                    notes.append(f"locked cell {gid} was edited: it was graded with the original")
    if not present:
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        wanted = ", ".join(f"{nb['name']}.ipynb" for nb in definition["notebooks"])
        return f"missing file: {wanted} (the folder holds {found})", []
    return None, sorted(set(notes), key=notes.index)


# --- in a worker process -----------------------------------------------------------------------------

def _init_worker(log_path: str) -> None:
    """Worker start: its output (and its kernels') goes to a log file, not the lecturer's terminal;
    on Linux it stops when the coordinator dies."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import nbgrader.converters  # noqa: F401 - warm the import once per worker


_FAILURES = [
    ("NotebookTimeLimit", "ran over the notebook time budget of {notebook_seconds} s (a loop that ignores "
                          "interrupts?); not graded"),
    ("DeadKernelError", "the kernel stopped while running the notebook: the code exits, crashes the kernel, "
                        "or went over the CPU ({cpu_seconds} s) or memory ({memory_mb} MB) limit; not graded"),
    ("Kernel died", "the kernel stopped while running the notebook: the code exits, crashes the kernel, "
                    "or went over the CPU ({cpu_seconds} s) or memory ({memory_mb} MB) limit; not graded"),
    ("SandboxUnavailable", "no sandboxed kernel could be started ({detail}); not graded"),
    ("Timeout waiting for IOPub", "the kernel stopped answering (a loop that ignores interrupts, or code that "
                                  "broke the kernel); not graded"),
    ("Notebook failed to validate", "its nbgrader cell metadata is damaged beyond repair; the trainee should "
                                    "resubmit from the released notebook"),
]


def _failure_reason(log: str, limits: Limits) -> str:
    for needle, text in _FAILURES:
        if needle in log:
            detail = next((l.split(":", 1)[-1].strip() for l in log.splitlines() if needle in l), "")
            return text.format(notebook_seconds=limits.notebook_seconds, cpu_seconds=limits.cpu_seconds,
                               memory_mb=limits.memory_bytes // 1024 // 1024, detail=detail[:200])
    errors = [l.strip() for l in log.splitlines() if l.strip() and not l.startswith((" ", "["))]
    return f"nbgrader could not grade it ({(errors or ['see the log'])[-1][:200]})"


def _run_notes(notebook_path: Path, limits: Limits) -> list[str]:
    """What the grader's log does not say: timeouts, resource limits, cut output (from the outputs)."""
    notes: list[str] = []
    try:
        nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return notes
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {cell.get('id', '?')}")
        for out in cell.get("outputs", []):
            ename, evalue = out.get("ename", ""), str(out.get("evalue", ""))
            text = "".join(out.get("text", "")) if out.get("output_type") == "stream" else ""
            if ename in ("CellTimeoutError", "KeyboardInterrupt"):
                notes.append(f"{gid}: stopped after the per-cell time limit")
            elif ename == "MemoryError":
                notes.append(f"{gid}: ran out of memory (limit {limits.memory_bytes // 1024 // 1024} MB)")
            elif ename == "OSError" and "File too large" in evalue:
                notes.append(f"{gid}: tried to write a file over {_mb(limits.file_bytes)}")
            elif "[coordkit: output over" in text:
                notes.append(f"{gid}: printed more than {limits.output_bytes // 1024} KiB; the rest was cut")
    return list(dict.fromkeys(notes))


def _feedback_exporter():
    """nbgrader's feedback exporter (HTML) with its compiled templates kept on disk for the run:
    stock nbgrader compiles them once per command, a worker would compile them per submission."""
    from jinja2 import FileSystemBytecodeCache
    from nbconvert.exporters import HTMLExporter
    from traitlets import Unicode

    class FeedbackExporter(HTMLExporter):
        template_cache = Unicode("", help="folder for compiled templates").tag(config=True)

        def _create_environment(self):
            environment = super()._create_environment()
            if self.template_cache:
                os.makedirs(self.template_cache, exist_ok=True)
                environment.bytecode_cache = FileSystemBytecodeCache(self.template_cache)
            return environment

    return FeedbackExporter


def _sandbox_notes(report: Path) -> list[str]:
    refused: list[str] = []
    if report.is_file():
        for line in report.read_text(encoding="utf-8").splitlines():
            refused += [r for r in (json.loads(line).get("refused") or []) if isinstance(r, str)]
    refused = list(dict.fromkeys(refused))
    if not refused:
        return []
    more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
    return [f"blocked by the sandbox: {'; '.join(refused[:3])}{more}"]


def deduplicate(path: Path) -> list[str]:
    """Keep nbgrader's marks on the last copy of a duplicated cell only, as nbgrader's own
    DeduplicateIds means to (it leaves an empty mark that its validator then rejects, so stock
    nbgrader cannot grade such a notebook at all). Rewrites the file; returns the ids."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    seen: set[str] = set()
    fixed: list[str] = []
    for cell in reversed(nb["cells"]):
        gid = _grade_id(cell)
        if gid is None:
            continue
        if gid in seen:
            del cell["metadata"]["nbgrader"]
            fixed.append(gid)
        seen.add(gid)
    if fixed:
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return fixed


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def grade_submission(task: dict) -> dict:
    """Grade one submission in its private course root (runs in a worker process)."""
    started = time.perf_counter()
    limits = Limits(**task["limits"])
    assignment, student = task["assignment"], task["student"]
    root = Path(task["root"])
    out = {"assignment": assignment, "student": student, "status": "quarantined", "reasons": [],
           "state": None, "seconds": 0.0, "log": ""}
    try:
        reason, notes = preflight(Path(task["submitted"]), definition=task["definition"],
                                  released=task["released"], limits=limits)
        if reason:
            out["reasons"] = [reason]
            return out
        from nbgrader.api import Gradebook
        from nbgrader.converters import Autograde, GenerateFeedback
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import Execute
        from nbgrader.utils import capture_log
        from traitlets.config import Config

        from .course import apply_submission_state, load_nbgrader_config, submission_state
        from .sandbox import execute_preprocessor

        cfg = load_nbgrader_config(Path(task["course_root"]))
        db_url = f"sqlite:///{root / 'gradebook.db'}"
        over = Config()
        over.CourseDirectory.root = str(root)
        over.CourseDirectory.db_url = db_url
        over.CourseDirectory.assignment_id = assignment
        over.CourseDirectory.student_id = student
        cfg.merge(over)
        coursedir = CourseDirectory(config=cfg)
        # the private course root: the submission, the assignment's source, a private gradebook
        shutil.copytree(task["submitted"], coursedir.format_path(coursedir.submitted_directory, student, assignment),
                        symlinks=True)
        for nb_def in task["definition"]["notebooks"]:
            private = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                           f"{nb_def['name']}.ipynb")
            if private.is_file():
                deduplicate(private)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        source.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(task["source"], source)
        shutil.copyfile(task["template"], root / "gradebook.db")
        with Gradebook(db_url, task["course_id"]) as gb:
            if task["prior"] is not None:
                apply_submission_state(gb, assignment=assignment, student=student, state=task["prior"],
                                       manual=True)

        sandboxed = execute_preprocessor()
        steps = list(cfg.Autograde.get("autograde_preprocessors",
                                       Autograde.class_traits()["autograde_preprocessors"].default()))
        steps = [sandboxed if p is Execute or p in ("nbgrader.preprocessors.Execute",
                                                     "nbgrader.preprocessors.execute.Execute") else p
                 for p in steps]
        sandbox_cfg = Config()
        sandbox_cfg.Autograde.autograde_preprocessors = steps
        sandbox_cfg.SandboxedExecute.home = str(root / "home")
        sandbox_cfg.SandboxedExecute.deny = [task["course_root"]]
        sandbox_cfg.SandboxedExecute.limits = asdict(limits)
        cfg.merge(sandbox_cfg)

        app = Autograde(coursedir=coursedir, config=cfg)
        app.force = True
        app.create_student = True
        graded = capture_log(app)
        out["log"] = graded.get("log", "")
        if not graded["success"]:
            kernel_log = root / KERNEL_LOG
            if kernel_log.is_file():
                out["log"] += "\n--- kernel output ---\n" + kernel_log.read_text(encoding="utf-8", errors="replace")[-20000:]
            out["reasons"] = [_failure_reason(out["log"] + graded.get("error", ""), limits)]
            return out
        workdir = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        for nb_def in task["definition"]["notebooks"]:
            notes += _run_notes(workdir / f"{nb_def['name']}.ipynb", limits)
        notes += _sandbox_notes(root / REPORT)
        if _folder_bytes(workdir) > limits.submission_bytes:
            kept = {p.relative_to(task["submitted"]) for p in Path(task["submitted"]).rglob("*")}
            for path in sorted(workdir.rglob("*"), reverse=True):
                if path.relative_to(workdir) not in kept and path.suffix != ".ipynb":
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            notes.append(f"the code wrote more than {_mb(limits.submission_bytes)} of files; they were removed")
        exporter = Config()
        exporter.GenerateFeedback.exporter_class = _feedback_exporter()
        exporter.FeedbackExporter.template_cache = str(Path(task["template"]).parent / "templates")
        cfg.merge(exporter)
        feedback = GenerateFeedback(coursedir=coursedir, config=cfg)
        feedback.force = True
        fed = capture_log(feedback)
        out["log"] += fed.get("log", "")
        if not fed["success"]:
            out["reasons"] = [f"feedback could not be generated ({_failure_reason(fed.get('log', ''), limits)})"]
            return out
        with Gradebook(db_url, task["course_id"]) as gb:
            out["state"] = submission_state(gb, assignment=assignment, student=student)
        out.update(status="graded", reasons=notes,
                   autograded=str(workdir),
                   feedback=coursedir.format_path(coursedir.feedback_directory, student, assignment))
        return out
    except Exception as exc:  # noqa: BLE001 - one submission never stops the cohort
        out["status"] = "quarantined"
        out["reasons"] = [f"grader error ({type(exc).__name__}: {str(exc)[:200]})"]
        return out
    finally:
        out["seconds"] = time.perf_counter() - started


# --- in the coordinator -----------------------------------------------------------------------------

def _lock(state: Path):
    import fcntl

    state.mkdir(parents=True, exist_ok=True)
    handle = open(state / "grade.lock", "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise GradingError(f"another `coordkit grade` (pid {holder}) is grading {state.parent}; wait for it "
                           "to finish (it holds the gradebook)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _remove_stale_runs(runs: Path) -> None:
    if not runs.is_dir():
        return
    for run in runs.iterdir():
        pid = run.name.split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(run, ignore_errors=True)
        except PermissionError:
            pass


def _install(staged: Path, target: Path, trash: Path) -> None:
    """Put a finished folder in place with renames (same file system): never half a folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        os.rename(target, trash / f"{time.monotonic_ns()}")
    os.rename(staged, target)


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc

    stamp = folder / "timestamp.txt"
    try:
        text = stamp.read_text(encoding="utf-8").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, OverflowError):
        return None


def _students(submitted_root: Path, assignment: str) -> list[str]:
    if not submitted_root.is_dir():
        return []
    return sorted(p.name for p in submitted_root.iterdir() if (p / assignment).is_dir())


def _up_to_date(submitted: Path, autograded: Path) -> bool:
    """nbgrader's rule: graded unless there is no autograded folder or the submission is newer."""
    if not autograded.is_dir():
        return False
    new, old = _timestamp(submitted), _timestamp(autograded)
    return not (new is not None and old is not None and new > old)


def _released_locked_cells(release: Path, definition: dict) -> dict[str, dict[str, str]]:
    locked = {nb["name"]: {c[0] for c in nb["source_cells"] if c[2]} for nb in definition["notebooks"]}
    found: dict[str, dict[str, str]] = {}
    for name, ids in locked.items():
        try:
            nb = json.loads((release / f"{name}.ipynb").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found[name] = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) if isinstance(c["source"], list)
                       else c["source"] for c in nb.get("cells", [])
                       if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in ids}
    return found


def _auto_part(state: dict | None, definition: dict) -> tuple[float | None, float | None]:
    if not state:
        return None, None
    score = total = 0.0
    for nb in definition["notebooks"]:
        grades = state["notebooks"].get(nb["name"], {}).get("grades", {})
        for name, max_score, cell_type in nb["grade_cells"]:
            if cell_type == "code":
                total += max_score
                score += grades.get(name, (None,))[0] or 0.0
    return (score, total) if total else (None, None)


def _warm() -> None:
    """A first task for each worker, so that workers start (and import nbgrader) at once."""


def _candidates(course_root: Path, assignments: list[str], *, force: bool) -> int:
    """A quick count, before nbgrader is even imported, of submissions that will probably need a
    worker (no autograded folder, no quarantine record): it decides whether to start workers early."""
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return 0
    held = course_root / STATE_DIR / "quarantine"
    return sum(1 for t in submitted.iterdir() for a in assignments if (t / a).is_dir() and (
        force or not ((course_root / "autograded" / t.name / a).is_dir() or (held / a / f"{t.name}.json").is_file())))


def grade_cohort(assignments: list[str], *, settings: Settings, jobs: int | None = None, force: bool = False,
                 limits: Limits | None = None, show_progress: bool = True) -> CohortGradeResult:
    """Autograde every submission of `assignments` and generate its feedback, `jobs` at a time
    (default: one per core), each in a sandbox; see the module docstring. Submissions graded and not
    resubmitted since are reused unless force=True; quarantined ones are listed with their reason."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    started = time.perf_counter()
    limits = limits or Limits()
    jobs = jobs or default_jobs()
    if jobs < 1:
        raise GradingError(f"jobs must be at least 1 (got {jobs}); pass --jobs 2 or leave it out")
    course_root = settings.course_root.resolve()
    if not course_root.is_dir():
        raise GradingError(f"the course root {course_root} does not exist; run `coordkit release` first")
    state_dir = course_root / STATE_DIR
    try:
        lock = _lock(state_dir)
    except OSError as exc:
        raise OutputError(f"cannot write {state_dir} ({exc.strerror}); check the course folder's permissions") from None
    result = CohortGradeResult(assignments=list(assignments), jobs=jobs)
    logs = settings.reports_dir / "logs" / "grading"
    pool = None
    try:
        runs = state_dir / "runs"
        _remove_stale_runs(runs)
        run = runs / f"{os.getpid()}-{time.strftime('%Y%m%d%H%M%S')}"
        (run / "trash").mkdir(parents=True)
        likely = _candidates(course_root, assignments, force=force)
        if likely:       # workers import nbgrader while this process plans
            jobs = result.jobs = min(jobs, likely)
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_worker, initargs=(str(run / "workers.log"),))
            for _ in range(jobs):
                pool.submit(_warm)
        plan, gb = _plan(assignments, settings=settings, course_root=course_root, run=run, force=force,
                         limits=limits, result=result)
        with gb:
            if plan:
                logs.mkdir(parents=True, exist_ok=True)
                if pool is None:
                    jobs = result.jobs = min(jobs, len(plan))
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_init_worker, initargs=(str(run / "workers.log"),))
                bar = tqdm(total=len(plan), desc=f"Grading ({result.jobs} job{'s' if result.jobs > 1 else ''})",
                           unit="submission", disable=not show_progress, dynamic_ncols=True)
                with bar:
                    futures = {pool.submit(grade_submission, task): task for task in plan}
                    for future in as_completed(futures):
                        outcome = _finish(futures[future], future.result(), gb=gb, run=run, logs=logs,
                                          quarantine_dir=state_dir / "quarantine", result=result)
                        bar.update(1)
                        held = sum(len(v) for v in result.quarantined.values())
                        bar.set_postfix_str(f"{outcome.assignment}, quarantined {held}")
        _missing_feedback(assignments, settings=settings, result=result)
        from .sandbox import describe, landlock_abi

        result.sandbox = describe({"landlock_abi": landlock_abi(), "audit_hook": True})
        shutil.rmtree(run, ignore_errors=True)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        lock.close()
    result.seconds = time.perf_counter() - started
    return result


def _plan(assignments: list[str], *, settings: Settings, course_root: Path, run: Path, force: bool,
          limits: Limits, result: CohortGradeResult):
    """The submissions to grade (as worker tasks), with the others recorded in `result` as reused or
    still quarantined; writes the template gradebook. Returns (tasks, the open course gradebook)."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    from .course import assignment_definition, create_gradebook, load_nbgrader_config, submission_state

    cfg = load_nbgrader_config(course_root)
    coursedir = CourseDirectory(config=cfg)
    coursedir.root = str(course_root)
    course_id = cfg.CourseDirectory.get("course_id", "default_course")
    gb = Gradebook(settings.db_url, course_id)
    try:
        definitions = {a: assignment_definition(gb, assignment=a) for a in assignments}
        plan: list[dict] = []
        for a in assignments:
            students = _students(course_root / coursedir.submitted_directory, a)
            result.submissions[a] = len(students)
            result.graded[a] = result.reused[a] = 0
            released = _released_locked_cells(Path(coursedir.format_path(coursedir.release_directory, ".", a)),
                                               definitions[a])
            for s in students:
                submitted = Path(coursedir.format_path(coursedir.submitted_directory, s, a))
                autograded = Path(coursedir.format_path(coursedir.autograded_directory, s, a))
                if not force and _up_to_date(submitted, autograded):
                    result.reused[a] += 1
                    result.outcomes.append(SubmissionOutcome(a, s, "reused"))
                    continue
                mark = fingerprint(submitted)
                record = course_root / STATE_DIR / "quarantine" / a / f"{s}.json"
                if not force and record.is_file():
                    held = json.loads(record.read_text(encoding="utf-8"))
                    if held.get("fingerprint") == mark:
                        result.quarantined.setdefault(a, {})[s] = held["reason"]
                        result.outcomes.append(SubmissionOutcome(a, s, "quarantined", [held["reason"]]))
                        continue
                plan.append({
                    "assignment": a, "student": s, "submitted": str(submitted), "fingerprint": mark,
                    "root": str(run / "tasks" / f"{a}--{s}"), "course_root": str(course_root),
                    "source": str(Path(coursedir.format_path(coursedir.source_directory, ".", a)).resolve()),
                    "template": str(run / "template.db"), "course_id": course_id,
                    "definition": definitions[a], "released": released, "limits": asdict(limits),
                    "prior": submission_state(gb, assignment=a, student=s), "autograded": str(autograded),
                    "feedback": coursedir.format_path(coursedir.feedback_directory, s, a),
                })
        gb.db.rollback()                       # end the read transaction: this process writes later
        if plan:
            create_gradebook(f"sqlite:///{run / 'template.db'}", course_id=course_id,
                             definitions=[definitions[a] for a in assignments if any(t["assignment"] == a
                                                                                      for t in plan)])
        return plan, gb
    except BaseException:
        gb.close()
        raise


def _missing_feedback(assignments: list[str], *, settings: Settings, result: CohortGradeResult) -> None:
    """Feedback for reused submissions that have none (deleted by hand, or graded by stock nbgrader)."""
    from .course import generate_feedback

    root = settings.course_root
    for a in assignments:
        if any(o.status == "reused" and o.assignment == a and not list((root / "feedback" / o.trainee_id / a)
                                                                        .glob("*.html")) for o in result.outcomes):
            generate_feedback(a, settings=settings)


def _finish(task: dict, done: dict, *, gb, run: Path, logs: Path, quarantine_dir: Path,
            result: CohortGradeResult) -> SubmissionOutcome:
    """Record one worker's result: merge into the gradebook, then move the folders into place."""
    from .course import apply_submission_state

    a, s = task["assignment"], task["student"]
    record = quarantine_dir / a / f"{s}.json"
    if done["log"]:
        (logs / a).mkdir(parents=True, exist_ok=True)
        (logs / a / f"{s}.log").write_text(done["log"], encoding="utf-8")
    if done["status"] == "graded":
        apply_submission_state(gb, assignment=a, student=s, state=done["state"], manual=False)  # one transaction
        _install(Path(done["feedback"]), Path(task["feedback"]), run / "trash")
        _install(Path(done["autograded"]), Path(task["autograded"]), run / "trash")   # the commit point
        record.unlink(missing_ok=True)
        shutil.rmtree(task["root"], ignore_errors=True)
        result.graded[a] += 1
        score, total = _auto_part(done["state"], task["definition"])
        outcome = SubmissionOutcome(a, s, "graded", done["reasons"], score, total, done["seconds"])
    else:
        reason = done["reasons"][0] if done["reasons"] else "not graded"
        if done["log"]:
            reason += f" (log: {logs / a / f'{s}.log'})"
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps({"reason": reason, "fingerprint": task["fingerprint"],
                                   "when": time.strftime("%Y-%m-%d %H:%M:%S")}, ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, record)
        shutil.rmtree(task["root"], ignore_errors=True)
        result.quarantined.setdefault(a, {})[s] = reason
        outcome = SubmissionOutcome(a, s, "quarantined", [reason], seconds=done["seconds"])
    result.outcomes.append(outcome)
    return outcome
