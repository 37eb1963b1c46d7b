"""Grades for Moodle, imported the way Moodle imports them.

`MoodleCourse` below is a model of Moodle's grade import, line by line from its code:
grade/import/csv/classes/load_data.php (CSV: update_grade_item, check_user_exists, create_feedback,
insert_grade_record, prepare_import_grade_data), grade/import/xml/lib.php (import_xml_grades) and
grade/import/lib.php (grade_import_commit), with lib/dml's get_record (several matches: the first,
plus a debugging notice) and grade_item::bounded_grade (a grade above the item's maximum is cut down).
Each test exports from a small nbgrader gradebook, imports the file into a Moodle course that already
holds grades and feedback, and asserts what Moodle then holds.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

from coordkit.course.export import ID_COLUMN, export_grades
from coordkit.course.moodle import ExportError, MoodleXmlExportPlugin

A, B = "cs01_demo", "cs02_demo"
KEEP = object()


class ImportAborted(Exception):
    """Moodle stopped the import: nothing was written (import_cleanup)."""


@dataclass
class MoodleCourse:
    users: list[tuple[int, str]]                      # (user id, ID number) — ID numbers need not be unique
    items: dict[str, float]                           # grade item ID number -> maximum grade
    grades: dict[tuple[str, int], tuple] = field(default_factory=dict)    # (item, user id) -> (grade, feedback)
    gradepointmax: float = 100.0
    notices: list[str] = field(default_factory=list)

    def _user(self, idnumber: str) -> int:
        found = [uid for uid, number in self.users if number == idnumber]
        if not found:
            raise ImportAborted(f"usermappingerror: {idnumber}")
        if len(found) > 1:
            self.notices.append("Error: mdb->get_record() found more than one record!")
        return found[0]

    def _commit(self, buffer: list[tuple[str, int, object, object]]) -> None:
        for item, uid, grade, feedback in buffer:
            old_grade, old_feedback = self.grades.get((item, uid), (None, None))
            if grade is not KEEP and grade is not None:
                grade = min(max(grade, 0.0), self.items[item])           # bounded_grade
            self.grades[(item, uid)] = (old_grade if grade is KEEP else grade,
                                        old_feedback if feedback is None else feedback)

    def import_csv(self, text: str, mapping: dict[str, tuple[str, str | None]]) -> None:
        """mapping: CSV header -> ('useridnumber', None) | ('item', item) | ('feedback', item); unmapped
        columns are ignored, as in Moodle's mapping form."""
        text = text.removeprefix("\ufeff")                  # csv_import_reader drops a UTF-8 BOM
        rows = list(csv.reader(io.StringIO(text)))
        header = [h.strip() for h in rows[0]]
        buffer = []
        for line in rows[1:]:
            if len(line) <= 1:
                continue
            uid, grades, feedbacks = None, {}, {}
            for head, value in zip(header, line):
                value = value.strip()
                kind, item = mapping.get(head, ("ignore", None))
                if kind == "useridnumber" and value:
                    uid = self._user(value)
                elif kind == "item":
                    if value in ("", "-"):
                        grades[item] = None                     # "no grade": erases the grade
                    else:
                        try:
                            grades[item] = float(value)
                        except ValueError:
                            raise ImportAborted("badgrade") from None
                elif kind == "feedback":
                    feedbacks[item] = value                     # '' is kept: erases the feedback
            if uid is None:
                raise ImportAborted("usermappingerrorusernotfound")
            for item, grade in grades.items():
                if grade is not None and grade > self.gradepointmax:
                    raise ImportAborted(f"gradevaluetoobig: {self.gradepointmax}")
            for item in set(grades) | set(feedbacks):
                buffer.append((item, uid, grades.get(item, KEEP), feedbacks.get(item)))
        self._commit(buffer)

    def import_xml(self, text: str) -> None:
        buffer = []
        for result in ET.fromstring(text).findall("result"):
            item = result.findtext("assignment")
            if item not in self.items:
                raise ImportAborted(f"errincorrectgradeidnumber: {item}")
            uid = self._user(result.findtext("student"))
            score = result.findtext("score")
            if score is not None and score != "-":
                try:
                    score = float(score)
                except ValueError:
                    raise ImportAborted("badgrade") from None
            else:
                score = None
            buffer.append((item, uid, score, result.findtext("feedback")))
        self._commit(buffer)


@pytest.fixture()
def course(tmp_path, settings):
    """tr001 fully graded; tr002 awaiting manual grading; tr003 late (penalty 1); tr004 did not submit cs02."""
    from nbgrader.api import Gradebook

    root = tmp_path / "assignments"
    root.mkdir()
    temp = settings.with_overrides(course_root=root, db_url=f"sqlite:///{root / 'gradebook.db'}",
                                   reports_dir=tmp_path / "reports", cohorts_dir=tmp_path / "cohorts")
    with Gradebook(temp.db_url, "default_course") as gb:
        for name in (A, B):
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            gb.add_grade_cell("q1_date", name, name, max_score=2, cell_type="code")
            gb.add_grade_cell("q2_plan", name, name, max_score=3, cell_type="markdown")
            gb.add_solution_cell("q2_plan", name, name)
        for student in ("tr001", "tr002", "tr003", "tr004"):
            gb.add_student(student)
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


def roster(tmp_path, ids, name="participants.csv"):
    path = tmp_path / name
    path.write_text("First name,Last name,ID number,Email address\n"
                    + "".join(f"N{i},L{i},{x},{x}@example.jp\n" for i, x in enumerate(ids)), encoding="utf-8")
    return path


USERS = [(11, "tr001"), (12, "tr002"), (13, "tr003"), (14, "tr004")]
IDS = [n for _, n in USERS]


def moodle_before() -> MoodleCourse:
    """A Moodle course that already holds grades and feedback entered by hand for every trainee."""
    grades = {(item, uid): (1.0, f"hand feedback {uid}") for item in (A, B) for uid, _ in USERS}
    return MoodleCourse(users=list(USERS), items={A: 5.0, B: 5.0}, grades=grades)


def csv_import(moodle: MoodleCourse, result, feedback: bool = False) -> None:
    for path in result.paths:
        item = path.stem
        mapping = {ID_COLUMN: ("useridnumber", None), item: ("item", item)}
        if feedback:
            mapping[f"Feedback: {item}"] = ("feedback", item)
        moodle.import_csv(path.read_text(encoding="utf-8"), mapping)


# -- the empty cell ----------------------------------------------------------------------------------

def test_the_model_erases_a_grade_for_an_empty_cell_as_moodle_does():
    moodle = moodle_before()
    moodle.import_csv(f"ID number,{A},Feedback: {A}\ntr002,,\n", {ID_COLUMN: ("useridnumber", None),
                      A: ("item", A), f"Feedback: {A}": ("feedback", A)})
    assert moodle.grades[(A, 12)] == (None, "")       # what the old one-table export did to 569 grades


@pytest.mark.parametrize("fmt", ["moodle", "moodle-xml"])
def test_only_ready_grades_are_written_and_the_rest_stays_as_it_was(course, tmp_path, fmt):
    result = export_grades(settings=course, fmt=fmt, roster=roster(tmp_path, IDS))
    moodle = moodle_before()
    if fmt == "moodle":
        assert all("," not in line.split(",", 1)[1] or line.split(",")[-1] for line in
                   (p.read_text(encoding="utf-8") for p in result.paths)), "an empty grade cell"
        csv_import(moodle, result)
    else:
        moodle.import_xml(result.path.read_text(encoding="utf-8"))
    assert moodle.grades[(A, 11)] == (5.0, "hand feedback 11") and moodle.grades[(B, 11)] == (3.5, "hand feedback 11")
    assert moodle.grades[(A, 13)][0] == 3.0                       # 4 - late penalty 1
    assert moodle.grades[(A, 12)] == (1.0, "hand feedback 12")    # written answer not marked yet: untouched
    assert moodle.grades[(B, 14)] == (1.0, "hand feedback 14")    # not submitted: untouched
    assert result.pending == {A: 1, B: 0} and result.rows == 4
    assert not moodle.notices


def test_csv_files_have_every_cell_filled(course, tmp_path):
    result = export_grades(settings=course, fmt="moodle", roster=roster(tmp_path, IDS), feedback=True)
    assert sorted(p.name for p in result.paths) == [f"{A}.csv", f"{B}.csv"]
    for path in result.paths:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert rows[0][:1] == [ID_COLUMN] and all(all(cell.strip() for cell in row) for row in rows[1:]), path


# -- unknown and duplicate ids ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["moodle", "moodle-xml"])
def test_an_id_moodle_does_not_know_is_an_error_naming_the_row(course, tmp_path, fmt):
    with pytest.raises(ExportError, match=r"row 3 \(cs01_demo, tr004\): ID number tr004 is not in the roster"):
        export_grades(settings=course, fmt=fmt, roster=roster(tmp_path, ["tr001", "tr003"]))
    assert not (course.reports_dir / "moodle_grades.xml").exists() and not (course.reports_dir / "moodle").exists()
    # what Moodle does with such a row: the whole import is aborted
    moodle = MoodleCourse(users=[(11, "tr001")], items={A: 5.0})
    with pytest.raises(ImportAborted, match="usermappingerror: tr004"):
        moodle.import_xml(f"<results><result><assignment>{A}</assignment><student>tr004</student>"
                          "<score>1</score></result></results>")


def test_an_id_held_by_two_users_is_an_error_naming_both(course, tmp_path):
    with pytest.raises(ExportError, match=r"row 1 \(cs01_demo, tr001\): ID number tr001 is held by 2 users .*lines 2, 6"):
        export_grades(settings=course, fmt="moodle-xml", roster=roster(tmp_path, [*IDS, "tr001"]))
    # what Moodle does: the grade goes to whichever user the database returns first
    moodle = MoodleCourse(users=[(11, "tr001"), (99, "tr001")], items={A: 5.0})
    moodle.import_xml(f"<results><result><assignment>{A}</assignment><student>tr001</student>"
                      "<score>5</score></result></results>")
    assert moodle.grades == {(A, 11): (5.0, None)} and moodle.notices


def test_the_roster_defaults_to_the_cohorts_trainees(course, tmp_path):
    with pytest.raises(ExportError, match="pass --roster"):
        export_grades(settings=course, fmt="moodle-xml")
    cohort = course.cohorts_dir / course.default_cohort
    cohort.mkdir(parents=True)
    (cohort / "trainees.csv").write_text("trainee_id,prefecture\n" + "".join(f"{i},東京都\n" for i in IDS),
                                         encoding="utf-8")
    assert export_grades(settings=course, fmt="moodle-xml").rows == 4


# -- maximum exceeded ---------------------------------------------------------------------------------

def test_a_total_above_the_maximum_is_an_error_not_a_silent_cut(course, tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, "default_course") as gb:
        for grade in gb.find_submission(B, "tr001").notebooks[0].grades:
            if grade.cell.name == "q2_plan":
                grade.manual_score = 4.5                    # a marker typed more than the criterion's 3
        gb.db.commit()
    with pytest.raises(ExportError, match=r"row 4 \(cs02_demo, tr001\): 6 points exceed the maximum 5"):
        export_grades(settings=course, fmt="moodle", roster=roster(tmp_path, IDS))
    moodle = MoodleCourse(users=list(USERS), items={B: 5.0})      # what Moodle does: cut down silently
    moodle.import_csv(f"ID number,{B}\ntr001,6\n", {ID_COLUMN: ("useridnumber", None), B: ("item", B)})
    assert moodle.grades[(B, 11)] == (5.0, None)
    with pytest.raises(ImportAborted, match="gradevaluetoobig"):    # and above the site maximum: abort
        moodle.import_csv(f"ID number,{B}\ntr001,101\n", {ID_COLUMN: ("useridnumber", None), B: ("item", B)})


# -- the feedback column ------------------------------------------------------------------------------

def test_feedback_is_written_only_when_asked_and_only_with_a_grade(course, tmp_path):
    ids = roster(tmp_path, IDS)
    moodle = moodle_before()
    moodle.import_xml(export_grades(settings=course, fmt="moodle-xml", roster=ids).path.read_text(encoding="utf-8"))
    assert moodle.grades[(A, 11)] == (5.0, "hand feedback 11")     # no <feedback>: Moodle keeps its own
    result = export_grades(settings=course, fmt="moodle-xml", roster=ids, feedback=True)
    moodle.import_xml(result.path.read_text(encoding="utf-8"))
    assert moodle.grades[(A, 13)][1].startswith("3 / 5点（期限後の提出のため1点を減点）")
    assert "after a late penalty of 1" in moodle.grades[(A, 13)][1]
    assert moodle.grades[(A, 12)] == (1.0, "hand feedback 12")     # no grade written: no feedback either
    moodle = moodle_before()
    csv_import(moodle, export_grades(settings=course, fmt="moodle", roster=ids, feedback=True), feedback=True)
    assert moodle.grades[(B, 11)][1].startswith("3.5 / 5点") and moodle.grades[(B, 14)] == (1.0, "hand feedback 14")


def test_partial_writes_the_autograded_part_and_says_so(course, tmp_path):
    result = export_grades(settings=course, fmt="moodle-xml", roster=roster(tmp_path, IDS), partial=True,
                           feedback=True)
    moodle = moodle_before()
    moodle.import_xml(result.path.read_text(encoding="utf-8"))
    assert moodle.grades[(A, 12)][0] == 2.0 and "written answers not graded yet" in moodle.grades[(A, 12)][1]


# -- Excel, and the nbgrader exporter plug-in ---------------------------------------------------------

def test_bom_for_excel_and_moodle_still_reads_it(course, tmp_path):
    ids = roster(tmp_path, IDS)
    plain = export_grades(settings=course, fmt="moodle", roster=ids, out=tmp_path / "plain")
    assert not plain.paths[0].read_bytes().startswith(b"\xef\xbb\xbf")
    marked = export_grades(settings=course, fmt="moodle", roster=ids, out=tmp_path / "excel", bom=True)
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in marked.paths)
    moodle = moodle_before()
    for path in marked.paths:
        moodle.import_csv(path.read_bytes().decode("utf-8"), {ID_COLUMN: ("useridnumber", None),
                                                               path.stem: ("item", path.stem)})
    assert moodle.grades[(A, 11)][0] == 5.0


def test_nbgrader_exporter_plugin_writes_the_same_xml(course, tmp_path):
    from nbgrader.api import Gradebook

    ids = roster(tmp_path, IDS)
    plugin = MoodleXmlExportPlugin(to=str(tmp_path / "grades.xml"), roster=str(ids))
    with Gradebook(course.db_url, "default_course") as gb:
        plugin.export(gb)
    ours = export_grades(settings=course, fmt="moodle-xml", roster=ids)
    assert (tmp_path / "grades.xml").read_text(encoding="utf-8") == ours.path.read_text(encoding="utf-8")
    plugin = MoodleXmlExportPlugin(to=str(tmp_path / "bad.xml"), roster=str(roster(tmp_path, ["tr001"], "r.csv")))
    with Gradebook(course.db_url, "default_course") as gb, pytest.raises(ExportError, match="tr003"):
        plugin.export(gb)
