"""The nbgrader course: release, autograde, feedback and export, with the real nbgrader commands
and gradebook. coordkit adds what nbgrader lacks (progress, one-line errors, per-item export)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .banks import Bank, write_source
from .config import Settings
from .errors import OutputError, ToolError


def tool_env(settings: Settings) -> dict[str, str]:
    """The environment for nbgrader and friends: this interpreter's bin first on PATH (nbgrader
    shells out to alembic), the configured gradebook URL, a non-interactive plot backend."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["COORDKIT_DB_URL"] = settings.db_url
    env.setdefault("MPLBACKEND", "Agg")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def log_dir(settings: Settings) -> Path:
    path = settings.reports_dir / "logs"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the reports folder {settings.reports_dir} ({exc.strerror}); "
                          "choose a writable folder with --reports or fix its permissions") from None
    return path


def run_nbgrader(args: list[str], *, settings: Settings, log_name: str,
                 on_line: Callable[[str], None] | None = None) -> str:
    """Run `nbgrader <args>` in the course root; stream its log to reports/logs/<log_name>.log.
    Raises ToolError naming the log on failure."""
    log_path = log_dir(settings) / f"{log_name}.log"
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.db_url={settings.db_url}",
           f"--CourseDirectory.root={settings.course_root}"]
    lines: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ nbgrader " + " ".join(args) + "\n")
        proc = subprocess.Popen(cmd, cwd=settings.course_root, env=tool_env(settings), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            lines.append(line)
            if on_line:
                on_line(line)
        code = proc.wait()
    if code != 0:
        errors = [l.strip() for l in lines if "ERROR" in l or "Error" in l][-1:]
        detail = f": {errors[0]}" if errors else ""
        raise ToolError(f"nbgrader {args[0]} failed{detail}; see {log_path}")
    return "".join(lines)


@dataclass
class ReleaseResult:
    released: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    regenerated_sources: list[str] = field(default_factory=list)


def _newer(a: Path, b: Path) -> bool:
    return not b.exists() or a.stat().st_mtime > b.stat().st_mtime


def release_assignments(banks: Iterable[Bank], *, settings: Settings, force: bool = False,
                        progress: Callable[[str], None] | None = None) -> ReleaseResult:
    """Regenerate each source notebook from its bank (and the facts), then release it with
    `nbgrader generate_assignment`. A release newer than its source is reused."""
    result = ReleaseResult()
    for bank in banks:
        source, changed = write_source(bank, settings.course_root)
        if changed:
            result.regenerated_sources.append(bank.id)
        released = settings.course_root / "release" / bank.id / source.name
        if force or changed or _newer(source, released):
            run_nbgrader(["generate_assignment", bank.id, "--force", "--create"], settings=settings,
                         log_name=f"release_{bank.id}")
            result.released.append(bank.id)
        else:
            result.reused.append(bank.id)
        if progress:
            progress(bank.id)
    return result


def submitted_students(settings: Settings, assignment: str) -> list[str]:
    root = settings.course_root / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


_GRADED = re.compile(r"Writing \d+ bytes to .*[/\\]autograded[/\\]([^/\\]+)[/\\]")
_SKIPPED = re.compile(r"Skipping existing assignment: .*[/\\]autograded[/\\]([^/\\]+)[/\\]")


@dataclass
class GradeResult:
    assignment: str
    graded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


def autograde(assignment: str, *, settings: Settings,
              tick: Callable[[str], None] | None = None) -> GradeResult:
    """`nbgrader autograde <assignment> --create` over every submission; submissions already graded
    and not resubmitted since are reused. `tick(student)` is called as each one finishes."""
    result = GradeResult(assignment)

    def on_line(line: str) -> None:
        for pattern, bucket in ((_GRADED, result.graded), (_SKIPPED, result.reused)):
            m = pattern.search(line)
            if m and m.group(1) not in bucket:
                bucket.append(m.group(1))
                if tick:
                    tick(m.group(1))

    run_nbgrader(["autograde", assignment, "--create"], settings=settings, log_name=f"autograde_{assignment}",
                 on_line=on_line)
    return result


def generate_feedback(assignment: str, *, settings: Settings) -> Path:
    run_nbgrader(["generate_feedback", assignment], settings=settings, log_name=f"feedback_{assignment}")
    return settings.course_root / "feedback"


def export_scores(*, settings: Settings, assignments: list[str] | None = None):
    """Per-trainee, per-item scores from the gradebook, one row per graded cell:
    trainee_id, assignment, notebook, grade_id, kind (auto|manual), score, max_score, needs_manual_grade."""
    import pandas as pd
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(settings.db_url, "coordkit") as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        cell = grade.cell
                        rows.append({
                            "trainee_id": submission.student.id, "assignment": assignment.name,
                            "notebook": nb.name, "grade_id": cell.name,
                            "kind": "manual" if cell.cell_type == "markdown" else "auto",
                            "score": grade.score, "max_score": cell.max_score,
                            "needs_manual_grade": bool(grade.needs_manual_grade),
                        })
    columns = ["trainee_id", "assignment", "notebook", "grade_id", "kind", "score", "max_score",
               "needs_manual_grade"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["assignment", "trainee_id", "grade_id"]).reset_index(drop=True)
