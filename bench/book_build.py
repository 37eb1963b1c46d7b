"""Benchmark: the book build as lecturers meet it, in one run, on a temporary copy of the repo.

  1. cold build (empty _build: every page with code cells is executed),
  2. unchanged rebuild (the execution cache and Sphinx's environment are reused),
  3. rebuild after a prose-only edit to one module page (its notebook is not re-executed).

Prints each time, the pages executed, and the ratio to the cold build. Both editions are built
when the Japanese edition is configured. Run:  python bench/book_build.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_repo(target: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if (ROOT / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target / rel)
    return target


def main() -> int:
    from coordkit.book import build_book
    from coordkit.config import load_settings

    with tempfile.TemporaryDirectory(prefix="coordkit-bench-book-") as tmp:
        repo = copy_repo(Path(tmp))
        settings = load_settings(repo)
        page = repo / "book" / "modules" / "consultation_process.md"
        if not page.is_file():
            page = sorted((repo / "book" / "modules").glob("*.md"))[0]
        runs = []
        steps = [("cold build", None), ("unchanged rebuild", None),
                 ("after a prose-only edit", lambda: page.write_text(
                     page.read_text(encoding="utf-8") + "\nA sentence added by the benchmark.\n", encoding="utf-8"))]
        for n, (name, prepare) in enumerate(steps, 1):
            if prepare:
                prepare()
            print(f"[{n}/{len(steps)}] {name} ...", flush=True)
            start = time.perf_counter()
            result = build_book(settings=settings)
            runs.append((name, time.perf_counter() - start, result.executed))
        cold = runs[0][1]
        print(f"\nBook build on this machine ({page.relative_to(repo)} edited in step 3)")
        print(f"{'build':<26}{'seconds':>9}{'executed':>10}{'ratio to cold':>15}")
        for name, seconds, executed in runs:
            print(f"{name:<26}{seconds:>9.1f}{executed:>10}{seconds / cold:>15.2f}")
        print(f"\nspeed-up of an unchanged rebuild: {cold / runs[1][1]:.1f}x; "
              f"after a prose edit: {cold / runs[2][1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
