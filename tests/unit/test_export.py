"""`coordkit export`: per-item CSV for the evaluators, from a small nbgrader gradebook built here (no
kernels). The Moodle formats are tested in test_moodle_import.py, against a model of Moodle's importer."""

from __future__ import annotations

import csv

import pytest

from coordkit.errors import AssignmentError
from coordkit.course.export import ID_COLUMN, export_grades, moodle_table

A, B = "cs01_demo", "cs02_demo"


@pytest.fixture(scope="module")
def course(tmp_path_factory, settings):
    """Two assignments; tr001 fully graded, tr002 awaiting manual grading, tr003 late (penalty 1)
    and with an e-mail address, tr004 did not submit cs02."""
    from nbgrader.api import Gradebook

    tmp_path = tmp_path_factory.mktemp("export")
    root = tmp_path / "assignments"
    root.mkdir()
    temp = settings.with_overrides(course_root=root, db_url=f"sqlite:///{root / 'gradebook.db'}",
                                   reports_dir=tmp_path / "reports")
    with Gradebook(temp.db_url, "default_course") as gb:
        for name in (A, B):
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            gb.add_grade_cell("q1_date", name, name, max_score=2, cell_type="code")
            gb.add_grade_cell("q2_plan", name, name, max_score=3, cell_type="markdown")
            gb.add_solution_cell("q2_plan", name, name)
        gb.add_student("tr001")
        gb.add_student("tr002")
        gb.add_student("tr003", email="tr003@example.jp")
        gb.add_student("tr004")
        marks = {("tr001", A): (2, 3), ("tr002", A): (2, None), ("tr003", A): (2, 2), ("tr004", A): (0, 1),
                 ("tr001", B): (1.5, 2)}
        for (student, name), (auto, manual) in marks.items():
            gb.add_submission(name, student)
            for grade in gb.find_submission(name, student).notebooks[0].grades:
                if grade.cell.name == "q1_date":
                    grade.auto_score, grade.needs_manual_grade = auto, False
                else:
                    grade.manual_score, grade.needs_manual_grade = manual, manual is None
        gb.find_submission_notebook(A, A, "tr003").late_submission_penalty = 1.0
        gb.db.commit()
    return temp


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_has_one_row_per_trainee_assignment_and_item(course):
    result = export_grades(settings=course, fmt="csv")
    rows = _rows(result.path)
    assert list(rows[0]) == ["trainee_id", "assignment", "notebook", "grade_id", "kind", "score", "max_score",
                             "needs_manual_grade"]
    assert len(rows) == 5 * 2 and result.rows == 10
    tr001 = {(r["assignment"], r["grade_id"]): float(r["score"]) for r in rows if r["trainee_id"] == "tr001"}
    assert tr001 == {(A, "q1_date"): 2.0, (A, "q2_plan"): 3.0, (B, "q1_date"): 1.5, (B, "q2_plan"): 2.0}
    assert {r["kind"] for r in rows if r["grade_id"] == "q2_plan"} == {"manual"}


def test_unknown_assignment_names_what_exists(course):
    with pytest.raises(AssignmentError, match=f"no assignment cs99_nope.*{A}"):
        moodle_table(settings=course, assignments=["cs99_nope"])


def test_cells_that_would_start_a_spreadsheet_formula_are_escaped(tmp_path):
    import pandas as pd

    from coordkit.course.export import escape_formulas

    frame = pd.DataFrame({"trainee_id": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "tr001"],
                          "score": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    out = escape_formulas(frame)
    assert list(out["trainee_id"]) == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "tr001"]
    assert list(out["score"]) == list(frame["score"])           # numbers stay numbers


def test_exports_escape_a_trainee_id_that_is_a_formula(course, tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, "default_course") as gb:
        gb.add_student("=cmd|' /C calc'!A0")
        gb.add_submission(A, "=cmd|' /C calc'!A0")
    try:
        path = export_grades(settings=course, fmt="csv", out=tmp_path / "csv.csv").path
        text = path.read_text(encoding="utf-8")
        assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text
        # Moodle's per-assignment CSVs: the roster lists every gradebook student, the formula id too
        with Gradebook(course.db_url, "default_course") as gb:
            ids = [s.id for s in gb.students]
        roster = tmp_path / "roster.csv"
        roster.write_text("ID number\n" + "\n".join(f'"{i}"' for i in ids) + "\n", encoding="utf-8")
        result = export_grades(settings=course, fmt="moodle", out=tmp_path / "moodle", roster=roster, partial=True)
        for path in result.paths:
            text = path.read_text(encoding="utf-8")
            assert "\n=cmd" not in text and ",=cmd" not in text
    finally:
        with Gradebook(course.db_url, "default_course") as gb:
            gb.remove_submission(A, "=cmd|' /C calc'!A0")
            gb.remove_student("=cmd|' /C calc'!A0")
