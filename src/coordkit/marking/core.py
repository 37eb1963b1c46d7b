"""Allocation, marks and moderation, on the gradebook database.

The rule that makes a final mark (one place; docs/lecturer's guide repeat it):
- an answer marked once has its marker's latest mark as its final mark;
- an answer marked twice (blind: the second marker never sees the first mark) keeps the first
  marker's mark when the two totals differ by at most the margin (`marking_margin`, 1 point by
  default); otherwise it waits in the moderation queue and has no final mark;
- a moderator's mark, always with a reason, is final and overrides both.
Only a final mark reaches nbgrader (Grade.manual_score, Comment.manual_comment); until then the answer
reads "awaiting marking". Every mark is a new row: nothing is overwritten, and the history shows who
gave which mark when."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from ..errors import CoordkitError

MARGIN = 1.0
ROLES = ("first", "second", "moderator")
_meta = sa.MetaData()
allocation_table = sa.Table(
    "coordkit_allocation", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("course_id", sa.String(128), nullable=False),
    sa.Column("answer_id", sa.String(32), nullable=False),
    sa.Column("assignment", sa.String(128), nullable=False),
    sa.Column("student", sa.String(128), nullable=False),
    sa.Column("notebook", sa.String(128), nullable=False),
    sa.Column("grade_id", sa.String(128), nullable=False),
    sa.Column("slot", sa.Integer, nullable=False),             # 1: first marker, 2: blind second marker
    sa.Column("marker", sa.String(128), nullable=False),
    sa.Column("allocated_at", sa.String(32), nullable=False),
    sa.UniqueConstraint("course_id", "answer_id", "slot", name="uq_coordkit_allocation_slot"),
)
mark_table = sa.Table(
    "coordkit_mark", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("course_id", sa.String(128), nullable=False),
    sa.Column("answer_id", sa.String(32), nullable=False, index=True),
    sa.Column("marker", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("levels", sa.Text, nullable=False),              # JSON {criterion id: points}
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False, default=""),  # moderator's reason
    sa.Column("answer_sha", sa.String(64), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),        # app | workbook | api
    sa.Column("created_at", sa.String(32), nullable=False),
)


class MarkingError(CoordkitError):
    """A marking step that cannot be done as asked (the message says why and what to do)."""


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


@dataclass(frozen=True)
class Mark:
    answer_id: str
    marker: str
    role: str
    levels: dict
    score: float
    comment: str
    reason: str
    created_at: str
    source: str
    answer_sha: str


def answer_id(course_id: str, assignment: str, student: str, grade_id: str) -> str:
    digest = hashlib.sha256(f"{course_id}\0{assignment}\0{student}\0{grade_id}".encode()).hexdigest()
    return "A" + digest[:11].upper()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    engine = sa.create_engine(url, **kwargs)
    _meta.create_all(engine, checkfirst=True)
    return engine


def engine(settings) -> sa.Engine:
    return _engine(settings.db_url)


def _course(settings) -> str:
    from ..course import course_id

    return course_id(settings)


def margin(settings) -> float:
    return float(getattr(settings, "marking_margin", MARGIN))


# -- answers ----------------------------------------------------------------------------------------

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


# -- allocation -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Allocation:
    assignment: str
    new_answers: int
    double_marked: int
    per_marker: dict


def allocate(settings, assignment: str, markers: list[str], *, double: float = 0.0,
             seed: int | None = None) -> Allocation:
    """Share the answers not yet allocated among `markers` evenly (counting what each already has),
    and give a random share `double` of them to a second, different marker."""
    markers = [m.strip() for m in markers if m.strip()]
    if not markers or len(set(markers)) != len(markers):
        raise MarkingError(f"--markers needs distinct marker names, e.g. a,b,c (got {','.join(markers) or 'none'})")
    if not 0 <= double <= 1:
        raise MarkingError(f"--double is a share between 0 and 1 (got {double})")
    if double > 0 and len(markers) < 2:
        raise MarkingError("double marking needs at least two markers")
    course = _course(settings)
    every = answers(settings, assignment)
    eng = engine(settings)
    with eng.begin() as conn:
        rows = conn.execute(sa.select(allocation_table.c.answer_id, allocation_table.c.marker).where(
            allocation_table.c.course_id == course, allocation_table.c.assignment == assignment)).all()
        taken = {r.answer_id for r in rows}
        load = {m: 0 for m in markers}
        for r in rows:
            if r.marker in load:
                load[r.marker] += 1
        fresh = [a for a in every if a.id not in taken]
        rng = random.Random(seed)
        rng.shuffle(fresh)
        first: dict[str, str] = {}
        now = _now()
        records = []
        for a in fresh:
            m = min(markers, key=lambda k: (load[k], markers.index(k)))
            first[a.id] = m
            load[m] += 1
            records.append(dict(course_id=course, answer_id=a.id, assignment=a.assignment, student=a.student,
                                notebook=a.notebook, grade_id=a.grade_id, slot=1, marker=m, allocated_at=now))
        chosen = rng.sample(fresh, round(double * len(fresh))) if fresh else []
        by_id = {a.id: a for a in fresh}
        for a in chosen:
            others = [k for k in markers if k != first[a.id]]
            m = min(others, key=lambda k: (load[k], markers.index(k)))
            load[m] += 1
            records.append(dict(course_id=course, answer_id=a.id, assignment=by_id[a.id].assignment,
                                student=a.student, notebook=a.notebook, grade_id=a.grade_id, slot=2, marker=m,
                                allocated_at=now))
        if records:
            conn.execute(allocation_table.insert(), records)
    return Allocation(assignment, len(fresh), len(chosen), load)


# -- marks ------------------------------------------------------------------------------------------

def _marks(conn, course: str, aid: str) -> list[Mark]:
    return _marks_of(conn, course, [aid]).get(aid, [])


def _slots(conn, course: str, aid: str) -> dict[int, str]:
    return _slots_of(conn, course, [aid]).get(aid, {})


def final_mark(marks: list[Mark], slots: dict[int, str], *, margin_points: float) -> tuple[str, Mark | None]:
    """(status, final mark or None) by the rule in this module's docstring."""
    latest = {}
    for m in marks:
        latest[(m.role, m.marker)] = m
    moderator = [m for (role, _), m in latest.items() if role == "moderator"]
    if moderator:
        return "moderated", max(moderator, key=lambda m: m.created_at)
    first = latest.get(("first", slots.get(1)))
    if first is None:
        return "unmarked", None
    if 2 not in slots:
        return "final", first
    second = latest.get(("second", slots[2]))
    if second is None:
        return "awaiting second marker", None
    if abs(first.score - second.score) <= margin_points + 1e-9:
        return "final", first
    return "moderation", None


def validate_levels(rubric_cell, levels: dict) -> float:
    """The total of `levels` ({criterion id: points}); a missing criterion or a level the rubric does
    not have is an error that names it."""
    known = {c.id: c for c in rubric_cell.criteria}
    unknown = set(levels) - set(known)
    if unknown:
        raise MarkingError(f"criterion {sorted(unknown)[0]!r} is not in the rubric of {rubric_cell.grade_id} "
                           f"(criteria: {', '.join(known)})")
    total = 0.0
    for cid, crit in known.items():
        if cid not in levels or levels[cid] is None:
            raise MarkingError(f"choose a level for criterion {cid!r} of {rubric_cell.grade_id}")
        points = [lv.points for lv in crit.levels]
        try:
            value = float(levels[cid])
        except (TypeError, ValueError):
            raise MarkingError(f"level {levels[cid]!r} for {cid!r} is not a number; "
                               f"choose one of {', '.join(f'{p:g}' for p in points)}") from None
        if value not in points:
            raise MarkingError(f"level {value:g} is not in the rubric for {cid!r}; "
                               f"choose one of {', '.join(f'{p:g}' for p in points)}")
        total += value
    return total


def rubric_cell(settings, assignment: str, grade_id: str):
    bank, _ = manual_items(settings, assignment)
    if bank.rubric is None:
        raise MarkingError(f"no rubric file {settings.rubrics_dir / (assignment + '.yml')}; write one first")
    return bank.rubric.cell(grade_id)


@dataclass(frozen=True)
class Saved:
    answer_id: str
    status: str
    final_score: float | None


def save_mark(settings, aid: str, marker: str, levels: dict, comment: str = "", *, source: str = "api",
              expect_sha: str | None = None, answer: Answer | None = None) -> Saved:
    """Record `marker`'s mark for answer `aid` (only an answer in the marker's queue), then bring
    nbgrader's Grade and Comment to the answer's final mark."""
    course = _course(settings)
    eng = engine(settings)
    with eng.connect() as conn:
        slots = _slots(conn, course, aid)
    if not slots:
        raise MarkingError(f"answer {aid} is not allocated; run `coordkit mark allocate` first")
    mine = [s for s, m in slots.items() if m == marker]
    if not mine:
        raise MarkingError(f"answer {aid} is not in {marker}'s queue")
    role = "first" if mine[0] == 1 else "second"
    answer = answer or find_answer(settings, aid)
    if expect_sha is not None and expect_sha != answer.sha:
        raise MarkingError(f"answer {aid} was resubmitted after it was exported; mark it again from the new text")
    score = validate_levels(rubric_cell(settings, answer.assignment, answer.grade_id), levels)
    return _record(settings, answer, marker=marker, role=role, levels=levels, score=score, comment=comment,
                   reason="", source=source)


def mark_entry(settings, answer: Answer, marker: str, role: str, levels: dict, comment: str = "", *,
               source: str = "api", reason: str = "") -> tuple[Answer, dict]:
    """A checked mark ready for record_many (the levels validated against the rubric)."""
    score = validate_levels(rubric_cell(settings, answer.assignment, answer.grade_id), levels)
    return answer, dict(marker=marker, role=role, levels=levels, score=score, comment=comment, reason=reason,
                        source=source)


def moderate(settings, aid: str, moderator: str, levels: dict, comment: str = "", *, reason: str,
             source: str = "api") -> Saved:
    """The moderator's mark: final, with the reason recorded."""
    if not reason or not reason.strip():
        raise MarkingError("a moderated mark needs a reason (--reason \"...\")")
    answer = find_answer(settings, aid)
    score = validate_levels(rubric_cell(settings, answer.assignment, answer.grade_id), levels)
    return _record(settings, answer, marker=moderator, role="moderator", levels=levels, score=score,
                   comment=comment, reason=reason.strip(), source=source)


def _record(settings, answer: Answer, **mark) -> Saved:
    return record_many(settings, [(answer, mark)])[0]


def record_many(settings, marks: list[tuple[Answer, dict]]) -> list[Saved]:
    """Append marks (each: answer, and marker, role, levels, score, comment, reason, source) in one
    transaction, then bring nbgrader's rows to each answer's final mark."""
    course = _course(settings)
    now = _now()
    rows = [dict(course_id=course, answer_id=answer.id, marker=m["marker"], role=m["role"],
                 levels=json.dumps({k: float(v) for k, v in m["levels"].items()}, sort_keys=True),
                 score=m["score"], comment=m.get("comment") or "", reason=m.get("reason") or "",
                 answer_sha=answer.sha, source=m.get("source", "api"), created_at=now) for answer, m in marks]
    ids = list(dict.fromkeys(answer.id for answer, _ in marks))
    out, finals = [], []
    with engine(settings).begin() as conn:
        if rows:
            conn.execute(mark_table.insert(), rows)
        all_marks, all_slots = _marks_of(conn, course, ids), _slots_of(conn, course, ids)
        for answer, _ in marks:
            status, final = final_mark(all_marks.get(answer.id, []), all_slots.get(answer.id, {}),
                                       margin_points=margin(settings))
            out.append(Saved(answer.id, status, final.score if final else None))
            finals.append((answer, final))
    _publish(settings, finals)
    return out


def _marks_of(conn, course: str, ids: list[str]) -> dict[str, list[Mark]]:
    out: dict[str, list[Mark]] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(sa.select(mark_table).where(mark_table.c.course_id == course,
                                                        mark_table.c.answer_id.in_(ids[start:start + 500]))
                            .order_by(mark_table.c.id)).all()
        for r in rows:
            out.setdefault(r.answer_id, []).append(Mark(r.answer_id, r.marker, r.role, json.loads(r.levels), r.score,
                                                        r.comment, r.reason, r.created_at, r.source, r.answer_sha))
    return out


def _slots_of(conn, course: str, ids: list[str]) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(sa.select(allocation_table.c.answer_id, allocation_table.c.slot,
                                      allocation_table.c.marker).where(
            allocation_table.c.course_id == course, allocation_table.c.answer_id.in_(ids[start:start + 500]))).all()
        for r in rows:
            out.setdefault(r.answer_id, {})[r.slot] = r.marker
    return out


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


def answer_status(settings, aid: str) -> tuple[str, Mark | None, list[Mark]]:
    course = _course(settings)
    with engine(settings).connect() as conn:
        marks = _marks(conn, course, aid)
        status, final = final_mark(marks, _slots(conn, course, aid), margin_points=margin(settings))
    return status, final, marks


# -- queues -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueEntry:
    answer_id: str
    assignment: str
    grade_id: str
    slot: int
    done: bool


def queue(settings, marker: str, assignment: str | None = None) -> list[QueueEntry]:
    """`marker`'s own answers, in a stable order (assignment, question, pseudonymous id)."""
    course = _course(settings)
    a, m = allocation_table.c, mark_table.c
    with engine(settings).connect() as conn:
        query = sa.select(a.answer_id, a.assignment, a.grade_id, a.slot).where(a.course_id == course,
                                                                               a.marker == marker)
        if assignment:
            query = query.where(a.assignment == assignment)
        rows = conn.execute(query.order_by(a.assignment, a.grade_id, a.answer_id)).all()
        done = {r.answer_id for r in conn.execute(sa.select(m.answer_id).where(
            m.course_id == course, m.marker == marker, m.role.in_(("first", "second"))).distinct())}
    return [QueueEntry(r.answer_id, r.assignment, r.grade_id, r.slot, r.answer_id in done) for r in rows]


def moderation_queue(settings, assignment: str | None = None) -> list[tuple[str, list[Mark]]]:
    """Double-marked answers whose two marks differ by more than the margin, with both marks."""
    course = _course(settings)
    a = allocation_table.c
    with engine(settings).connect() as conn:
        query = sa.select(a.answer_id).where(a.course_id == course, a.slot == 2)
        if assignment:
            query = query.where(a.assignment == assignment)
        ids = [r.answer_id for r in conn.execute(query.order_by(a.answer_id))]
        out = []
        for aid in ids:
            marks = _marks(conn, course, aid)
            status, _ = final_mark(marks, _slots(conn, course, aid), margin_points=margin(settings))
            if status == "moderation":
                out.append((aid, marks))
    return out


def marks_frame(settings, assignment: str | None = None):
    """Every first and second marker's current mark, one row per criterion, in the shape of the
    rubric_scores table (trainee_id, assignment, grade_id, criterion, rater_id, points, max_points)."""
    import pandas as pd

    course = _course(settings)
    a, m = allocation_table.c, mark_table.c
    with engine(settings).connect() as conn:
        query = (sa.select(m.answer_id, m.marker, m.role, m.levels, m.id, a.student, a.assignment, a.grade_id)
                 .join(allocation_table, sa.and_(a.answer_id == m.answer_id, a.course_id == m.course_id, a.slot == 1))
                 .where(m.course_id == course, m.role.in_(("first", "second"))))
        if assignment:
            query = query.where(a.assignment == assignment)
        rows = conn.execute(query.order_by(m.id)).all()
    latest = {}
    for r in rows:
        latest[(r.answer_id, r.marker)] = r
    maxima: dict = {}
    out = []
    for r in latest.values():
        key = (r.assignment, r.grade_id)
        if key not in maxima:
            cell = rubric_cell(settings, r.assignment, r.grade_id)
            maxima[key] = {c.id: c.max_points for c in cell.criteria}
        for crit, points in json.loads(r.levels).items():
            out.append(dict(trainee_id=r.student, assignment=r.assignment, grade_id=r.grade_id, criterion=crit,
                            rater_id=r.marker, points=float(points), max_points=float(maxima[key][crit])))
    cols = ["trainee_id", "assignment", "grade_id", "criterion", "rater_id", "points", "max_points"]
    frame = pd.DataFrame(out, columns=cols)
    return frame.sort_values(cols[:5]).reset_index(drop=True)


def history(settings, aid: str) -> list[Mark]:
    return answer_status(settings, aid)[2]
