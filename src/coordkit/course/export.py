"""Scores out of the nbgrader gradebook: per-item scores for the evaluators, and grades for Moodle
(nbgrader itself only exports totals, and leaves LMS import to users: jupyter/nbgrader#530).

Moodle (see coordkit.course.moodle for what Moodle's importers do with each cell):

- `moodle-xml` (recommended): one file, `reports/moodle_grades.xml`, for Grades > Import > XML file.
  Each grade names its grade item by ID number (set each grade item's ID number to the assignment id,
  e.g. `cs01_job_loss`) and its trainee by ID number (the user field "ID number" = tr001 ...). Nothing
  is mapped by hand; trainees and assignments absent from the file keep what Moodle holds.
- `moodle` (CSV, Grades > Import > CSV file): one file per assignment, `reports/moodle/<id>.csv`, with
  the columns `ID number` (map it to the user field "ID number"), `<id>` (the total, map it to the
  grade item) and, with feedback=True, `Feedback: <id>`. A file holds only the trainees whose total is
  ready, because an empty grade cell would *erase* that grade in Moodle.

Either way a total is written only when it is ready: not for a trainee who did not submit, nor while
written answers await manual grading (unless partial=True). Totals are in points (autograded plus
manually graded, minus any late penalty). Feedback is written only with feedback=True (without it
Moodle keeps its feedback). Every row is checked against the roster (the Moodle course's participants
with their ID numbers; by default the cohort's trainees table) before anything is written: an unknown
or duplicate id is an error naming the row. Files are UTF-8 without BOM; bom=True adds one, so that
Excel (Japanese Windows) opens the CSV as UTF-8 rather than Shift-JIS.

Every CSV coordkit writes for people to open escapes formula injection (OWASP): a text cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading apostrophe, so
that a spreadsheet shows it as text instead of running it (see escape_formulas).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import AssignmentError, OutputError
from .moodle import (ExportError, MoodleResult, check_against_roster, gradebook_results, points, read_roster,
                     results_xml)

ID_COLUMN = "ID number"
EMAIL_COLUMN = "Email address"
FORMATS = ("csv", "moodle", "moodle-xml")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

__all__ = ["ID_COLUMN", "EMAIL_COLUMN", "FORMATS", "ExportError", "MoodleTable", "ExportResult",
           "moodle_table", "export_grades", "csv_safe"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(frame):
    """A copy of `frame` whose text cells (and column names) cannot start a spreadsheet formula: those
    starting with =, +, -, @, a tab or a carriage return get a leading apostrophe. Numbers stay
    numbers (a negative score is not text)."""
    def cell(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype).startswith(("string", "str")):
            out[column] = out[column].map(cell)
    out.columns = [cell(c) for c in out.columns]
    return out


@dataclass
class MoodleTable:
    results: list[MoodleResult] = field(default_factory=list)      # the grades that are ready, in order
    frames: dict = field(default_factory=dict)      # assignment -> pandas.DataFrame, its graded trainees only
    max_scores: dict[str, float] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)      # totals held back: awaiting manual grading


@dataclass
class ExportResult:
    path: Path                       # the file, or for the Moodle CSV the folder of per-assignment files
    format: str
    rows: int
    paths: list[Path] = field(default_factory=list)
    max_scores: dict[str, float] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)


def csv_safe(value):
    """A cell a spreadsheet will not run as a formula (a leading = + - @ gets a quote)."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def moodle_table(*, settings: Settings, assignments: list[str] | None = None, partial: bool = False,
                 feedback: bool = False, students: list[str] | None = None) -> MoodleTable:
    """The grades for Moodle that are ready (see the module docstring), and one table per assignment."""
    import pandas as pd
    from nbgrader.api import Gradebook

    from .nbgrader import course_id

    table = MoodleTable()
    emails: dict[str, str] = {}
    with Gradebook(settings.db_url, course_id(settings)) as gb:
        known = [a.name for a in gb.assignments]
        wanted = list(assignments) if assignments else sorted(a.name for a in gb.assignments if a.submissions)
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise AssignmentError(f"no assignment {', '.join(unknown)} in the gradebook {settings.db_url}; "
                                  f"it holds: {', '.join(sorted(known)) or '(none)'}")
        emails = {s.id: s.email for s in gb.students if s.email}
        table.results, table.pending = gradebook_results(gb, assignments=wanted, partial=partial,
                                                         feedback=feedback, students=students)
        table.max_scores = {name: float(gb.find_assignment(name).max_score) for name in wanted}
    for name in wanted:
        rows = []
        for r in (r for r in table.results if r.assignment == name):
            row = {ID_COLUMN: r.student}
            if emails:
                row[EMAIL_COLUMN] = emails.get(r.student, "")
            row[name] = points(r.score)
            if feedback:
                row[f"Feedback: {name}"] = r.feedback
            rows.append(row)
        columns = [ID_COLUMN] + ([EMAIL_COLUMN] if emails else []) + [name] + ([f"Feedback: {name}"] if feedback else [])
        table.frames[name] = pd.DataFrame(rows, columns=columns)
    return table


def _roster(settings: Settings, roster: Path | None) -> tuple[dict[str, list[int]], str]:
    if roster is None:
        default = settings.cohorts_dir / settings.default_cohort / "trainees.csv"
        if not default.is_file():
            raise ExportError("no roster to check the grades against: pass --roster with the Moodle course's "
                              f"participants (a CSV with an 'ID number' column); {default} does not exist either")
        roster = default
    return read_roster(Path(roster)), str(roster)


def _write(path: Path, text: str, *, encoding: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding=encoding, newline="")
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror}); pass a writable --out") from None


def _csv_text(frame) -> str:
    return frame.map(csv_safe).to_csv(index=False, lineterminator="\n")


def export_grades(*, settings: Settings, fmt: str = "csv", out: Path | None = None,
                  assignments: list[str] | None = None, partial: bool = False, feedback: bool = False,
                  roster: Path | None = None, bom: bool = False, students: list[str] | None = None) -> ExportResult:
    """Write the per-item CSV (fmt='csv', see course.export_scores), the Moodle grade-import XML
    (fmt='moodle-xml') or the Moodle grade-import CSVs, one per assignment (fmt='moodle'), and say where.
    For Moodle every row is checked against the roster first (ExportError names the row)."""
    from .nbgrader import export_scores

    if fmt not in FORMATS:
        raise OutputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    encoding = "utf-8-sig" if bom else "utf-8"
    default = {"csv": "scores.csv", "moodle": "moodle", "moodle-xml": "moodle_grades.xml"}[fmt]
    result = ExportResult(path=Path(out) if out else settings.reports_dir / default, format=fmt, rows=0)
    if fmt == "csv":
        frame = export_scores(settings=settings, assignments=assignments or None)
        _write(result.path, _csv_text(frame), encoding=encoding)
        result.rows, result.paths = len(frame), [result.path]
        return result
    table = moodle_table(settings=settings, assignments=assignments, partial=partial, feedback=feedback,
                         students=students)
    ids, name = _roster(settings, roster)
    check_against_roster(table.results, ids, roster_name=name)
    result.max_scores, result.pending, result.rows = table.max_scores, table.pending, len(table.results)
    if fmt == "moodle-xml":
        _write(result.path, results_xml(table.results), encoding="utf-8")
        result.paths = [result.path]
        return result
    folder = result.path.with_suffix("") if result.path.suffix == ".csv" else result.path
    result.path = folder
    for assignment, frame in table.frames.items():
        if len(frame):
            path = folder / f"{assignment}.csv"
            _write(path, _csv_text(frame), encoding=encoding)
            result.paths.append(path)
    return result
