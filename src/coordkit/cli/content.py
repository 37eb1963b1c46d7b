"""`coordkit book | facts | easyja`: the book build and its notebooks, the facts registry, the easy
Japanese checker (thin: each command calls one library function and prints)."""

from __future__ import annotations

from pathlib import Path

from .common import _date_arg, _settings


def cmd_book_build(args) -> int:
    from ..book import build_book

    result = build_book(settings=_settings(args))
    print(f"book: {result.html_dir / 'index.html'} ({result.seconds:.1f} s, {result.executed} page(s) executed)")
    return 0


def cmd_facts_check(args) -> int:
    from ..facts import load_facts

    settings = _settings(args)
    registry = load_facts(Path(args.file) if args.file else settings.facts)
    verified = sum(1 for f in registry if f.verified is not None)
    print(f"{registry.path}: {len(registry)} facts, all with a source and a record of how they were checked "
          f"({verified} verified against the source, {len(registry) - verified} checked against something else)")
    return 0


def cmd_facts_review(args) -> int:
    import datetime as dt

    from ..facts import REVIEW_KINDS, load_facts, parse_age, review_due

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
    from ..easyja import RULES, check_file, count_by_rule

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

    from ..easyja import annotate

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    print("\n".join(annotate(line) if line.strip() else line for line in text.splitlines()))
    return 0


def register(sub) -> None:
    book = sub.add_parser("book", help="the curriculum book").add_subparsers(dest="book_command", required=True)
    p = book.add_parser("build", help="build the book (warnings are errors, execution cached)")
    p.add_argument("--reports")
    p.set_defaults(func=cmd_book_build)
    from . import book as book_group

    book_group.register(book)

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
