"""The nbgrader course: release, autograde, feedback and export, with the real nbgrader commands
and gradebook. coordkit adds what nbgrader lacks (progress, one-line errors, per-item export), and
the gradebook helpers that parallel grading (coordkit.grading) needs: an assignment's definition,
a private gradebook holding it, and one submission's grading state, read and written in a single
transaction."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..config import Settings
from ..content.banks import Bank
from ..content.notebooks import write_source
from ..errors import AssignmentError, OutputError, ToolError


def tool_env(settings: Settings) -> dict[str, str]:
    """The environment for nbgrader and friends: this interpreter's bin first on PATH (nbgrader
    shells out to alembic), the configured gradebook URL, a non-interactive plot backend."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["COORDKIT_DB_URL"] = settings.db_url
    if settings.calendar is not None:
        env["COORDKIT_CALENDAR"] = str(settings.calendar)
    env.setdefault("MPLBACKEND", "Agg")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def log_dir(settings: Settings) -> Path:
    path = settings.reports_dir / "logs"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the reports folder {settings.reports_dir} ({exc.strerror}); "
                          "choose a writable folder with --reports or fix its permissions") from None
    return path


def run_nbgrader(args: list[str], *, settings: Settings, log_name: str,
                 on_line: Callable[[str], None] | None = None) -> str:
    """Run `nbgrader <args>` in the course root; stream its log to reports/logs/<log_name>.log.
    Raises ToolError naming the log on failure."""
    log_path = log_dir(settings) / f"{log_name}.log"
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.db_url={settings.db_url}",
           f"--CourseDirectory.root={settings.course_root}"]
    lines: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ nbgrader " + " ".join(args) + "\n")
        proc = subprocess.Popen(cmd, cwd=settings.course_root, env=tool_env(settings), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            lines.append(line)
            if on_line:
                on_line(line)
        code = proc.wait()
    if code != 0:
        errors = [l.strip() for l in lines if "ERROR" in l or "Error" in l][-1:]
        detail = f": {errors[0]}" if errors else ""
        raise ToolError(f"nbgrader {args[0]} failed{detail}; see {log_path}")
    return "".join(lines)


@dataclass
class ReleaseResult:
    released: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    regenerated_sources: list[str] = field(default_factory=list)
    due_dates: dict = field(default_factory=dict)        # assignment -> due date written (naive UTC)


def _newer(a: Path, b: Path) -> bool:
    return not b.exists() or a.stat().st_mtime > b.stat().st_mtime


def release_assignments(banks: Iterable[Bank], *, settings: Settings, force: bool = False,
                        progress: Callable[[str], None] | None = None) -> ReleaseResult:
    """Regenerate each source notebook from its bank (and the facts), then release it with
    `nbgrader generate_assignment`. A release newer than its source is reused."""
    result = ReleaseResult()
    for bank in banks:
        source, changed = write_source(bank, settings.course_root)
        if changed:
            result.regenerated_sources.append(bank.id)
        released = step_path(settings, "release", assignment=bank.id) / source.name
        if force or changed or _newer(source, released):
            run_nbgrader(["generate_assignment", bank.id, "--force", "--create"], settings=settings,
                         log_name=f"release_{bank.id}")
            result.released.append(bank.id)
        else:
            result.reused.append(bank.id)
        if progress:
            progress(bank.id)
    if settings.calendar is not None and settings.calendar.is_file():
        from .calendar import apply_calendar

        # due dates from the course calendar into the gradebook, where autograde's late penalty reads them
        result.due_dates = apply_calendar(settings=settings, assignments=[b.id for b in banks]).set
    return result


def submitted_students(settings: Settings, assignment: str) -> list[str]:
    root = step_path(settings, "submitted")
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


_GRADED = re.compile(r"Writing \d+ bytes to .*[/\\]autograded[/\\]([^/\\]+)[/\\]")
_SKIPPED = re.compile(r"Skipping existing assignment: .*[/\\]autograded[/\\]([^/\\]+)[/\\]")


@dataclass
class GradeResult:
    assignment: str
    graded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


def stock_autograde_steps() -> list[str]:
    """Command-line options that give `nbgrader autograde` nbgrader's own steps (its Execute runs the
    notebook) instead of the course's (answers read as data): for the benchmarks and the tests that
    compare coordkit with stock nbgrader."""
    from nbgrader.converters import Autograde

    return [f"--Autograde.autograde_preprocessors={p.__module__}.{p.__name__}"
            for p in Autograde.class_traits()["autograde_preprocessors"].default()]


def autograde(assignment: str, *, settings: Settings,
              tick: Callable[[str], None] | None = None, stock: bool = False) -> GradeResult:
    """`nbgrader autograde <assignment> --create` over every submission; submissions already graded
    and not resubmitted since are reused. `tick(student)` is called as each one finishes. With `stock`,
    nbgrader's own autograde steps run instead of the course's (see stock_autograde_steps)."""
    result = GradeResult(assignment)

    def on_line(line: str) -> None:
        for pattern, bucket in ((_GRADED, result.graded), (_SKIPPED, result.reused)):
            m = pattern.search(line)
            if m and m.group(1) not in bucket:
                bucket.append(m.group(1))
                if tick:
                    tick(m.group(1))

    run_nbgrader(["autograde", assignment, "--create", *(stock_autograde_steps() if stock else [])],
                 settings=settings, log_name=f"autograde_{assignment}", on_line=on_line)
    return result


def generate_feedback(assignment: str, *, settings: Settings, force: bool = False) -> Path:
    """nbgrader's generate_feedback for every graded submission of `assignment`; with force, also
    where feedback exists and the submission has not changed (after marking: the marks have)."""
    run_nbgrader(["generate_feedback", assignment, *(["--force"] if force else [])], settings=settings,
                 log_name=f"feedback_{assignment}")
    return step_path(settings, "feedback")


def course_id(settings: Settings) -> str:
    """The nbgrader course id (CourseDirectory.course_id in nbgrader_config.py)."""
    return load_nbgrader_config(settings.course_root).CourseDirectory.get("course_id", "default_course")


def export_scores(*, settings: Settings, assignments: list[str] | None = None):
    """Per-trainee, per-item scores from the gradebook, one row per graded cell:
    trainee_id, assignment, notebook, grade_id, kind (auto|manual), score, max_score, needs_manual_grade."""
    import pandas as pd
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(settings.db_url, course_id(settings)) as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        cell = grade.cell
                        rows.append({
                            "trainee_id": submission.student.id, "assignment": assignment.name,
                            "notebook": nb.name, "grade_id": cell.name,
                            "kind": "manual" if cell.cell_type == "markdown" else "auto",
                            "score": grade.score, "max_score": cell.max_score,
                            "needs_manual_grade": bool(grade.needs_manual_grade),
                        })
    columns = ["trainee_id", "assignment", "notebook", "grade_id", "kind", "score", "max_score",
               "needs_manual_grade"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["assignment", "trainee_id", "grade_id"]).reset_index(drop=True)


# --- gradebook helpers for parallel grading ---------------------------------------------------------

def step_path(settings: Settings, step: str, *, student: str = ".", assignment: str = ".") -> Path:
    """A folder of nbgrader's course layout as nbgrader itself names it (CourseDirectory.format_path with
    the course's nbgrader_config.py, so a renamed step folder is followed): `step` is one of source,
    release, submitted, autograded, feedback; student "." for source and release."""
    from nbgrader.coursedir import CourseDirectory

    return step_folder(course_directory(settings), step, student=student, assignment=assignment)


STEPS = ("source", "release", "submitted", "autograded", "feedback")


def course_directory(settings: Settings):
    """nbgrader's CourseDirectory of the course, configured by its nbgrader_config.py: create it once
    and name many folders with `step_folder` (a loop over trainees)."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=load_nbgrader_config(settings.course_root), root=str(settings.course_root))


def step_folder(coursedir, step: str, *, student: str = ".", assignment: str = ".") -> Path:
    """`step_path` with a CourseDirectory made once (see course_directory)."""
    if step not in STEPS:
        raise ValueError(f"step {step!r} is not one of {', '.join(STEPS)}")
    return Path(os.path.normpath(coursedir.format_path(getattr(coursedir, f"{step}_directory"), student, assignment)))


def load_nbgrader_config(course_root: Path):
    """The course's nbgrader_config.py as a traitlets Config (empty if the file does not exist)."""
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    except ConfigFileNotFound:
        return Config()


def assignment_definition(gb, *, assignment: str) -> dict:
    """What nbgrader stored for an assignment at `generate_assignment`: its notebooks and their grade,
    solution, task and source cells. Raises AssignmentError if the assignment is not in the gradebook."""
    from nbgrader.api import MissingEntry

    try:
        found = gb.find_assignment(assignment)
    except MissingEntry:
        raise AssignmentError(f"assignment {assignment!r} is not in the gradebook {gb.engine.url}; "
                              f"run `coordkit release {assignment}` first") from None
    return {"name": found.name, "duedate": found.duedate, "notebooks": [{
        "name": nb.name, "kernelspec": nb.kernelspec,
        "grade_cells": [(c.name, c.max_score, c.cell_type) for c in nb.grade_cells],
        "solution_cells": [c.name for c in nb.solution_cells],
        "task_cells": [(c.name, c.max_score, c.cell_type) for c in nb.task_cells],
        "source_cells": [(c.name, c.cell_type, c.locked, c.source, c.checksum) for c in nb.source_cells],
    } for nb in found.notebooks]}


def create_gradebook(db_url: str, *, course_id: str, definitions: list[dict]) -> None:
    """A new gradebook holding the given assignment definitions (and no submissions)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        for d in definitions:
            gb.update_or_create_assignment(d["name"], duedate=d["duedate"])
            for nb in d["notebooks"]:
                gb.update_or_create_notebook(nb["name"], d["name"], kernelspec=nb["kernelspec"])
                for name, max_score, cell_type in nb["grade_cells"]:
                    gb.update_or_create_grade_cell(name, nb["name"], d["name"], max_score=max_score,
                                                   cell_type=cell_type)
                for name in nb["solution_cells"]:
                    gb.update_or_create_solution_cell(name, nb["name"], d["name"])
                for name, max_score, cell_type in nb["task_cells"]:
                    gb.update_or_create_task_cell(name, nb["name"], d["name"], max_score=max_score,
                                                  cell_type=cell_type)
                for name, cell_type, locked, source, checksum in nb["source_cells"]:
                    gb.update_or_create_source_cell(name, nb["name"], d["name"], cell_type=cell_type,
                                                    locked=locked, source=source, checksum=checksum)


def _cell_names(assignment_row) -> tuple[dict, dict]:
    notebooks = {nb.id: nb.name for nb in assignment_row.notebooks}
    cells = {c.id: c.name for nb in assignment_row.notebooks
             for c in (*nb.grade_cells, *nb.solution_cells, *nb.task_cells)}
    return notebooks, cells


def _find_submission(gb, *, assignment: str, student: str):
    from nbgrader.api import Assignment, SubmittedAssignment

    return (gb.db.query(SubmittedAssignment)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .filter(Assignment.name == assignment, SubmittedAssignment.student_id == student)
            .one_or_none())


def submission_state(gb, *, assignment: str, student: str) -> dict | None:
    """One submission's grading state (timestamps, per-cell scores and comments), or None."""
    sub = _find_submission(gb, assignment=assignment, student=student)
    if sub is None:
        return None
    notebooks, cells = _cell_names(sub.assignment)
    st = sub.student
    return {
        "student": {"first_name": st.first_name, "last_name": st.last_name, "email": st.email,
                    "lms_user_id": st.lms_user_id},
        "timestamp": sub.timestamp, "extension": sub.extension,
        "notebooks": {notebooks[nb.notebook_id]: {
            "late_submission_penalty": nb.late_submission_penalty, "flagged": nb.flagged,
            "grades": {cells[g.cell_id]: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                       for g in nb.grades},
            "comments": {cells[c.cell_id]: (c.auto_comment, c.manual_comment) for c in nb.comments},
        } for nb in sub.notebooks},
    }


def apply_submission_state(gb, *, assignment: str, student: str, state: dict, manual: bool,
                           commit: bool = True) -> None:
    """Write a submission's state into a gradebook in one transaction (created with nbgrader's own
    structure if missing). With manual=False only what `nbgrader autograde` writes is set (timestamp,
    autograder scores and comments, late penalty); with manual=True the graders' entries too.
    Applying the same state twice changes nothing. With commit=False the changes are flushed into
    the open transaction and the caller commits (several submissions in one commit) or rolls back."""
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    db = gb.db
    try:
        row = db.get(Student, student)
        if row is None:
            row = Student(id=student)
            db.add(row)
        if manual:
            for key, value in state["student"].items():
                setattr(row, key, value)
        sub = _find_submission(gb, assignment=assignment, student=student)
        if sub is None:                                   # the structure nbgrader's add_submission makes
            assignment_row = gb.find_assignment(assignment)
            with db.no_autoflush:
                sub = SubmittedAssignment(assignment=assignment_row, student=row)
                for notebook in assignment_row.notebooks:
                    nb = SubmittedNotebook(notebook=notebook, assignment=sub)
                    for cell in notebook.grade_cells:
                        Grade(cell_id=cell.id, notebook=nb)
                    for cell in notebook.solution_cells:
                        Comment(cell_id=cell.id, notebook=nb)
                    for cell in notebook.task_cells:
                        Comment(cell_id=cell.id, notebook=nb)
                        Grade(cell_id=cell.id, notebook=nb)
                db.add(sub)                               # cascades to the notebooks, grades, comments
            db.flush()
        sub.timestamp = state["timestamp"]
        if manual:
            sub.extension = state["extension"]
        notebooks, cells = _cell_names(sub.assignment)
        for nb in sub.notebooks:
            saved = state["notebooks"].get(notebooks[nb.notebook_id])
            if saved is None:
                continue
            nb.late_submission_penalty = saved["late_submission_penalty"]
            if manual:
                nb.flagged = saved["flagged"]
            for grade in nb.grades:
                values = saved["grades"].get(cells[grade.cell_id])
                if values is not None:
                    grade.auto_score, grade.needs_manual_grade = values[0], values[3]
                    if manual:
                        grade.manual_score, grade.extra_credit = values[1], values[2]
            for comment in nb.comments:
                values = saved["comments"].get(cells[comment.cell_id])
                if values is not None:
                    comment.auto_comment = values[0]
                    if manual:
                        comment.manual_comment = values[1]
        db.commit() if commit else db.flush()
    except BaseException:
        db.rollback()
        raise
