"""Simulated lecturers for the demo and the benchmark: they mark through the same library calls as
the marking app (`save_mark`, then `moderate`), so the demo exercises the real loop.

Each written answer has a true level per criterion, from the trainee's ability (the simulator's
theta) and the criterion's difficulty; a lecturer sees it shifted by their severity (negative:
stricter) and by noise of their own. The three lecturers and their severities are fictional."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .allocation import allocate, moderation_queue, queue
from .marks import answer_status, moderate, save_mark
from .written import find_answers, rubric_cell

LECTURERS = {"lecturer_a": -0.45, "lecturer_b": 0.0, "lecturer_c": 0.4}   # fictional; severity on the logit scale
MODERATOR = "chief_lecturer"


def _noise(*parts) -> float:
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return float(np.random.default_rng(int.from_bytes(digest[:8], "little")).normal())


def _levels(cell, *, theta: float, answer: str, seed: int, shift: float, who: str) -> dict:
    out = {}
    for crit in cell.criteria:
        points = [lv.points for lv in crit.levels]
        cuts = np.linspace(-0.9, 0.9, len(points) - 1)
        true = 1.1 * theta + 0.4 * _noise(seed, "criterion", cell.grade_id, crit.id) + 0.35 * _noise(seed, answer, crit.id)
        seen = true + shift + (0.45 * _noise(seed, answer, crit.id, who) if who != MODERATOR else 0.0)
        out[crit.id] = points[int(np.searchsorted(cuts, seen))]
    return out


@dataclass
class MarkingRun:
    marked: int = 0
    double: int = 0
    moderated: int = 0
    per_marker: dict = field(default_factory=dict)


def simulate_marking(settings, assignments: list[str], *, theta: dict[str, float], seed: int,
                     lecturers: dict[str, float] = LECTURERS, double: float = 0.25, tick=None) -> MarkingRun:
    """Allocate each assignment's written answers among `lecturers` (a share `double` blind-double
    marked), have each lecturer mark their queue, then the moderator decide every answer whose two
    marks differ by more than the margin. Answers a lecturer has already marked are left as they are."""
    run = MarkingRun()
    for assignment in assignments:
        result = allocate(settings, assignment, list(lecturers), double=double, seed=seed)
        run.double += result.double_marked
        for marker, severity in lecturers.items():
            todo = [e for e in queue(settings, marker, assignment) if not e.done]
            answers = find_answers(settings, [e.answer_id for e in todo])
            for e in todo:
                a = answers[e.answer_id]
                cell = rubric_cell(settings, a.assignment, a.grade_id)
                levels = _levels(cell, theta=theta.get(a.student, 0.0), answer=a.id, seed=seed, shift=severity,
                                 who=marker)
                save_mark(settings, a.id, marker, levels, _comment(cell, levels), source="simulated", answer=a)
                run.marked += 1
                run.per_marker[marker] = run.per_marker.get(marker, 0) + 1
                if tick:
                    tick()
        for aid, marks in moderation_queue(settings, assignment):
            a = find_answers(settings, [aid])[aid]
            cell = rubric_cell(settings, a.assignment, a.grade_id)
            levels = _levels(cell, theta=theta.get(a.student, 0.0), answer=aid, seed=seed, shift=0.0, who=MODERATOR)
            scores = sorted({f"{m.marker} {m.score:g}" for m in marks})
            moderate(settings, aid, MODERATOR, levels, _comment(cell, levels),
                     reason="simulated moderation: the two marks (" + ", ".join(scores) + ") differ by more than the margin")
            run.moderated += 1
    return run


def _comment(cell, levels: dict) -> str:
    """A short comment in Japanese naming the weakest criterion (what a lecturer would write)."""
    weakest = min(cell.criteria, key=lambda c: levels[c.id] / (c.max_points or 1))
    if levels[weakest.id] >= weakest.max_points:
        return "すべての観点で基準を満たしています。"
    return f"次の点を強めましょう: {weakest.ja}"


def marking_summary(settings, assignments: list[str]) -> dict[str, int]:
    """How many written answers are final, moderated, await moderation or a second marker, or are unmarked."""
    import sqlalchemy as sa

    from .store import _course, allocation_table, engine

    a = allocation_table.c
    with engine(settings).connect() as conn:
        ids = [r.answer_id for r in conn.execute(sa.select(a.answer_id).distinct().where(
            a.course_id == _course(settings), a.assignment.in_(assignments)))]
    counts: dict[str, int] = {}
    for aid in ids:
        status = answer_status(settings, aid)[0]
        counts[status] = counts.get(status, 0) + 1
    return counts
