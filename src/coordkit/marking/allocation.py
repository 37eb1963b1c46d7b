"""Allocation of the written answers among markers (with a random share blind double marked), and
each marker's and the moderator's queue."""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa

from .marks import Mark, _marks, _slots, final_mark
from .store import MarkingError, _course, _now, allocation_table, engine, margin, mark_table
from .written import answers


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
