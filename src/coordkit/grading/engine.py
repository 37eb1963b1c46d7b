"""Cohort grading: autograde and feedback for every submission of the given assignments, in
parallel processes, with a progress bar and a summary. Scores and feedback come from the real
nbgrader (its Autograde and GenerateFeedback converters and gradebook).

The trainee's notebook is data (engine "literal", the default): no cell of it is run. nbgrader's
Execute preprocessor is replaced by coordkit.grading.nbgrader_plugins.LiteralExecute, which reads each
autograded answer as one literal (`q3 = "2025-04-18"`, ast.literal_eval) and runs the assignment's
test cells, taken from the gradebook (the course's own code, with the hidden tests), in the worker
against those values only; nbgrader's SaveAutoGrades scores the result as usual. Anything else in
an answer cell, and every cell the trainee added, is listed in the grading notes and on the cell
(Formgrader), never run. SanitizeSubmission removes from the notebook whatever a browser could run
(outputs, attachments, raw HTML cells, HTML in markdown, foreign metadata) before Formgrader and the
feedback show it; only the notebooks and timestamp.txt of a submission folder are used. The previous
engine (engine "kernel": each notebook run by nbgrader in a kernel confined by coordkit.grading.sandbox) is
kept for comparison (`coordkit grade --engine kernel`, bench/autograde.py).

How it works (and why the gradebook cannot be corrupted):

- One coordinator process (the `coordkit grade` command) plans the work, starts `jobs` worker
  processes and is the only process that writes the course gradebook (any SQLAlchemy URL; SQLite
  by default).
- A worker grades one submission at a time in a private course root under <course>/.coordkit/runs/:
  the trainee's submitted notebooks, the assignment's source folder, and the worker's private
  SQLite gradebook reset from a template that holds the assignment definitions from the course
  gradebook (and, for a regrade, this submission's earlier state, so nbgrader sees what it would
  see in the course gradebook). Before grading, the submission is checked (number of files, size,
  links, UTF-8, JSON, notebook, assignment); what cannot be graded is quarantined with its reason,
  within the first milliseconds of its turn.
- When workers are done, the coordinator writes those submissions' states (timestamp, scores,
  comments, late penalty) into the course gradebook in one transaction (a batch: up to BATCH_SIZE
  submissions, one commit), then moves each one's feedback and autograded folders into place (a
  rename: the autograded folder appearing is the commit point). A run killed at any moment leaves
  either a finished submission or one that the next run grades again; writing the same state twice
  changes nothing, so nothing is lost or duplicated.
- A submission is graded again when nbgrader would grade it again (no autograded folder, or a
  newer timestamp.txt), or with force=True. A quarantined one is checked again when its files change.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from ..config import Settings
from ..errors import OutputError
from .intake import fingerprint
from .results import CohortGradeResult, GradingError, SubmissionOutcome
from .sandbox import Limits
from .worker import _WORKER_ENGINES, _fast_paths, _init_worker, _scratch_engine, _warm, grade_submission

STATE_DIR = ".coordkit"


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


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


def _candidates(course_root: Path, assignments: list[str], *, force: bool) -> int:
    """A quick count, before nbgrader is even imported, of submissions that will probably need a
    worker (no autograded folder, no quarantine record): it decides whether to start workers early."""
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return 0
    held = course_root / STATE_DIR / "quarantine"
    return sum(1 for t in submitted.iterdir() for a in assignments if (t / a).is_dir() and (
        force or not ((course_root / "autograded" / t.name / a).is_dir() or (held / a / f"{t.name}.json").is_file())))


ENGINES = ("literal", "kernel")
# The coordinator writes finished submissions into the course gradebook in batches: one commit (an
# fsync) for up to BATCH_SIZE of them, at most BATCH_SECONDS after the first of a batch finished.
# A run killed before a batch's commit grades those submissions again next time.
BATCH_SIZE = 16
BATCH_SECONDS = 1.0


def grade_cohort(assignments: list[str], *, settings: Settings, jobs: int | None = None, force: bool = False,
                 limits: Limits | None = None, show_progress: bool = True, engine: str = "literal") -> CohortGradeResult:
    """Autograde every submission of `assignments` and generate its feedback, `jobs` at a time
    (default: one per core), each in a sandbox; see the module docstring. Submissions graded and not
    resubmitted since are reused unless force=True; quarantined ones are listed with their reason."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm import tqdm

    started = time.perf_counter()
    if engine not in ENGINES:
        raise GradingError(f"unknown grading engine {engine!r}; use one of {', '.join(ENGINES)}")
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
        # literal engine: the workers are forked from this process once it has imported nbgrader (and
        # before it opens any database), so nbgrader is imported once, not once per worker; the
        # kernel engine's workers start afresh (spawn) and import nbgrader while this process plans
        method = "fork" if engine == "literal" and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "fork":
            import nbgrader.converters  # noqa: F401
            import nbgrader.api  # noqa: F401
        if likely:
            jobs = result.jobs = min(jobs, likely)
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                                       initializer=_init_worker,
                                       initargs=(str(run / "workers.log"), lock.fileno() if method == "fork" else None))
            for _ in range(jobs):
                pool.submit(_warm)
        plan, gb = _plan(assignments, settings=settings, course_root=course_root, run=run, force=force,
                         limits=limits, result=result)
        for task in plan:
            task["engine"] = engine
        with gb:
            if plan:
                logs.mkdir(parents=True, exist_ok=True)
                if pool is None:
                    jobs = result.jobs = min(jobs, len(plan))
                    # the gradebook is open by now: start the workers afresh, not as copies of this process
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_init_worker, initargs=(str(run / "workers.log"),))
                bar = tqdm(total=len(plan), desc=f"Grading ({result.jobs} job{'s' if result.jobs > 1 else ''})",
                           unit="submission", disable=not show_progress, dynamic_ncols=True)
                with bar:
                    futures = {pool.submit(grade_submission, task): task for task in plan}
                    pending, batch, since = set(futures), [], 0.0
                    while pending:
                        timeout = None if not batch else max(0.0, since + BATCH_SECONDS - time.monotonic())
                        done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                        if done and not batch:
                            since = time.monotonic()
                        batch += [(futures[f], f.result()) for f in done]
                        if batch and (not pending or len(batch) >= BATCH_SIZE
                                      or time.monotonic() - since >= BATCH_SECONDS):
                            for outcome in _finish(batch, gb=gb, run=run, logs=logs,
                                                   quarantine_dir=state_dir / "quarantine", result=result):
                                bar.update(1)
                                held = sum(len(v) for v in result.quarantined.values())
                                bar.set_postfix_str(f"{outcome.assignment}, quarantined {held}")
                            batch = []
        _missing_feedback(assignments, settings=settings, result=result)
        if engine == "literal":
            result.sandbox = ("answers read as data (no trainee code run); the course's tests run in the "
                              "grading workers")
        else:
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

    from ..course import assignment_definition, create_gradebook, load_nbgrader_config, submission_state

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
            url = f"sqlite:///{run / 'template.db'}"
            scratch = _empty_gradebook(run / "template.db", course_gradebook=gb)
            if scratch:                      # nbgrader's Gradebook below writes through this engine
                _fast_paths()
                _WORKER_ENGINES[url] = scratch
            try:
                create_gradebook(url, course_id=course_id,
                                 definitions=[definitions[a] for a in assignments if any(t["assignment"] == a
                                                                                          for t in plan)])
            finally:
                if _WORKER_ENGINES.pop(url, None) is not None:
                    scratch.dispose()
        return plan, gb
    except BaseException:
        gb.close()
        raise


def _empty_gradebook(path: Path, *, course_gradebook):
    """An empty SQLite gradebook with nbgrader's tables, stamped with the course gradebook's schema
    version: what nbgrader's Gradebook creates for a new file, without its `alembic heads` subprocess
    (about a second) to find the version it already knows. Returns its scratch engine (no fsync per
    commit, see _scratch_engine) to write the assignment definitions with, or None (nbgrader will
    create the file)."""
    from nbgrader.api import Base
    from sqlalchemy import text

    version = course_gradebook.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    course_gradebook.db.rollback()
    if not version:
        return None                             # nbgrader will find it
    engine = _scratch_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    except BaseException:
        engine.dispose()
        raise
    return engine


def _missing_feedback(assignments: list[str], *, settings: Settings, result: CohortGradeResult) -> None:
    """Feedback for reused submissions that have none (deleted by hand, or graded by stock nbgrader)."""
    from ..course import generate_feedback

    root = settings.course_root
    for a in assignments:
        if any(o.status == "reused" and o.assignment == a and not list((root / "feedback" / o.trainee_id / a)
                                                                        .glob("*.html")) for o in result.outcomes):
            generate_feedback(a, settings=settings)


def _finish(batch: list[tuple[dict, dict]], *, gb, run: Path, logs: Path, quarantine_dir: Path,
            result: CohortGradeResult) -> list[SubmissionOutcome]:
    """Record the workers' results of a batch of (task, result): the graded submissions' states
    merged into the gradebook in one transaction (one commit, not one per submission), then each
    one's folders moved into place (the commit point), and the quarantined ones recorded."""
    from ..course import apply_submission_state

    for task, done in batch:
        if done["log"]:
            (logs / task["assignment"]).mkdir(parents=True, exist_ok=True)
            (logs / task["assignment"] / f"{task['student']}.log").write_text(done["log"], encoding="utf-8")
    graded = [(task, done) for task, done in batch if done["status"] == "graded"]
    for task, done in graded:
        apply_submission_state(gb, assignment=task["assignment"], student=task["student"], state=done["state"],
                               manual=False, commit=False)
    if graded:
        gb.db.commit()
    outcomes = []
    for task, done in batch:
        a, s = task["assignment"], task["student"]
        record = quarantine_dir / a / f"{s}.json"
        if done["status"] == "graded":
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
        outcomes.append(outcome)
    return outcomes
