"""Import paths named outside the package (released notebooks, evaluator notebooks, book pages,
_config.yml, nbgrader_config.py, deploy/) keep working when modules move (coordkit._legacy)."""

import importlib
import re
from pathlib import Path

import pytest

from coordkit import _legacy

ROOT = Path(__file__).resolve().parents[2]
PLACES = ["_config.yml", "assignments/nbgrader_config.py", "deploy", "graders/evaluation", "book",
          "assignments/source", "pyproject.toml"]
DOTTED = re.compile(r"\bcoordkit(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
FILE_NAMES = {"tex", "pdf", "html", "css", "js", "yml", "csv", "db", "json", "txt", "zip", "md", "ipynb"}


def _named_paths() -> dict[str, str]:
    found: dict[str, str] = {}
    for place in PLACES:
        path = ROOT / place
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()
                                                and p.suffix in {".py", ".yml", ".yaml", ".md", ".ipynb", ".toml", ".j2"}]
        for f in files:
            for m in DOTTED.finditer(f.read_text(encoding="utf-8", errors="replace")):
                if m.group(0).rsplit(".", 1)[1] in FILE_NAMES:      # a file name such as coordkit.tex
                    continue
                found.setdefault(m.group(0), str(f.relative_to(ROOT)))
    return found


def _resolve(dotted: str):
    """The longest importable module prefix of a dotted path, then attribute lookups for the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_path_named_outside_the_package_resolves():
    named = _named_paths()
    assert "coordkit.checks" in named          # the released notebooks' import, above all
    broken = []
    for dotted, where in sorted(named.items()):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            broken.append(f"{dotted} (named in {where}): {exc}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("old,new", sorted(_legacy.MOVED.items()) or [("coordkit.checks", "coordkit.checks")])
def test_a_moved_module_is_the_same_object_under_its_old_name(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)
