"""Publishing final marks: nbgrader's own Grade and Comment rows carry each answer's final mark, so
Formgrader, `nbgrader export`, the feedback and `coordkit export` all show it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import MarkingError, _course, engine
from .written import Answer, rubric_cell

if TYPE_CHECKING:
    from .marks import Mark


def _publish(settings, finals: list[tuple[Answer, Mark | None]]) -> None:
    """nbgrader's own rows carry each final mark (or none: awaiting marking). Written with nbgrader's
    ORM classes in one session of our own, one query per notebook for all its students: nbgrader's
    Gradebook() runs `alembic heads` in a subprocess each time it opens (about 0.5 s) and finds one
    grade per query, too slow for a save in the marking app or a workbook of 1,600 marks."""
    from nbgrader.api import (Assignment, Comment, Grade, GradeCell, Notebook, SolutionCell, Student,
                              SubmittedAssignment, SubmittedNotebook)
    from sqlalchemy.orm import Session

    course = _course(settings)
    latest = {answer.id: (answer, final) for answer, final in finals}      # the last of repeated saves wins

    def rows(model, cell_model, assignment, notebook, students, cells):
        query = (session.query(model, cell_model.name, Student.id)
                 .join(cell_model, cell_model.id == model.cell_id)
                 .join(SubmittedNotebook, SubmittedNotebook.id == model.notebook_id)
                 .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                 .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                 .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                 .join(Student, Student.id == SubmittedAssignment.student_id)
                 .filter(Notebook.name == notebook, Assignment.name == assignment, Assignment.course_id == course,
                         Student.id.in_(students), cell_model.name.in_(cells)))
        return {(student, name): row for row, name, student in query}

    groups: dict[tuple[str, str], list] = {}
    for answer, final in latest.values():
        groups.setdefault((answer.assignment, answer.notebook), []).append((answer, final))
    with Session(engine(settings)) as session:
        for (assignment, notebook), items in groups.items():
            students = sorted({a.student for a, _ in items})
            cells = sorted({a.grade_id for a, _ in items})
            grades = rows(Grade, GradeCell, assignment, notebook, students, cells)
            comments = rows(Comment, SolutionCell, assignment, notebook, students, cells)
            for answer, final in items:
                grade, comment = grades.get((answer.student, answer.grade_id)), comments.get((answer.student, answer.grade_id))
                if grade is None or comment is None:
                    raise MarkingError(f"{answer.assignment}/{answer.grade_id} of answer {answer.id} is not in the "
                                       "gradebook; run `coordkit grade` for it first")
                if final is None:
                    grade.manual_score, grade.needs_manual_grade, comment.manual_comment = None, True, None
                else:
                    grade.manual_score, grade.needs_manual_grade = final.score, False
                    comment.manual_comment = feedback_text(settings, answer, final)
        session.commit()


def feedback_text(settings, answer: Answer, final: Mark) -> str:
    """What the trainee reads under a marked answer (nbgrader's comment, shown by Formgrader and the
    feedback): the level of each criterion with its descriptor (a 「・」 line in Japanese, its English
    indented under it), then the marker's comment. coordkit's feedback page reads this form back
    (coordkit.feedback_page.parse_feedback_text) to show it as a table; keep the two in step."""
    cell = rubric_cell(settings, answer.assignment, answer.grade_id)
    lines = []
    for crit in cell.criteria:
        points = final.levels.get(crit.id)
        level = next((lv for lv in crit.levels if lv.points == points), None)
        if level is not None:
            lines.append(f"・{crit.ja}: {points:g} / {crit.max_points:g} 点 — {level.ja}")
            if crit.en and level.en:
                lines.append(f"  {crit.en}: {points:g} / {crit.max_points:g} points — {level.en}")
    if final.comment:
        lines += ["", "講師のコメント / Marker's comment:", final.comment]
    return "\n".join(lines) or None

