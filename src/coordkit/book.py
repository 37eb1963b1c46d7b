"""Building the book, and what book pages import (facts for code cells)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings, find_root, load_settings
from .errors import ToolError
from .facts import FactRegistry, load_facts


def page_facts() -> FactRegistry:
    """The facts registry, for a code cell in a book page (found from the page's folder upwards)."""
    return load_facts(load_settings(find_root()).facts)


def _first_problem(text: str) -> str:
    """The first warning or error Sphinx reported, without colour codes."""
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for marker in ("WARNING:", "ERROR:", "Error:", "Exception"):
        for line in plain.splitlines():
            if marker in line:
                return line.strip()
    lines = [l for l in plain.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "unknown error"


@dataclass(frozen=True)
class BuildResult:
    html_dir: Path
    seconds: float
    executed: int           # pages (re-)executed in this build
    log: Path

    def to_dict(self) -> dict:
        return {"html": str(self.html_dir), "seconds": round(self.seconds, 1), "executed": self.executed,
                "log": str(self.log)}


def build_book(*, settings: Settings, builder: str = "html") -> BuildResult:
    """`jupyter-book build` with warnings as errors, nitpicky references and the execution cache.
    Raises ToolError with the first warning and the log path when the build fails."""
    from .course import log_dir, tool_env

    log = log_dir(settings) / "book_build.log"
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(settings.root),
           "--path-output", str(settings.build_dir.parent), "--builder", builder,
           "--warningiserror", "--nitpick", "--keep-going"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=settings.root, env=tool_env(settings), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log.write_text("$ " + " ".join(cmd) + "\n" + proc.stdout + proc.stderr, encoding="utf-8")
    text = proc.stdout + proc.stderr
    executed = text.count("Executing:") + text.count("Executing notebook")
    if proc.returncode != 0:
        raise ToolError(f"book build failed: {_first_problem(text)}; full log: {log}")
    return BuildResult(html_dir=settings.build_dir / "html", seconds=seconds, executed=executed, log=log)
