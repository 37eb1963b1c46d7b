"""The written answers to mark: which answers an assignment has, their pseudonymous ids, and the
trainee's text read from the submitted notebook (as text: never rendered as HTML, never run), with
the item bank and rubric that say how each is marked."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from .store import MarkingError, _course, allocation_table, engine


@dataclass(frozen=True)
class Answer:
    id: str                 # pseudonymous: what a marker sees instead of the trainee's id
    assignment: str
    student: str
    notebook: str
    grade_id: str
    text: str
    sha: str
    max_points: float


def answer_id(course_id: str, assignment: str, student: str, grade_id: str) -> str:
    digest = hashlib.sha256(f"{course_id}\0{assignment}\0{student}\0{grade_id}".encode()).hexdigest()
    return "A" + digest[:11].upper()


def _stamp(*paths: Path) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.exists())


@lru_cache(maxsize=64)
def _load_bank(items_dir: Path, facts: Path, rubrics_dir: Path, assignment: str, stamp: tuple):
    from ..banks import load_banks
    from ..facts import load_facts

    try:
        (bank,) = load_banks(items_dir, load_facts(facts), [assignment], rubrics_dir=rubrics_dir)
    except ValueError:
        raise MarkingError(f"no item bank for assignment {assignment!r} in {items_dir}") from None
    return bank


def _bank(settings, assignment: str):
    """The item bank (with its rubric), read again only when one of its files changed."""
    stamp = _stamp(settings.items_dir / f"{assignment}.yml", settings.rubrics_dir / f"{assignment}.yml",
                   settings.facts)
    return _load_bank(settings.items_dir, settings.facts, settings.rubrics_dir, assignment, stamp)


def manual_items(settings, assignment: str):
    bank = _bank(settings, assignment)
    items = [i for i in bank.items if not i.auto]
    if not items:
        raise MarkingError(f"{assignment} has no written (manually graded) answers to mark")
    return bank, items


@lru_cache(maxsize=8)
def _coursedir(root: str):
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(root=root)


def _notebook_path(settings, student: str, assignment: str, notebook: str) -> Path:
    cd = _coursedir(str(settings.course_root))
    for step in (cd.autograded_directory, cd.submitted_directory):
        path = Path(cd.format_path(step, student, assignment)) / f"{notebook}.ipynb"
        if path.is_file():
            return path
    raise MarkingError(f"no submitted notebook {notebook}.ipynb for {student} in {assignment}; "
                       "run `coordkit grade` first")


def answer_text(path: Path, grade_id: str) -> str:
    """The trainee's written answer: the cell's source, as text (never rendered as HTML)."""
    return _cells(str(path), path.stat().st_mtime_ns).get(grade_id, "")


@lru_cache(maxsize=256)
def _cells(path: str, mtime: int) -> dict[str, str]:
    import json as _json

    with open(path, encoding="utf-8") as fh:
        nb = _json.load(fh)
    out = {}
    for cell in nb.get("cells", []):
        gid = (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")
        if gid:
            source = cell.get("source", "")
            out[gid] = "".join(source) if isinstance(source, list) else str(source)
    return out


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answers(settings, assignment: str) -> list[Answer]:
    """Every written answer of every submission of `assignment` in the gradebook."""
    from nbgrader.api import Gradebook

    bank, items = manual_items(settings, assignment)
    course = _course(settings)
    with Gradebook(settings.db_url, course) as gb:
        try:
            students = sorted(s.student.id for s in gb.assignment_submissions(assignment))
        except Exception:
            raise MarkingError(f"assignment {assignment!r} is not in the gradebook {settings.db_url}; "
                               "release and grade it first") from None
    out = []
    for student in students:
        path = _notebook_path(settings, student, assignment, bank.id)
        for item in items:
            text = answer_text(path, item.grade_id)
            out.append(Answer(answer_id(course, assignment, student, item.grade_id), assignment, student,
                              bank.id, item.grade_id, text, sha(text), item.points))
    return out


def find_answers(settings, ids: list[str]) -> dict[str, Answer]:
    """The allocated answers `ids`, read as they are now (one query; each notebook read once)."""
    course = _course(settings)
    found: dict[str, Answer] = {}
    a = allocation_table.c
    with engine(settings).connect() as conn:
        rows = []
        for start in range(0, len(ids), 500):
            rows += conn.execute(sa.select(allocation_table).where(
                a.course_id == course, a.slot == 1, a.answer_id.in_(ids[start:start + 500]))).all()
    for row in rows:
        bank, _ = manual_items(settings, row.assignment)
        item = bank.item(row.grade_id)
        text = answer_text(_notebook_path(settings, row.student, row.assignment, row.notebook), row.grade_id)
        found[row.answer_id] = Answer(row.answer_id, row.assignment, row.student, row.notebook, row.grade_id,
                                      text, sha(text), item.points)
    return found


def find_answer(settings, aid: str) -> Answer:
    found = find_answers(settings, [aid])
    if aid not in found:
        raise MarkingError(f"answer {aid} is not allocated; run `coordkit mark allocate` first")
    return found[aid]


def rubric_cell(settings, assignment: str, grade_id: str):
    bank, _ = manual_items(settings, assignment)
    if bank.rubric is None:
        raise MarkingError(f"no rubric file {settings.rubrics_dir / (assignment + '.yml')}; write one first")
    return bank.rubric.cell(grade_id)
