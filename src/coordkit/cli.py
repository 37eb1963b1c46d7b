"""The `coordkit` command. Thin: parse, call one library function, print. A CoordkitError becomes
one line on stderr and exit code 1. Heavy imports stay inside the commands so --help is instant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import CoordkitError


def _settings(args):
    from .config import for_course, load_settings

    settings = for_course(load_settings(Path(args.root) if args.root else None), getattr(args, "course_id", None))
    overrides = {}
    if getattr(args, "db_url", None):
        overrides["db_url"] = check_db_url(args.db_url)
    if getattr(args, "reports", None):
        overrides["reports_dir"] = Path(args.reports).resolve()
    return settings.with_overrides(**overrides)


def check_db_url(url: str) -> str:
    """A --db-url that SQLAlchemy can use, or ConfigError naming it and the fix (no traceback)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from .errors import ConfigError

    try:
        dialect = make_url(url).get_dialect()
        getattr(dialect, "import_dbapi", getattr(dialect, "dbapi", lambda: None))()
    except ArgumentError:
        raise ConfigError(f"--db-url {url!r} is not a database URL; write it like sqlite:///gradebook.db "
                          "or postgresql://user@host/coordkit") from None
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"--db-url {url!r}: its database driver is not installed ({exc}); install the "
                          "driver (e.g. pip install psycopg) or use a sqlite:/// URL") from None
    return url


def _date_arg(text: str, *, option: str):
    import datetime as dt

    from .errors import ConfigError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date in the calendar; write it as YYYY-MM-DD") from None
def _check_gradebook(settings) -> None:
    from .database import check_database

    check_database(settings.db_url, where=f"{settings.root / 'pyproject.toml'} [tool.coordkit]"
                   + (f" (course {settings.course_id})" if settings.course_id != "coordkit" else ""))


def _banks(settings, ids=None):
    from .banks import load_banks
    from .facts import load_facts

    return load_banks(settings.items_dir, load_facts(settings.facts), ids or None, rubrics_dir=settings.rubrics_dir)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive; a cohort needs at least 1 trainee")
    return value


def cmd_demo(args) -> int:
    from .demo import run_demo

    from dataclasses import replace

    from .config import for_course

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

    from .simulate import simulate_cohort

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
    from .course import release_assignments

    settings = _settings(args)
    _check_gradebook(settings)
    result = release_assignments(_banks(settings, args.assignments), settings=settings, force=args.force)
    print(f"released: {', '.join(result.released) or '-'}; unchanged: {', '.join(result.reused) or '-'} "
          f"-> {settings.course_root / 'release'}")
    return 0


def cmd_grade(args) -> int:
    from .banks import bank_paths
    from .errors import AssignmentError
    from .grading import GradingError, grade_cohort
    from .sandbox import Limits

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
    print(f"feedback: {settings.course_root / 'feedback'}")
    return 0


def cmd_export(args) -> int:
    from .export import export_grades

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
    from .report import run_evaluation

    settings = _settings(args)
    cohort = args.cohort or settings.default_cohort
    result = run_evaluation(settings=settings, cohort=cohort, data_dir=Path(args.data) if args.data else None,
                            out_dir=Path(args.out) if args.out else None)
    print(f"report: {result.report}")
    print(f"figures: {len(result.figures)} PNG in {result.out_dir / 'figures'}")
    print(f"executed notebooks: {result.out_dir / 'notebooks'}")
    return 0


def cmd_book_build(args) -> int:
    from .book import build_book

    result = build_book(settings=_settings(args))
    print(f"book: {result.html_dir / 'index.html'} ({result.seconds:.1f} s, {result.executed} page(s) executed)")
    return 0


def cmd_facts_check(args) -> int:
    from .facts import load_facts

    settings = _settings(args)
    registry = load_facts(Path(args.file) if args.file else settings.facts)
    verified = sum(1 for f in registry if f.verified is not None)
    print(f"{registry.path}: {len(registry)} facts, all with a source and a record of how they were checked "
          f"({verified} verified against the source, {len(registry) - verified} checked against something else)")
    return 0


def cmd_facts_review(args) -> int:
    import datetime as dt

    from .facts import REVIEW_KINDS, load_facts, parse_age, review_due

    settings = _settings(args)
    registry = load_facts(settings.facts)
    days = parse_age(args.older_than)
    today = _date_arg(args.today, option="--today") if args.today else dt.date.today()
    due = review_due(registry, older_than_days=days, today=today)
    if not due:
        print(f"Nothing is due: every fact was verified against its source within {days} days before {today}, "
              f"from an official source, and in force. ({len(registry)} facts)")
        return 0
    print(f"Due for review on {today} ({len(registry)} facts; review age {days} days):")
    for kind, items in due.items():
        print(f"\n{kind}: {len(items)} fact(s) — {REVIEW_KINDS[kind]}")
        for item in items:
            print(f"  {item.fact.id}  [{item.fact.source_kind}]  {item.detail}")
    return 0


def cmd_easyja_check(args) -> int:
    from .easyja import RULES, check_file, count_by_rule

    findings = check_file(args.file)
    source = "-" if args.file == "-" else args.file
    for finding in findings:
        print(finding.one_line(source))
    counts = count_by_rule(findings)
    print(f"{len(findings)} finding(s)" + (": " + ", ".join(f"{r} {counts[r]}" for r in RULES if counts[r])
                                          if findings else "; the text follows every rule"))
    return 1 if findings else 0


def cmd_easyja_annotate(args) -> int:
    import sys

    from .easyja import annotate

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    print("\n".join(annotate(line) if line.strip() else line for line in text.splitlines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coordkit", description=(
        "Runs the training of ISA Support Coordinators for Foreign Nationals: the book, the graded "
        "case studies and the cohort evaluation."))
    parser.add_argument("--root", help="the coordkit checkout (default: found upwards from here)")
    parser.add_argument("--course-id", metavar="ID",
                        help="work in the course of this cohort (coordkit course create ID); default: the "
                             "checkout's own course (course_root)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.set_defaults(func=cmd_evaluate)

    book = sub.add_parser("book", help="the curriculum book").add_subparsers(dest="book_command", required=True)
    p = book.add_parser("build", help="build the book (warnings are errors, execution cached)")
    p.add_argument("--reports")
    p.set_defaults(func=cmd_book_build)
    from . import cli_book

    cli_book.register(book)

    facts = sub.add_parser("facts", help="the facts registry").add_subparsers(dest="facts_command", required=True)
    p = facts.add_parser("check", help="validate datasets/facts.yml")
    p.add_argument("--file", help="another facts file to check")
    p.set_defaults(func=cmd_facts_check)
    p = facts.add_parser("review", help="list what is due in the registry, by kind (unread sources, third-party sources, pending rules, stale checks)")
    p.add_argument("--older-than", default="180d", help="age, e.g. 180d, 6m, 1y (default 180d)")
    p.add_argument("--today", help="reference date YYYY-MM-DD (default: today)")
    p.set_defaults(func=cmd_facts_review)

    easy = sub.add_parser("easyja", help="easy Japanese (やさしい日本語): check a text against the guideline's rules"
                          ).add_subparsers(dest="easyja_command", required=True)
    p = easy.add_parser("check", help="one line per sentence and rule broken; exit 1 if any", description=(
        "Checks every sentence of a text or Markdown file against the rules of easy Japanese for residents "
        "(在留支援のためのやさしい日本語ガイドライン): length, one clause, spaces between phrases, readings for "
        "kanji written 漢字（かんじ）, difficult words, double negatives, passive forms, relative dates."))
    p.add_argument("file", help="a UTF-8 text or Markdown file, or - for standard input")
    p.set_defaults(func=cmd_easyja_check)
    p = easy.add_parser("annotate", help="a first draft with spaces and readings added (check the readings)")
    p.add_argument("file", help="a UTF-8 text file, or - for standard input")
    p.set_defaults(func=cmd_easyja_annotate)

    from . import cli_certify

    cli_certify.register(sub)
    from . import cli_mark

    cli_mark.register(sub)
    from . import cli_hub

    cli_hub.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CoordkitError as exc:
        print(f"coordkit: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached is one line too
        sqlalchemy = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy is None or not isinstance(exc, sqlalchemy.SQLAlchemyError):
            raise
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        url = getattr(args, "db_url", None) or "the gradebook in pyproject.toml [tool.coordkit] db_url"
        print(f"coordkit: error: cannot use the database {url} ({detail}); check the URL (--db-url) and that "
              "the database is reachable", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("coordkit: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
