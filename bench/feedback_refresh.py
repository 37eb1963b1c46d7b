"""Feedback after one mark: coordkit's refresh (only the submissions whose marks changed) against
what was done before (stock `nbgrader generate_feedback <assignment> --force`, every submission), in
one run on one temporary course.

A simulated cohort (default 60 trainees, seed 2024, cs01_job_loss) is released, submitted and graded
once; its written answers are allocated to one marker. Then, `--rounds` times: one answer is marked
through the marking library (as the app saves it) and feedback is brought up to date, alternately
by each method. Both must leave the marked trainee's page showing the mark.

    python bench/feedback_refresh.py                  # 60 trainees
    python bench/feedback_refresh.py --trainees 10 --rounds 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "cs01_job_loss"


def build_course(folder: Path, trainees: int, seed: int):
    from coordkit.content.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.cohort.simulate.scratch import scratch_course
    from coordkit.content.facts import load_facts
    from coordkit.grading import grade_cohort

    settings = load_settings(ROOT)
    banks = load_banks(settings.items_dir, load_facts(settings.facts), [ASSIGNMENT], rubrics_dir=settings.rubrics_dir)
    t = time.perf_counter()
    course = scratch_course(folder, settings=settings, banks=banks, trainees=trainees, seed=seed)
    grade_cohort([ASSIGNMENT], settings=course, show_progress=False)
    print(f"course: {trainees} trainees, {ASSIGNMENT}, released, submitted and graded in "
          f"{time.perf_counter() - t:.0f} s")
    return course


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    from coordkit.course import generate_feedback
    from coordkit.grading.feedback_page import refresh_feedback
    from coordkit.marking import allocate
    from coordkit.marking.marks import save_mark
    from coordkit.marking.written import answers, rubric_cell

    with tempfile.TemporaryDirectory() as tmp:
        course = build_course(Path(tmp), args.trainees, args.seed)
        allocate(course, ASSIGNMENT, ["bench"], seed=1)
        todo = sorted(answers(course, ASSIGNMENT), key=lambda a: (a.grade_id, a.student))
        ours, stock = [], []
        for n in range(2 * args.rounds):
            answer = todo[n]
            cell = rubric_cell(course, ASSIGNMENT, answer.grade_id)
            save_mark(course, answer.id, "bench", {c.id: c.levels[-1].points for c in cell.criteria}, f"bench {n}")
            t = time.perf_counter()
            if n % 2:
                generate_feedback(ASSIGNMENT, settings=course, force=True)
                stock.append(time.perf_counter() - t)
            else:
                done = refresh_feedback(ASSIGNMENT, settings=course)
                ours.append(time.perf_counter() - t)
                assert done.regenerated == [answer.student], done
            page = (course.course_root / "feedback" / answer.student / ASSIGNMENT / f"{ASSIGNMENT}.html")
            assert f"bench {n}" in page.read_text(encoding="utf-8"), "the mark is not on the page"
        med_ours, med_stock = statistics.median(ours), statistics.median(stock)
        print(f"feedback after one mark, {args.trainees} submissions: coordkit refresh {med_ours:.2f} s "
              f"(1 submission rewritten), stock generate_feedback --force {med_stock:.2f} s "
              f"({args.trainees} rewritten); ratio {med_stock / med_ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
