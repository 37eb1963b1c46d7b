"""`coordkit demo | simulate | release | grade | export | evaluate`: a course's cycle, from release to
the evaluation report (thin: each command calls one library function and prints)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import _banks, _check_gradebook, _positive, _settings


def cmd_demo(args) -> int:
    from ..demo import run_demo

    from dataclasses import replace

    from ..config import for_course

    live = _settings(args)
    # the demo runs in its own course (courses/demo: folder, gradebook), never in a live one
    settings = replace(for_course(live, args.course_id or "demo"), reports_dir=live.reports_dir)
    if args.db_url:
        settings = settings.with_overrides(db_url=args.db_url)
    result = run_demo(settings=settings, trainees=args.trainees or settings.default_trainees,
                      seed=args.seed if args.seed is not None else settings.default_seed,
                      cohort=args.cohort, build_book_step=not args.skip_book)
    h = result.headline
    print("\nDone. Where everything is:")
    if result.book:
        print(f"  Book (lecturers, trainees):  {result.book / 'index.html'}")
    print(f"  Releases (trainees):         {result.releases}")
    print(f"  Feedback (trainees):         {result.feedback}")
    print(f"  Per-item scores:             {result.scores}")
    for path in result.report:
        print(f"  Evaluation report:           {path}")
    print(f"\nCohort {args.cohort or settings.default_cohort}: {h['trainees']} trainees, "
          f"{h['submissions']} submissions, mean autograded score {h['mean_auto_percent']}%, "
          f"{h['at_or_above_pass_mark']} at or above {h['pass_mark_percent']:g}% (assumed pass mark), "
          f"{h['awaiting_manual_grading']} written answers awaiting manual grading, "
          f"mean module satisfaction {h['mean_satisfaction']}/5.")
    print(f"Certified from the marks: {result.certified} trainee(s); certificates (PDF): "
          f"{result.certificates[0].parent if result.certificates else '-'}")
    if result.verification:
        code, status = result.verification
        print(f"Try: coordkit verify {code} --register-url sqlite:///{settings.course_root / 'register.db'}"
              f"   ({status})")
    print("Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    return 0


def cmd_simulate(args) -> int:
    from tqdm import tqdm

    from ..cohort.simulate import simulate_cohort

    settings = _settings(args)
    banks = _banks(settings, args.assignments)
    with tqdm(total=args.trainees * len(banks), desc="Submissions", unit="notebook") as bar:
        result = simulate_cohort(banks, settings=settings, trainees=args.trainees,
                                 seed=args.seed if args.seed is not None else settings.default_seed,
                                 cohort=args.cohort, consultations=args.consultations, tick=lambda: bar.update(1))
    print(f"{result.written} submissions written, {result.unchanged} unchanged, {result.skipped} not reached "
          f"(tests and reports are submitted only by trainees who reach them)")
    for name, path in result.files.items():
        print(f"  {path}  ({result.rows[name]} rows)")
    print("Next: coordkit grade, then coordkit export --out " + str(result.out_dir / "scores.csv")
          + f", then coordkit evaluate --cohort {result.cohort}")
    return 0


def cmd_release(args) -> int:
    from ..course import release_assignments, step_path

    settings = _settings(args)
    _check_gradebook(settings)
    result = release_assignments(_banks(settings, args.assignments), settings=settings, force=args.force)
    print(f"released: {', '.join(result.released) or '-'}; unchanged: {', '.join(result.reused) or '-'} "
          f"-> {step_path(settings, 'release')}")
    return 0


def cmd_grade(args) -> int:
    from ..content.banks import bank_paths
    from ..course import step_path
    from ..errors import AssignmentError
    from ..grading import GradingError, grade_cohort
    from ..grading.sandbox import Limits

    settings = _settings(args)
    if args.course:
        course = Path(args.course).resolve()
        settings = settings.with_overrides(course_root=course,
                                           db_url=settings.db_url if args.db_url else f"sqlite:///{course / 'gradebook.db'}")
    if args.jobs is not None and args.jobs < 1:
        raise GradingError(f"--jobs {args.jobs}: give at least 1 (or leave it out: one per core)")
    known = list(bank_paths(settings.items_dir))          # the ids only: grading needs no bank parsed
    unknown = [a for a in args.assignments if a not in known]
    if unknown:
        raise AssignmentError(f"unknown assignment id(s) {', '.join(unknown)}; known: {', '.join(known) or '(none)'} "
                              f"(item banks in {settings.items_dir})")
    ids = args.assignments or known
    if args.timeout is not None and args.timeout < 1:
        raise GradingError(f"--timeout {args.timeout}: give the seconds a cell may run, at least 1 "
                           "(or leave it out: nbgrader_config.py decides, 30)")
    _check_gradebook(settings)
    limits = Limits(cell_timeout=args.timeout) if args.timeout else None
    result = grade_cohort(ids, settings=settings, jobs=args.jobs, force=args.force, limits=limits,
                          engine=args.engine)
    print("\n".join(result.summary_lines()))
    print(f"feedback: {step_path(settings, 'feedback')}")
    return 0


def cmd_export(args) -> int:
    from ..course.export import export_grades

    settings = _settings(args)
    _check_gradebook(settings)
    result = export_grades(settings=settings, fmt=args.format, out=Path(args.out) if args.out else None,
                           assignments=args.assignments or None, partial=args.partial, feedback=args.feedback,
                           roster=Path(args.roster) if args.roster else None, bom=args.bom,
                           students=args.student or None)
    print(f"{result.rows} rows -> {result.path}")
    if result.format.startswith("moodle"):
        for name, top in result.max_scores.items():
            waiting = result.pending.get(name, 0)
            print(f"  {name}: Moodle grade item (ID number {name}) maximum {top:g} points"
                  + (f"; {waiting} total(s) not written, written answers not graded yet (--partial to export them)"
                     if waiting else ""))
    return 0


def cmd_evaluate(args) -> int:
    from ..cohort.report import run_evaluation

    settings = _settings(args)
    cohort = args.cohort or settings.default_cohort
    result = run_evaluation(settings=settings, cohort=cohort, data_dir=Path(args.data) if args.data else None,
                            out_dir=Path(args.out) if args.out else None, gradebook=args.gradebook)
    print(f"report: {result.report}")
    print(f"figures: {len(result.figures)} PNG in {result.out_dir / 'figures'}")
    print(f"executed notebooks: {result.out_dir / 'notebooks'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="run a whole training cycle on a simulated cohort")
    p.add_argument("--trainees", type=_positive, help="cohort size (default 60)")
    p.add_argument("--seed", type=int, help="random seed (default 2024)")
    p.add_argument("--cohort", help="cohort id (default: sample)")
    p.add_argument("--skip-book", action="store_true", help="do not build the book")
    p.add_argument("--db-url", help="gradebook SQLAlchemy URL (default from pyproject.toml)")
    p.add_argument("--reports", help="reports folder (default reports/)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="generate a synthetic cohort: submissions and every evaluation table")
    p.add_argument("--trainees", type=_positive, default=60)
    p.add_argument("--seed", type=int)
    p.add_argument("--cohort")
    p.add_argument("--consultations", type=int,
                   help="consultation records at the trainees' counters (default 100 per trainee)")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("release", help="generate source notebooks from the item banks and release them")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--force", action="store_true", help="release again even if unchanged")
    p.add_argument("--db-url")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("grade", help="autograde every submission and generate feedback, in parallel",
                       description=(
        "Autograde and generate feedback for every submission of the given assignments (default: all), "
        "several at a time, with the real nbgrader and gradebook: each answer is read from the notebook as "
        "data and checked by the course's tests, the trainee's code is never run; then print a summary "
        "table. Submissions graded and not resubmitted since are reused; run the same command again to "
        "resume an interrupted run. Submissions that cannot be graded (damaged, wrong notebook, too "
        "large, crashing the kernel) are quarantined with their reason."))
    p.add_argument("assignments", nargs="*")
    p.add_argument("--jobs", type=int, help="submissions graded at the same time (default: one per core)")
    p.add_argument("--force", action="store_true", help="grade again even submissions already graded")
    p.add_argument("--timeout", type=int, help="seconds per cell, --engine kernel (default: nbgrader_config.py, 30)")
    p.add_argument("--engine", choices=["literal", "kernel"], default="literal", help=(
        "literal (default): read each answer as data and run only the course's tests; kernel: the previous "
        "engine, which runs the trainee's notebook in a sandboxed kernel (kept for comparison)"))
    p.add_argument("--course", help="another nbgrader course root (default: course_root in pyproject.toml); "
                                    "its gradebook is <course>/gradebook.db unless --db-url is given")
    p.add_argument("--db-url")
    p.add_argument("--reports")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("export", help="scores from the gradebook: per-item CSV, or grades for Moodle (XML or CSV)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=(
        "--format csv (default): one row per trainee, assignment and graded cell (trainee_id, assignment,\n"
        "  notebook, grade_id, kind, score, max_score, needs_manual_grade), for the evaluators.\n"
        "--format moodle-xml (recommended for Moodle): reports/moodle_grades.xml for Grades > Import > XML\n"
        "  file. Grade items are matched by their ID number (set it to the assignment id), trainees by\n"
        "  their ID number; nothing to map; anyone absent from the file keeps their grade and feedback.\n"
        "--format moodle: reports/moodle/<assignment>.csv for Grades > Import > CSV file, one file per\n"
        "  assignment: 'ID number' (map to the user field ID number), '<assignment>' (map to the grade\n"
        "  item), 'Feedback: <assignment>' with --feedback.\n"
        "Only totals that are ready are written (an empty cell would erase the grade in Moodle): none for\n"
        "a trainee who did not submit or whose written answers await marking (--partial writes those).\n"
        "Every row is checked against --roster (the Moodle participants with ID numbers; default: the\n"
        "cohort's trainees.csv) first: an unknown or duplicate ID number is an error naming the row."))
    p.add_argument("assignments", nargs="*")
    p.add_argument("--format", choices=["csv", "moodle-xml", "moodle"], default="csv",
                   help="csv (per item), moodle-xml (recommended) or moodle (CSV per assignment)")
    p.add_argument("--out", help="file, or for --format moodle a folder (default reports/scores.csv, "
                                 "reports/moodle_grades.xml, reports/moodle/)")
    p.add_argument("--roster", help="moodle: CSV of the course participants with an 'ID number' column")
    p.add_argument("--student", action="append", help="moodle: export only this trainee (repeatable)")
    p.add_argument("--bom", action="store_true", help="CSV: UTF-8 with a byte-order mark, for Excel")
    p.add_argument("--partial", action="store_true",
                   help="moodle: also export totals whose written answers are not graded yet")
    p.add_argument("--feedback", action="store_true",
                   help="moodle: write a feedback line per grade (without it Moodle keeps its feedback)")
    p.add_argument("--db-url")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("evaluate", help="run the evaluation notebooks and write one HTML report with its figures")
    p.add_argument("--cohort")
    p.add_argument("--data", help="cohort folder (default datasets/cohorts/<cohort>)")
    p.add_argument("--out", help="report folder (default reports/<cohort>)")
    p.add_argument("--gradebook", action="store_true",
                   help="read the double marks for rater agreement from the course's gradebook (the marking "
                        "tables; pick the course with --course-id) instead of rubric_scores.csv")
    p.set_defaults(func=cmd_evaluate)
