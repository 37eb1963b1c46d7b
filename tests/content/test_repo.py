"""Static checks over the repository: the toc and the pages agree, notebooks are committed clean,
every fact a page cites exists, the bundled data matches its hash registry."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from coordkit.content.facts import used_fact_ids


def toc_files(root: Path, name: str = "_toc.yml") -> list[str]:
    toc = yaml.safe_load((root / name).read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def tracked(root: Path, pattern: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", pattern],
                         cwd=root, capture_output=True, text=True, check=True).stdout.split()
    return [root / p for p in out]


def tocs(root: Path) -> list[str]:
    return ["_toc.yml"] + (["_toc_ja.yml"] if (root / "_toc_ja.yml").is_file() else [])


def test_every_toc_entry_exists_under_book(root):
    for entry in (e for name in tocs(root) for e in toc_files(root, name)):
        assert entry.startswith("book/"), f"_toc.yml entry {entry} must start with book/"
        assert (root / f"{entry}.md").is_file(), f"_toc.yml lists {entry} but {entry}.md does not exist"


def test_every_page_is_in_the_toc(root):
    listed = {f"{e}.md" for name in tocs(root) for e in toc_files(root, name)}
    pages = {str(p.relative_to(root)) for p in (root / "book").rglob("*.md")}
    orphans = sorted(pages - listed)
    assert not orphans, f"pages not in _toc.yml (add them or delete them): {orphans}"


def test_book_has_no_notebooks(root):
    assert not list((root / "book").rglob("*.ipynb")), "book pages are MyST Markdown (.md), not .ipynb"


def test_config_excludes_every_non_book_folder(root):
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    excluded = set(config["exclude_patterns"])
    for folder in ("assignments", "graders", "datasets", "src", "tests", "bench", ".venv", "_build"):
        assert folder in excluded, f"_config.yml exclude_patterns lacks {folder}"


@pytest.mark.parametrize("folder", ["assignments/source", "graders/evaluation"])
def test_notebooks_are_committed_without_outputs(root, folder):
    notebooks = tracked(root, f"{folder}/*.ipynb") + tracked(root, f"{folder}/**/*.ipynb")
    assert notebooks, f"no notebooks found under {folder}"
    for path in set(notebooks):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path} cell {i} has outputs: clear them"
                assert cell.get("execution_count") is None, f"{path} cell {i} has an execution count"


def test_nbgrader_metadata_is_sound(root):
    for path in tracked(root, "assignments/source/**/*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        ids = []
        for i, cell in enumerate(nb["cells"]):
            meta = cell.get("metadata", {}).get("nbgrader")
            assert meta is not None, f"{path} cell {i} has no nbgrader metadata"
            ids.append(meta["grade_id"])
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{path} cell {meta['grade_id']} is graded but has no points"
            if meta.get("grade") and not meta.get("solution"):
                assert meta.get("locked"), f"{path} test cell {meta['grade_id']} must be locked"
        duplicates = {g for g in ids if ids.count(g) > 1}
        assert not duplicates, f"{path}: grade_ids used twice: {duplicates}"


def test_every_cited_fact_exists(root, facts):
    pages = list((root / "book").rglob("*.md"))
    cited = used_fact_ids(p.read_text(encoding="utf-8") for p in pages)
    unknown = sorted(i for i in cited if i not in facts)
    assert cited and not unknown, f"pages cite facts missing from datasets/facts.yml: {unknown}"


def test_every_page_with_facts_lists_its_sources(root):
    for page in (root / "book").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if used_fact_ids([text]):
            assert "{fact-sources}" in text, f"{page} cites facts but has no fact-sources block"


def test_bundled_data_matches_its_hash_registry(root):
    registry = yaml.safe_load((root / "datasets" / "registry.yml").read_text(encoding="utf-8"))
    assert registry["files"], "datasets/registry.yml lists no files"
    for rel, expected in registry["files"].items():
        digest = hashlib.sha256((root / "datasets" / rel).read_bytes()).hexdigest()
        assert digest == expected, (f"datasets/{rel} changed: if on purpose, update its sha256 in "
                                    "datasets/registry.yml (python -m coordkit.cohort.datahash)")
    bundled = {str(p.relative_to(root / "datasets")) for p in (root / "datasets" / "sample").glob("*.csv")}
    assert bundled <= set(registry["files"]), f"unregistered data files: {bundled - set(registry['files'])}"
