"""The hash registry of bundled data (datasets/registry.yml), pooch-style: every bundled file with
its sha256, so that a silent change to the sample cohort fails the content tests.

Regenerate after an intended change:  python -m coordkit.cohort.datahash
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HEADER = ("# sha256 of every bundled data file (pooch-style registry); tests/content checks it.\n"
          "# Regenerate after an intended change: python -m coordkit.cohort.datahash\n")
PATTERNS = ("sample/*.csv",)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_registry(datasets_dir: Path) -> Path:
    datasets_dir = Path(datasets_dir)
    files = sorted(p for pattern in PATTERNS for p in datasets_dir.glob(pattern))
    lines = [f"  {p.relative_to(datasets_dir).as_posix()}: {sha256(p)}" for p in files]
    target = datasets_dir / "registry.yml"
    target.write_text(HEADER + "files:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    from ..config import find_root

    print(write_registry(find_root() / "datasets"), file=sys.stderr)
