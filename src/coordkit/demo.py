"""`coordkit demo`: one whole training cycle on a simulated cohort, from a fresh clone."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import Settings


@dataclass
class DemoResult:
    book: Path | None = None
    releases: Path | None = None
    feedback: Path | None = None
    scores: Path | None = None
    report: list[Path] = field(default_factory=list)
    headline: dict = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    marked: dict = field(default_factory=dict)
    certified: int = 0
    certificates: list = field(default_factory=list)
    verification: tuple | None = None          # (code, status) of one certificate, checked by verify_code


def run_demo(*, settings: Settings, trainees: int, seed: int, cohort: str | None = None,
             build_book_step: bool = True, say: Callable[[str], None] = print) -> DemoResult:
    from tqdm import tqdm

    from .content.banks import load_banks
    from .book import build_book
    from .cohort import headline, load_cohort
    from .course import export_scores, release_assignments, step_path
    from .errors import CoordkitError
    from .content.facts import load_facts
    from .grading import grade_cohort
    from .cohort.report import run_evaluation
    from .rule import gate_pass_marks
    from .cohort.simulate import simulate_cohort

    if trainees <= 0:
        raise CoordkitError(f"a cohort needs at least 1 trainee (got {trainees}); pass --trainees 60 "
                            "or another positive number")
    cohort = cohort or settings.default_cohort
    if settings.course_root == settings.root / "assignments" or settings.course_id == "coordkit":
        raise CoordkitError(f"the demo writes simulated trainees into its course; give it its own course "
                            f"(coordkit --course-id demo demo), not {settings.course_root}")
    if not (settings.course_root / "nbgrader_config.py").is_file():
        from .course.hub import create_course

        create_course(settings, settings.course_id)
    result = DemoResult()
    steps = 9

    def step(n: int, text: str):
        say(f"[{n}/{steps}] {text}")
        return time.perf_counter()

    facts = load_facts(settings.facts)
    banks = [b for b in load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)
             if b.cycle == "training"]          # renewal training is not part of a cohort's cycle

    t = step(1, "Building the book (warnings are errors; executed pages are cached)")
    if build_book_step:
        built = build_book(settings=settings)
        result.book = built.html_dir
        say(f"      {built.html_dir / 'index.html'} ({built.seconds:.1f} s)")
    else:
        say("      skipped (--skip-book)")
    result.seconds["book"] = time.perf_counter() - t

    t = step(2, f"Releasing {len(banks)} assignment(s) with nbgrader")
    released = release_assignments(banks, settings=settings)
    result.releases = step_path(settings, "release")
    say(f"      released: {', '.join(released.released) or '-'}; unchanged, reused: "
        f"{', '.join(released.reused) or '-'}")
    result.seconds["release"] = time.perf_counter() - t

    t = step(3, f"Simulating cohort {cohort!r}: {trainees} trainees, seed {seed}")
    with tqdm(total=trainees * len(banks), desc="Submissions", unit="notebook", dynamic_ncols=True) as bar:
        sim = simulate_cohort(banks, settings=settings, trainees=trainees, seed=seed, cohort=cohort,
                              tick=lambda: bar.update(1))
    say(f"      {sim.written} written, {sim.unchanged} unchanged; tables in {sim.out_dir}")
    result.seconds["simulate"] = time.perf_counter() - t

    t = step(4, "Autograding and generating feedback (real nbgrader gradebook)")
    graded = grade_cohort([b.id for b in banks], settings=settings)
    result.feedback = step_path(settings, "feedback")
    say(f"      graded {sum(graded.graded.values())}, reused {sum(graded.reused.values())} "
        f"(already graded, not resubmitted)")
    for line in graded.summary_lines():
        say("      " + line)
    result.seconds["grade"] = time.perf_counter() - t

    written = [b.id for b in banks if any(not i.auto for i in b.items)]
    t = step(5, "Marking written answers: three simulated lecturers, a quarter double-marked, moderation")
    from .marking.simulate import LECTURERS, marking_summary, simulate_marking

    theta = {tr.trainee_id: tr.theta for tr in sim.trainees}
    with tqdm(desc="Marks", unit="mark", dynamic_ncols=True) as bar:
        marked = simulate_marking(settings, written, theta=theta, seed=seed, tick=lambda: bar.update(1))
    states = marking_summary(settings, written)
    say(f"      {marked.marked} marks saved now by {', '.join(LECTURERS)} (severities "
        f"{', '.join(f'{v:+.2f}' for v in LECTURERS.values())}), {marked.moderated} moderated; answers: "
        + ", ".join(f"{n} {k}" for k, n in sorted(states.items())))
    result.marked = states
    result.seconds["mark"] = time.perf_counter() - t

    t = step(6, "Feedback after marking: regenerated with each written answer's levels and comment")
    from .grading.feedback_page import refresh_feedback

    # nbgrader's own GenerateFeedback: it reads the marks from the gradebook and runs nothing a trainee
    # wrote (autograding again would flag every marked answer for review, as nbgrader does on
    # resubmission); only the submissions whose marks changed since their feedback was written
    rewritten = 0
    for assignment in tqdm(written, desc="Feedback", unit="assignment", dynamic_ncols=True):
        rewritten += len(refresh_feedback(assignment, settings=settings).regenerated)
    say(f"      feedback rewritten for {rewritten} submission(s) whose marks changed "
        f"({len(written)} assignment(s) with written answers)")
    result.seconds["feedback"] = time.perf_counter() - t

    t = step(7, "Exporting per-item scores and the rubric marks from the gradebook")
    # only this cohort's submissions: the gradebook may hold others from earlier runs
    scores = export_scores(settings=settings, assignments=[b.id for b in banks])
    scores = scores[[(tid, a) in sim.submissions for tid, a in zip(scores["trainee_id"], scores["assignment"])]]
    result.scores = sim.out_dir / "scores.csv"
    scores.to_csv(result.scores, index=False, lineterminator="\n")
    say(f"      {len(scores)} rows -> {result.scores}")
    from .marking import marks_frame

    rubric = marks_frame(settings)
    rubric = rubric[[(tid, a) in sim.submissions for tid, a in zip(rubric["trainee_id"], rubric["assignment"])]]
    rubric.to_csv(sim.out_dir / "rubric_scores.csv", index=False, lineterminator="\n")
    say(f"      {len(rubric)} rubric marks (every marker, per criterion) -> {sim.out_dir / 'rubric_scores.csv'}")
    result.seconds["export"] = time.perf_counter() - t

    t = step(8, "Running the evaluation notebooks (rater agreement from the gradebook's marks)")
    report = run_evaluation(settings=settings, cohort=cohort, gradebook=True)
    result.report = report.html
    result.seconds["evaluate"] = time.perf_counter() - t

    t = step(9, "Certifying from the marks (fictional attendance and names; the demo's own register)")
    from .certification import certify_cohort
    from .certification.register import verify_code

    register_url = f"sqlite:///{settings.course_root / 'register.db'}"
    certified = certify_cohort(cohort, settings=settings, register_url=register_url, synthetic_records=True,
                               seed=seed, pdf_dir=settings.course_root / "certificates",
                               scores=result.scores)
    result.certified = len(certified.certified)
    result.certificates = sorted(certified.pdfs.values())
    codes = [c.code for c in certified.registered + certified.already]
    if codes:
        answer = verify_code(codes[0], register_url=register_url)
        result.verification = (codes[0], answer.status)
    say(f"      {result.certified} of {len(certified.decisions)} certified; certificates in "
        f"{settings.course_root / 'certificates'}")
    result.seconds["certify"] = time.perf_counter() - t
    result.headline = headline(load_cohort(sim.out_dir, name=cohort),
                               pass_mark=gate_pass_marks(settings.certification)["completion_test"])
    return result
