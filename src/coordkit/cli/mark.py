"""`coordkit mark ...`: marking written answers (thin; the logic is in coordkit.marking)."""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path


def _settings(args):
    from ..config import load_settings

    from ..config import for_course

    settings = for_course(load_settings(Path(args.root) if args.root else None), getattr(args, "course_id", None))
    return settings.with_overrides(db_url=getattr(args, "db_url", None))


def _levels(text: str) -> dict:
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"{part!r}: write levels as criterion=points, e.g. coverage=2,priority=1")
        key, value = part.split("=", 1)
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number of points") from None
    return out


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share between 0 and 1 (e.g. 0.25)")
    return value


def cmd_allocate(args) -> int:
    from ..marking import allocate

    result = allocate(_settings(args), args.assignment, args.markers.split(","), double=args.double, seed=args.seed)
    print(f"{args.assignment}: {result.new_answers} answers allocated now, {result.double_marked} of them to a "
          f"second marker (blind).")
    for marker, n in result.per_marker.items():
        print(f"  {marker}: {n} answers in all")
    return 0


def cmd_status(args) -> int:
    from ..marking.core import allocation_table, answer_status, engine, queue
    import sqlalchemy as sa

    settings = _settings(args)
    with engine(settings).connect() as conn:
        query = sa.select(allocation_table.c.marker, allocation_table.c.answer_id)
        if args.assignment:
            query = query.where(allocation_table.c.assignment == args.assignment)
        rows = conn.execute(query).all()
    markers = sorted({r.marker for r in rows})
    if not markers:
        print("Nothing allocated yet: run `coordkit mark allocate <assignment> --markers a,b,c`.")
        return 0
    for m in markers:
        q = queue(settings, m, args.assignment)
        print(f"  {m}: {sum(e.done for e in q)} / {len(q)} done")
    counts: dict = {}
    for aid in sorted({r.answer_id for r in rows}):
        status = answer_status(settings, aid)[0]
        counts[status] = counts.get(status, 0) + 1
    print("Answers: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0


def cmd_export(args) -> int:
    from ..marking.workbook import export_workbook

    settings = _settings(args)
    out = Path(args.out or settings.reports_dir / "marking" / f"{args.marker}.xlsx")
    n = export_workbook(settings, args.marker, out, assignment=args.assignment)
    print(f"{n} answers of {args.marker}'s queue written to {out}. Fill the level columns (drop-downs) and the "
          f"comment, then: coordkit mark import {args.marker} {out}")
    return 0


def cmd_import(args) -> int:
    from ..marking.workbook import import_workbook

    result = import_workbook(_settings(args), args.marker, Path(args.workbook))
    print(f"{result.applied} marks saved, {result.unchanged} unchanged, {result.blank} answers left unmarked.")
    return 0


def cmd_moderate(args) -> int:
    from ..marking import moderate, moderation_queue

    settings = _settings(args)
    if args.answer:
        if not args.levels:
            raise SystemExit("coordkit mark moderate: --levels is needed with --answer")
        saved = moderate(settings, args.answer, args.moderator or os.environ.get("USER", "moderator"), args.levels,
                         args.comment or "", reason=args.reason or "")
        print(f"{saved.answer_id}: final mark {saved.final_score:g} ({saved.status}).")
        return 0
    pending = moderation_queue(settings, args.assignment)
    if not pending:
        print("No answer waits for moderation.")
        return 0
    print(f"{len(pending)} answer(s) wait for moderation (their two marks differ by more than the margin):")
    for aid, marks in pending:
        latest = {}
        for m in marks:
            latest[m.marker] = m
        shown = "; ".join(f"{m.marker} ({m.role}) {m.score:g}: " + ",".join(f"{k}={v:g}" for k, v in m.levels.items())
                          for m in latest.values())
        print(f"  {aid}  {shown}")
    print("Decide with: coordkit mark moderate --answer <id> --levels criterion=points,... --reason \"...\"")
    return 0


def cmd_history(args) -> int:
    from ..marking import answer_status

    status, final, marks = answer_status(_settings(args), args.answer)
    print(f"{args.answer}: {status}" + (f", final mark {final.score:g} by {final.marker}" if final else ""))
    for m in marks:
        reason = f"  reason: {m.reason}" if m.reason else ""
        print(f"  {m.created_at}  {m.marker:<12} {m.role:<9} {m.score:g}  {m.source:<8} "
              + ",".join(f"{k}={v:g}" for k, v in m.levels.items()) + reason)
    return 0


def cmd_scores(args) -> int:
    from ..marking import marks_frame

    settings = _settings(args)
    frame = marks_frame(settings, args.assignment)
    out = Path(args.out or settings.reports_dir / "rubric_scores.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"{len(frame)} rubric marks ({frame['rater_id'].nunique() if len(frame) else 0} raters) written to {out}")
    return 0


def cmd_feedback(args) -> int:
    from ..grading.feedback_page import refresh_marked_feedback

    results = refresh_marked_feedback(_settings(args), assignment=args.assignment)
    if not results:
        print("No answers are allocated for marking yet: nothing to refresh.")
    for result in results:
        print(f"{result.assignment}: feedback rewritten for {len(result.regenerated)} submission(s) whose marks "
              f"changed, {len(result.unchanged)} unchanged ({result.seconds:.1f} s).")
    if results:
        print("Trainees receive it with `nbgrader release_feedback <assignment>` (Formgrader: Release feedback).")
    return 0


def serve_command(settings, *, marker: str | None, port: int, token: str) -> tuple[list[str], dict]:
    """The Jupyter server (marking app and Formgrader) for one marker, on 127.0.0.1."""
    extensions = "{'coordkit.marking.app': True, 'nbgrader.server_extensions.formgrader': True}"
    cmd = [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={settings.course_root}", f"--ServerApp.jpserver_extensions={extensions}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")      # containers and CI run as root
    env = dict(os.environ, COORDKIT_ROOT=str(settings.root), COORDKIT_DB_URL=settings.db_url,
               COORDKIT_COURSE_ROOT=str(settings.course_root), COORDKIT_COURSE=settings.course_id)
    if marker:
        env["COORDKIT_MARKER"] = marker
    return cmd, env


def cmd_serve(args) -> int:
    settings = _settings(args)
    token = secrets.token_hex(16)
    cmd, env = serve_command(settings, marker=args.marker, port=args.port, token=token)
    print(f"Marking app for {args.marker}: http://127.0.0.1:{args.port}/coordkit/marking?token={token}")
    print(f"Formgrader:            http://127.0.0.1:{args.port}/formgrader?token={token}")
    print("Stop with Ctrl+C.")
    try:
        return subprocess.call(cmd, env=env, cwd=settings.course_root)
    except KeyboardInterrupt:
        return 0


def register(sub) -> None:
    mark = sub.add_parser("mark", help="mark written answers: allocate, the marking app, workbooks, moderation")
    ms = mark.add_subparsers(dest="mark_command", required=True, metavar="ACTION")

    p = ms.add_parser("allocate", help="share an assignment's written answers among markers (some blind-double)")
    p.add_argument("assignment")
    p.add_argument("--markers", required=True, help="marker names, comma-separated (e.g. sato,tanaka,lee)")
    p.add_argument("--double", type=_share, default=0.0, help="share marked twice by different markers (e.g. 0.25)")
    p.add_argument("--seed", type=int, help="random seed for a repeatable allocation")
    p.set_defaults(func=cmd_allocate)

    p = ms.add_parser("status", help="each marker's progress and the answers' states")
    p.add_argument("assignment", nargs="?")
    p.set_defaults(func=cmd_status)

    p = ms.add_parser("serve", help="start the marking app (and Formgrader) for one marker on 127.0.0.1")
    p.add_argument("--marker", required=True, help="your marker name, as given to allocate")
    p.add_argument("--port", type=int, default=8870)
    p.set_defaults(func=cmd_serve)

    p = ms.add_parser("export", help="a marker's queue as an Excel workbook, with the rubric")
    p.add_argument("marker")
    p.add_argument("--assignment")
    p.add_argument("--out", help="the .xlsx file (default reports/marking/<marker>.xlsx)")
    p.set_defaults(func=cmd_export)

    p = ms.add_parser("import", help="marks from a filled workbook (all rows, or none if any row is wrong)")
    p.add_argument("marker")
    p.add_argument("workbook")
    p.set_defaults(func=cmd_import)

    p = ms.add_parser("moderate", help="list the answers awaiting moderation, or give the final mark of one")
    p.add_argument("assignment", nargs="?")
    p.add_argument("--answer", help="answer id to moderate")
    p.add_argument("--levels", type=_levels, help="criterion=points,... for every criterion")
    p.add_argument("--reason", help="why this mark (required, kept in the history)")
    p.add_argument("--comment")
    p.add_argument("--moderator", help="your name (default: $USER)")
    p.set_defaults(func=cmd_moderate)

    p = ms.add_parser("history", help="every mark an answer was given: who, when, what")
    p.add_argument("answer")
    p.set_defaults(func=cmd_history)

    p = ms.add_parser("scores", help="every marker's marks per criterion (rubric_scores.csv, for rater agreement)")
    p.add_argument("assignment", nargs="?")
    p.add_argument("--out")
    p.set_defaults(func=cmd_scores)

    p = ms.add_parser("feedback", help="rewrite the feedback of the submissions whose marks changed")
    p.add_argument("assignment", nargs="?", help="default: every assignment with answers allocated for marking")
    p.set_defaults(func=cmd_feedback)

    for parser in ms.choices.values():
        parser.add_argument("--db-url", help="gradebook SQLAlchemy URL (default from pyproject.toml)")
