"""Grades for Moodle, written so that an import never clears or overwrites what it does not mean to.

What Moodle's importers do (grade/import/csv/classes/load_data.php, grade/import/xml/lib.php,
grade/import/lib.php, read for this module):

- CSV import: a mapped grade column whose cell is empty or '-' is imported as "no grade" (null), which
  *erases* a grade already in Moodle; an empty feedback cell is imported as '' and erases feedback. A
  user id that matches no user aborts the whole import; an ID number held by two users is matched to
  whichever the database returns first (a debugging notice only). A grade above the site maximum
  (gradepointmax, 100 by default) aborts the import; a grade above the grade item's maximum is cut
  down to that maximum when the import is committed. Every column is mapped by hand.
- XML import (Grades > Import > XML file): a list of <result> elements, each naming the grade item by
  its ID number (<assignment>), the user by ID number (<student>), a <score> and an optional
  <feedback>. Nothing is mapped by hand; users and grade items absent from the file are untouched; a
  result without <feedback> leaves the feedback as it is. An unknown grade item or user aborts the
  import.

So coordkit writes only grades that are ready (never an empty grade cell), writes feedback only when
asked, and checks every row against the course roster first: an id the roster does not hold, an id the
roster holds twice, or a trainee written twice is an error naming the row, before anything is written.
The XML format is the one the guides recommend; it is also an nbgrader exporter plug-in
(`nbgrader export --exporter=coordkit.course.moodle.MoodleXmlExportPlugin --to grades.xml`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Unicode

from ..errors import CoordkitError

ROSTER_ID_COLUMNS = ("ID number", "idnumber", "trainee_id", "student_id")
MOODLE_SITE_MAXIMUM = 100.0        # Moodle's gradepointmax unless the site raises it


class ExportError(CoordkitError):
    """A row of a grade export cannot be imported safely (the row and the id are named)."""


@dataclass(frozen=True)
class MoodleResult:
    """One grade to import: the grade item's ID number (the assignment id), the user's ID number."""
    assignment: str
    student: str
    score: float
    max_score: float
    feedback: str | None = None      # None: leave the feedback in Moodle as it is


def points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def feedback_text(total: float, top: float, *, waiting: bool, penalty: float) -> str:
    return (f"{points(total)} / {points(top)}点"
            + ("（自動採点の分のみ。記述式は採点待ち）" if waiting else "")
            + (f"（期限後の提出のため{points(penalty)}点を減点）" if penalty else "")
            + f" / {points(total)} of {points(top)} points"
            + (" (autograded part only; written answers not graded yet)" if waiting else "")
            + (f" (after a late penalty of {points(penalty)})" if penalty else ""))


def gradebook_results(gb, *, assignments: list[str], partial: bool = False, feedback: bool = False,
                      students: list[str] | None = None) -> tuple[list[MoodleResult], dict[str, int]]:
    """The grades ready to import, from an open nbgrader Gradebook, and per assignment the number of
    totals held back because written answers still await manual grading (unless partial=True).
    A trainee who did not submit has no result, so Moodle keeps whatever it holds for them."""
    results: list[MoodleResult] = []
    pending: dict[str, int] = {}
    for name in assignments:
        assignment = gb.find_assignment(name)
        top = float(assignment.max_score)
        pending[name] = 0
        for sub in sorted(assignment.submissions, key=lambda s: s.student_id):
            if students and sub.student_id not in students:
                continue
            penalty = sum(nb.late_submission_penalty or 0.0 for nb in sub.notebooks)
            total = max(float(sub.score) - penalty, 0.0)
            waiting = bool(sub.needs_manual_grade)
            if waiting and not partial:
                pending[name] += 1
                continue
            text = feedback_text(total, top, waiting=waiting, penalty=penalty) if feedback else None
            results.append(MoodleResult(name, sub.student_id, round(total, 2), top, text))
    return results, pending


def read_roster(path: Path) -> dict[str, list[int]]:
    """ID number -> the roster's line numbers holding it (a Moodle participants or grades export, or
    any CSV with one of the columns 'ID number', 'idnumber', 'trainee_id', 'student_id')."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            column = next((c for c in ROSTER_ID_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is None:
                raise ExportError(f"the roster {path} has no ID column (one of {', '.join(ROSTER_ID_COLUMNS)}); "
                                  "download the course participants from Moodle with their ID numbers")
            ids: dict[str, list[int]] = {}
            for line, row in enumerate(reader, start=2):
                value = (row.get(column) or "").strip()
                if value:
                    ids.setdefault(value, []).append(line)
    except OSError as exc:
        raise ExportError(f"cannot read the roster {path} ({exc.strerror}); pass --roster with the "
                          "Moodle participants CSV") from None
    return ids


def check_against_roster(results: list[MoodleResult], roster: dict[str, list[int]], *, roster_name: str) -> None:
    """Raise ExportError, naming the row, for a grade Moodle would not import safely: an id not in the
    roster (Moodle aborts the import), an id held twice in the roster (Moodle would give the grade to
    either user), a trainee graded twice for one assignment, or a total above the assignment's
    maximum (Moodle cuts it down silently) or above Moodle's site maximum (Moodle aborts)."""
    seen: dict[tuple[str, str], int] = {}
    for row, result in enumerate(results, start=1):
        where = f"row {row} ({result.assignment}, {result.student})"
        lines = roster.get(result.student)
        if not lines:
            raise ExportError(f"{where}: ID number {result.student} is not in the roster {roster_name}; "
                              "Moodle would abort the whole import. Enrol the trainee in Moodle with that "
                              "ID number, or leave the trainee out (coordkit export ... --student)")
        if len(lines) > 1:
            raise ExportError(f"{where}: ID number {result.student} is held by {len(lines)} users in the roster "
                              f"{roster_name} (lines {', '.join(map(str, lines))}); Moodle would give the grade "
                              "to either one. Make the ID numbers unique in Moodle first")
        key = (result.assignment, result.student)
        if key in seen:
            raise ExportError(f"{where}: {result.student} is graded twice for {result.assignment} "
                              f"(also row {seen[key]}); Moodle would keep only the last")
        seen[key] = row
        if result.score > result.max_score + 1e-9:
            raise ExportError(f"{where}: {points(result.score)} points exceed the maximum "
                              f"{points(result.max_score)}; Moodle would cut the grade down. Check the marks "
                              "in the gradebook")
        if result.score > MOODLE_SITE_MAXIMUM:
            raise ExportError(f"{where}: {points(result.score)} points exceed Moodle's site maximum of "
                              f"{points(MOODLE_SITE_MAXIMUM)} (gradepointmax); Moodle would abort the import")


def results_xml(results: list[MoodleResult]) -> str:
    """Moodle's grade-import XML (Grades > Import > XML file)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<results>"]
    for r in results:
        lines.append("  <result>")
        lines.append(f"    <assignment>{escape(r.assignment)}</assignment>")
        lines.append(f"    <student>{escape(r.student)}</student>")
        lines.append(f"    <score>{points(r.score)}</score>")
        if r.feedback is not None:
            lines.append(f"    <feedback>{escape(r.feedback)}</feedback>")
        lines.append("  </result>")
    lines.append("</results>")
    return "\n".join(lines) + "\n"


class MoodleXmlExportPlugin(ExportPlugin):
    """nbgrader exporter plug-in: Moodle grade-import XML, checked against a roster.

    nbgrader export --exporter=coordkit.course.moodle.MoodleXmlExportPlugin --to grades.xml \\
        --MoodleXmlExportPlugin.roster=participants.csv
    """

    roster = Unicode("", help="CSV of the Moodle course's participants with their ID numbers").tag(config=True)
    partial = Bool(False, help="Also export totals whose written answers are not graded yet").tag(config=True)
    feedback = Bool(False, help="Write a feedback line per grade (otherwise Moodle's feedback is kept)").tag(
        config=True)

    def export(self, gradebook) -> None:
        dest = Path(self.to or "grades.xml")
        names = [str(a) for a in self.assignment] or sorted(a.name for a in gradebook.assignments if a.submissions)
        results, pending = gradebook_results(gradebook, assignments=names, partial=self.partial,
                                             feedback=self.feedback, students=[str(s) for s in self.student])
        if not self.roster:
            raise ExportError("pass --MoodleXmlExportPlugin.roster=<participants.csv> (the Moodle course's "
                              "participants with their ID numbers): every row is checked against it")
        check_against_roster(results, read_roster(Path(self.roster)), roster_name=self.roster)
        dest.write_text(results_xml(results), encoding="utf-8")
        self.log.info("Wrote %d grades to %s (%s held back: written answers not graded yet)", len(results), dest,
                      sum(pending.values()))
