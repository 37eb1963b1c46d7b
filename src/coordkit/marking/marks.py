"""Marks and moderation, on the gradebook database.

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

import json
from dataclasses import dataclass

import sqlalchemy as sa

from .publish import _publish
from .store import MarkingError, _course, _now, allocation_table, engine, margin, mark_table
from .written import Answer, find_answer, rubric_cell


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


def answer_status(settings, aid: str) -> tuple[str, Mark | None, list[Mark]]:
    course = _course(settings)
    with engine(settings).connect() as conn:
        marks = _marks(conn, course, aid)
        status, final = final_mark(marks, _slots(conn, course, aid), margin_points=margin(settings))
    return status, final, marks


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
