"""The package layout shows the architecture (issue #15): subpackages that say what they own, no
import cycles, no module over about 500 lines, nothing imports the command line."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "coordkit"
SUBPACKAGES = ("cli", "content", "book", "course", "grading", "marking", "certification", "cohort")
TOP = {"__init__", "__main__", "_legacy", "config", "errors", "database", "checks", "demo", "rule"}
MAX_LINES = 550          # "about 500"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:            # alembic's revision scripts
            continue
        out[".".join(["coordkit", *parts])] = path
    return out


def _imports(name: str, path: Path, known: set[str], *, eager_only: bool) -> set[str]:
    """coordkit modules `name` imports (all imports, or only those run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    nodes = tree.body if eager_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                mod = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else "top"


def test_the_top_level_holds_only_the_subpackages_and_the_shared_modules():
    top_modules = {p.stem for p in PKG.glob("*.py")}
    assert top_modules <= TOP, f"move into a subpackage: {sorted(top_modules - TOP)}"
    for sub in SUBPACKAGES:
        assert (PKG / sub / "__init__.py").is_file(), sub


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_each_subpackage_says_what_it_owns_and_may_import(sub):
    doc = ast.get_docstring(ast.parse((PKG / sub / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(doc.split()) >= 25, f"coordkit.{sub}: its __init__ docstring should say what it owns and may import"
    assert "import" in doc.lower(), f"coordkit.{sub}: the docstring should say what it may import"


def test_no_module_is_over_about_500_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_import_cycle_between_modules_at_import_time():
    mods = _modules()
    known = set(mods)
    graph = {n: {m for m in _imports(n, p, known, eager_only=True)
                 if not n.startswith(m + ".")}          # a submodule importing its own package's __init__
             for n, p in mods.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_import_cycle_between_subpackages_even_through_late_imports():
    mods = _modules()
    known = set(mods)
    graph: dict[str, set[str]] = {}
    for n, p in mods.items():
        if n in ("coordkit", "coordkit.__main__", "coordkit._legacy", "coordkit.demo"):
            continue
        for m in _imports(n, p, known, eager_only=False):
            a, b = _group(n), _group(m)
            if a != b and b != "top" and m != "coordkit.demo":
                graph.setdefault(a, set()).add(b)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_nothing_below_the_command_line_imports_it():
    mods = _modules()
    known = set(mods)
    offenders = [n for n, p in mods.items() if _group(n) != "cli" and n not in ("coordkit.__main__",)
                 and any(_group(m) == "cli" for m in _imports(n, p, known, eager_only=False))]
    assert not offenders, offenders
