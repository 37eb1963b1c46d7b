"""The `coordkit` command: the top-level options and the command groups. A CoordkitError becomes one
line on stderr and exit code 1 (with --debug, its cause chain first). Heavy imports stay inside the
commands so --help is instant."""

from __future__ import annotations

import argparse
import sys

from ..errors import CoordkitError, debug_report, debug_requested
from . import certify, content, course, hub, mark


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coordkit", description=(
        "Runs the training of ISA Support Coordinators for Foreign Nationals: the book, the graded "
        "case studies and the cohort evaluation."))
    parser.add_argument("--root", help="the coordkit checkout (default: found upwards from here)")
    parser.add_argument("--debug", action="store_true",
                        help="after a one-line error, print its full cause chain with tracebacks "
                             "(also: environment variable COORDKIT_DEBUG=1)")
    parser.add_argument("--course-id", metavar="ID",
                        help="work in the course of this cohort (coordkit course create ID); default: the "
                             "checkout's own course (course_root)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    course.register(sub)
    content.register(sub)
    certify.register(sub)
    mark.register(sub)
    hub.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = debug_requested(args.debug)
    try:
        return args.func(args)
    except CoordkitError as exc:
        _print_error(str(exc), exc, debug=debug)
        return 1
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached is one line too
        sqlalchemy = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy is None or not isinstance(exc, sqlalchemy.SQLAlchemyError):
            raise
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        url = getattr(args, "db_url", None) or "the gradebook in pyproject.toml [tool.coordkit] db_url"
        _print_error(f"cannot use the database {url} ({detail}); check the URL (--db-url) and that "
                     "the database is reachable", exc, debug=debug)
        return 1
    except KeyboardInterrupt:
        print("coordkit: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def _print_error(message: str, exc: BaseException, *, debug: bool) -> None:
    """One line on stderr; with --debug (or COORDKIT_DEBUG=1) the full cause chain before it."""
    if debug:
        print(debug_report(exc), file=sys.stderr)
    print(f"coordkit: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
