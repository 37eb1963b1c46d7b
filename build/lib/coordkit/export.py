"""Scores out of the nbgrader gradebook: per-item scores for the evaluators, and a grade-import
CSV for Moodle (nbgrader itself only exports totals, and leaves LMS import to users: jupyter/nbgrader#530).

Moodle grade-import CSV (Grades > Import > CSV file), one row per trainee:

- `ID number`: the trainee id (tr001, ...). In Moodle, map it to the user field "ID number"
  (useridnumber), which must hold the same id in each trainee's profile.
- `Email address`: only when the gradebook knows the trainees' e-mail addresses; it can be mapped
  to the user field "Email address" instead.
- one column per assignment (default: those with submissions), headed by its id (e.g.
  `cs01_job_loss`): the assignment total in
  points (autograded plus manually graded, minus any late penalty), with a decimal point. Map each
  to a grade item whose maximum grade equals the assignment's maximum (listed by `coordkit export`).
  A cell is left empty (Moodle leaves that grade unchanged) when the trainee did not submit, or
  when written answers still await manual grading (unless partial=True).
- `Feedback: <assignment>` (feedback=True only): one line saying what the total covers; map it
  to "Feedback for <grade item>".

The file is UTF-8 (no byte-order mark), comma-separated, with a header row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .errors import AssignmentError, OutputError

ID_COLUMN = "ID number"
EMAIL_COLUMN = "Email address"
FORMATS = ("csv", "moodle")


@dataclass
class MoodleTable:
    frame: object                                   # pandas.DataFrame, one row per trainee
    max_scores: dict[str, float] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)      # totals left empty: awaiting manual grading


@dataclass
class ExportResult:
    path: Path
    format: str
    rows: int
    max_scores: dict[str, float] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def moodle_table(*, settings: Settings, assignments: list[str] | None = None, partial: bool = False,
                 feedback: bool = False) -> MoodleTable:
    """The Moodle grade-import table (see the module docstring for its columns)."""
    import pandas as pd
    from nbgrader.api import Gradebook

    from .course import course_id

    rows: dict[str, dict] = {}
    emails: dict[str, str] = {}
    table = MoodleTable(frame=None)
    with Gradebook(settings.db_url, course_id(settings)) as gb:
        known = [a.name for a in gb.assignments]
        wanted = list(assignments) if assignments else sorted(a.name for a in gb.assignments if a.submissions)
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise AssignmentError(f"no assignment {', '.join(unknown)} in the gradebook {settings.db_url}; "
                                  f"it holds: {', '.join(sorted(known)) or '(none)'}")
        for student in gb.students:
            rows[student.id] = {ID_COLUMN: student.id}
            if student.email:
                emails[student.id] = student.email
        for name in wanted:
            assignment = gb.find_assignment(name)
            table.max_scores[name] = float(assignment.max_score)
            table.pending[name] = 0
            for sub in assignment.submissions:
                penalty = sum(nb.late_submission_penalty or 0.0 for nb in sub.notebooks)
                total = max(float(sub.score) - penalty, 0.0)
                waiting = bool(sub.needs_manual_grade)
                row = rows.setdefault(sub.student_id, {ID_COLUMN: sub.student_id})
                if waiting and not partial:
                    table.pending[name] += 1
                    row[name] = ""
                else:
                    row[name] = _points(total)
                if feedback:
                    top = _points(table.max_scores[name])
                    row[f"Feedback: {name}"] = (
                        f"{_points(total)} / {top}点"
                        + ("（自動採点の分のみ。記述式は採点待ち）" if waiting else "")
                        + (f"（期限後の提出のため{_points(penalty)}点を減点）" if penalty else "")
                        + f" / {_points(total)} of {top} points"
                        + (" (autograded part only; written answers not graded yet)" if waiting else "")
                        + (f" (after a late penalty of {_points(penalty)})" if penalty else ""))
    columns = [ID_COLUMN] + ([EMAIL_COLUMN] if emails else []) + wanted
    if feedback:
        columns += [f"Feedback: {name}" for name in wanted]
    for trainee, email in emails.items():
        rows[trainee][EMAIL_COLUMN] = email
    frame = pd.DataFrame(sorted(rows.values(), key=lambda r: r[ID_COLUMN]), columns=columns).fillna("")
    table.frame = frame
    return table


def export_grades(*, settings: Settings, fmt: str = "csv", out: Path | None = None,
                  assignments: list[str] | None = None, partial: bool = False,
                  feedback: bool = False) -> ExportResult:
    """Write the per-item CSV (fmt='csv', see course.export_scores) or the Moodle grade-import CSV
    (fmt='moodle') and say where."""
    from .course import export_scores

    if fmt not in FORMATS:
        raise OutputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    result = ExportResult(path=Path(out) if out else settings.reports_dir /
                          ("scores.csv" if fmt == "csv" else "moodle_grades.csv"), format=fmt, rows=0)
    if fmt == "csv":
        frame = export_scores(settings=settings, assignments=assignments or None)
    else:
        table = moodle_table(settings=settings, assignments=assignments, partial=partial, feedback=feedback)
        frame, result.max_scores, result.pending = table.frame, table.max_scores, table.pending
    try:
        result.path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(result.path, index=False, lineterminator="\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {result.path} ({exc.strerror}); pass a writable --out") from None
    result.rows = len(frame)
    return result
