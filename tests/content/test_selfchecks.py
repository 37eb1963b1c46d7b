"""Self-check answers are spread across the options: in each edition of the book, no answer position
(first, second, ...) is right for more than 40 % of the single-choice questions. The questions are
read from the pages themselves: every `Question(...)` in a code cell (coordkit.book.selfcheck; other kinds
such as TrueFalse, MultiSelect or ShortAnswer are not single-choice and are not counted)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

MAX_SHARE = 0.40
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def _code(cell: str) -> str:
    """The Python of a MyST code cell, without its `:option:` lines."""
    lines = cell.splitlines()
    while lines and (lines[0].startswith(":") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def questions(page: Path) -> list[tuple[int, int]]:
    """(answer index, number of options or 0 if not literal) of each single-choice Question on a page."""
    found = []
    for cell in _CELL.findall(page.read_text(encoding="utf-8")):
        tree = ast.parse(_code(cell), filename=str(page))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name != "Question":
                continue
            answer = next((k.value for k in node.keywords if k.arg == "answer"), None)
            if answer is None and len(node.args) >= 3:
                answer = node.args[2]
            options = next((k.value for k in node.keywords if k.arg == "options"), None)
            if options is None and len(node.args) >= 2:
                options = node.args[1]
            try:
                index = ast.literal_eval(answer)
            except (ValueError, TypeError):
                pytest.fail(f"{page}:{node.lineno}: write the Question's answer= as a number (0 = first option)")
            count = len(options.elts) if isinstance(options, (ast.Tuple, ast.List)) else 0
            found.append((index, count))
    return found


def edition_pages(root: Path, edition: str) -> list[Path]:
    book = root / "book"
    pages = sorted(book.rglob("*.md"))
    ja = book / "ja"
    return [p for p in pages if (ja in p.parents) == (edition == "ja")]


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_no_answer_position_is_right_for_more_than_40_percent(root, edition):
    answers = Counter()
    where: dict[int, list[str]] = {}
    for page in edition_pages(root, edition):
        for index, count in questions(page):
            answers[index] += 1
            where.setdefault(index, []).append(page.stem)
    total = sum(answers.values())
    assert total >= 10, f"only {total} self-check questions found in the {edition} edition"
    worst, n = answers.most_common(1)[0]
    share = n / total
    spread = ", ".join(f"{'ABCDEFG'[i]}: {answers[i]}" for i in sorted(answers))
    pages = Counter(where[worst]).most_common(5)
    assert share <= MAX_SHARE, (
        f"{edition} edition: option {'ABCDEFG'[worst]} is the right answer to {n} of {total} self-check questions "
        f"({share:.0%}; at most {MAX_SHARE:.0%}). Spread: {spread}. Most on: {pages}")


def test_the_reader_finds_the_answer_index(tmp_path):
    page = tmp_path / "p.md"
    page.write_text('```{code-cell} ipython3\n:tags: [remove-input]\nSelfCheck("t", [\n'
                    '    Question("q", ("a", "b", "c"), answer=2),\n    Question("q2", ["a", "b"], 0, "why"),\n'
                    '    TrueFalse("q3", True)])\n```\n', encoding="utf-8")
    assert questions(page) == [(2, 3), (0, 2)]
