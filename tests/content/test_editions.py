"""Static parity checks between the English book (_toc.yml, book/<path>.md) and the Japanese edition
(_toc_ja.yml, book/ja/<path>.md): the same pages in the same places, and on every page the same
labels, learning objectives, self-check items and answers, facts and coordkit directives. A
translation may say things differently; it may not teach, test or cite something else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coordkit.content.facts import read_yaml, used_fact_ids
from coordkit.book.extensions.edition import JA_PREFIX, counterpart

ROOT = Path(__file__).resolve().parents[2]
OBJECTIVES = {"en": "Learning objectives", "ja": "学習目標"}
# Directives whose argument and options must be the same in both editions (code cells: the language
# and options such as :tags: [remove-input]).
KEPT_DIRECTIVES = ("syllabus-unit", "glossary-terms", "fact-sources", "curriculum-map", "fact-table",
                   "bilingual-glossary", "code-cell")
JAPANESE = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
FENCE = re.compile(r"^(?P<indent> *)(?P<mark>`{3,}|:{3,})(?P<info>.*)$")


# -- reading the tables of contents and the pages ---------------------------------------------------

def toc_shape(name: str) -> list[tuple]:
    """The table of contents as a flat list: the root, each part (with whether it has a caption),
    each file with its depth."""
    toc = read_yaml(ROOT / name, what="table of contents")
    shape: list[tuple] = [("root", toc["root"])]

    def files(entries, depth):
        for entry in entries or ():
            shape.append(("file", entry["file"], depth))
            files(entry.get("sections"), depth + 1)

    for part in toc.get("parts", ()):
        shape.append(("part", bool(part.get("caption"))))
        files(part.get("chapters"), 0)
    files(toc.get("chapters"), 0)
    return shape


def toc_pages(name: str) -> list[str]:
    return [entry[1] for entry in toc_shape(name) if entry[0] in ("root", "file")]


def split_fences(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The page's text outside fenced blocks, and each fenced block as (info string, body lines).
    Inline code (`` `...` `` and ``` ``...`` ```) is blanked out of the text: a role written as an
    example inside it is not a use."""
    outside, blocks, lines = [], [], text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or not match["info"].strip() and not match["mark"].startswith("`"):
            outside.append(lines[i])
            i += 1
            continue
        mark, body = match["mark"], []
        i += 1
        while i < len(lines) and not re.match(rf"^ *{re.escape(mark[0])}{{{len(mark)},}}\s*$", lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append((match["info"].strip(), body))
        i += 1
    prose = re.sub(r"(\{[\w-]+\}`[^`]*`)|``.+?``|`[^`\n]+`", lambda m: m[1] or " ", "\n".join(outside))
    return prose, blocks


def directive(info: str) -> tuple[str, str] | None:
    match = re.match(r"^\{([\w-]+)\}\s*(.*)$", info)
    return (match[1], match[2].strip()) if match else None


def code_cells(blocks) -> list[str]:
    return ["\n".join(body) for info, body in blocks if (directive(info) or ("",))[0] == "code-cell"]


def prose_blocks(blocks) -> list[str]:
    """Bodies of directives that hold prose (admonitions and the like), without their options."""
    out = []
    for info, body in blocks:
        name = (directive(info) or ("",))[0]
        if name and name not in KEPT_DIRECTIVES:
            out.append("\n".join(line for line in body if not re.match(r"^\s*:[\w-]+:", line)))
    return out


class Page:
    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.prose, self.blocks = split_fences(self.text)
        self.code = code_cells(self.blocks)

    def header(self) -> str:
        match = re.match(r"^---\n.*?\n---\n", self.text, re.S)
        return match.group(0) if match else ""

    def labels(self) -> list[str]:
        return re.findall(r"^\(([^()\s]+)\)=\s*$", self.text, re.M)

    def objectives(self, lang: str) -> list[str]:
        """The competency codes of the objectives table, row by row (the last column)."""
        parts = re.split(r"^## (.+)$", self.text, flags=re.M)
        body = next((b for t, b in zip(parts[1::2], parts[2::2]) if t.strip() == OBJECTIVES[lang]), "")
        rows = [[c.strip() for c in line.strip().strip("|").split("|")]
                for line in body.splitlines() if line.strip().startswith("|")]
        return [row[-1] for row in rows[1:] if not set("".join(row)) <= set("-: ")]

    def questions(self) -> list[str | None]:
        """The correct answer of each Question(...) of the self-check, in order."""
        chunks = re.split(r"\bQuestion\(", "\n".join(self.code))[1:]
        return [(re.search(r"\banswer\s*=\s*(\d+)", chunk) or [None, None])[1] for chunk in chunks]

    def facts(self) -> set[str]:
        in_code = {m[1] for cell in self.code for m in re.finditer(r"\bF\[\s*['\"]([\w.]+)['\"]\s*\]", cell)}
        return used_fact_ids([self.prose, *prose_blocks(self.blocks)]) | in_code

    def directives(self) -> list[tuple]:
        out = []
        for info, body in self.blocks:
            found = directive(info)
            if found and found[0] in KEPT_DIRECTIVES:
                options = tuple(line.strip() for line in body if re.match(r"^\s*:[\w-]+:", line))
                out.append((*found, options))
        return out


def page_pairs() -> list[tuple[str, str]]:
    return [(page, counterpart(page, "en")) for page in toc_pages("_toc.yml")]


PAIRS = page_pairs() if (ROOT / "_toc_ja.yml").is_file() else []
pytestmark = pytest.mark.skipif(not PAIRS, reason="no Japanese edition (_toc_ja.yml) in this checkout")


@pytest.fixture(scope="module", params=PAIRS, ids=[en for en, _ in PAIRS])
def pair(request) -> tuple[Page, Page]:
    en, ja = request.param
    path = ROOT / f"{ja}.md"
    if not path.is_file():
        pytest.skip(f"{ja}.md is missing (test_every_english_page_has_its_japanese_page fails)")
    return Page(ROOT / f"{en}.md"), Page(path)


# -- the tables of contents ---------------------------------------------------------------------------

def test_the_japanese_toc_has_the_english_structure_page_for_page():
    def as_english(entry):
        return (*entry[:1], counterpart(entry[1], "ja"), *entry[2:]) if entry[0] in ("root", "file") else entry

    en, ja = toc_shape("_toc.yml"), [as_english(e) for e in toc_shape("_toc_ja.yml")]
    for i, (want, got) in enumerate(zip(en, ja)):
        assert want == got, (f"_toc_ja.yml entry {i} is {got}, but _toc.yml has {want} there: keep "
                             f"_toc_ja.yml in step with _toc.yml ({JA_PREFIX}<path> for book/<path>)")
    assert len(en) == len(ja), f"_toc.yml has {len(en)} entries, _toc_ja.yml {len(ja)}"


def test_every_english_page_has_its_japanese_page():
    missing = [f"{ja}.md (from {en}.md)" for en, ja in PAIRS if not (ROOT / f"{ja}.md").is_file()]
    assert not missing, f"translate these pages: {missing}"


def test_every_japanese_page_is_in_the_japanese_toc():
    listed = {f"{page}.md" for page in toc_pages("_toc_ja.yml")}
    pages = {str(p.relative_to(ROOT)) for p in (ROOT / JA_PREFIX).rglob("*.md")}
    assert not sorted(pages - listed), f"pages missing from _toc_ja.yml: {sorted(pages - listed)}"
    assert all(page.startswith(JA_PREFIX) for page in toc_pages("_toc_ja.yml")), \
        "_toc_ja.yml lists a page outside book/ja/"


# -- page by page -------------------------------------------------------------------------------------

def test_same_labels(pair):
    en, ja = pair
    assert ja.labels() == en.labels(), f"{ja.path.name}: labels {ja.labels()}; the English page has {en.labels()}"


def test_same_learning_objectives(pair):
    en, ja = pair
    assert ja.objectives("ja") == en.objectives("en"), (
        f"{ja.path}: the 学習目標 table has competencies {ja.objectives('ja')}; the English "
        f"'Learning objectives' table has {en.objectives('en')} (one row per objective, same order)")


def test_same_self_check_items_and_answers(pair):
    en, ja = pair
    assert ja.questions() == en.questions(), (
        f"{ja.path}: self-check answers {ja.questions()}; the English page has {en.questions()} "
        "(same number of Question(...) items, same answer= index)")


def test_same_facts(pair):
    en, ja = pair
    assert ja.facts() == en.facts(), (
        f"{ja.path}: facts only in Japanese {sorted(ja.facts() - en.facts())}, "
        f"only in English {sorted(en.facts() - ja.facts())}")


def test_same_directives(pair):
    en, ja = pair
    assert ja.directives() == en.directives(), (
        f"{ja.path}: directives {ja.directives()}; the English page has {en.directives()}")


def test_same_notebook_header(pair):
    en, ja = pair
    assert ja.header() == en.header(), f"{ja.path}: the jupytext/kernelspec header differs from the English page's"


def test_japanese_self_checks_show_japanese_values(pair):
    _, ja = pair
    english_call = re.compile(r"\.(?:display|statement)\((?:\s*['\"]en['\"])?\s*\)")
    english = [m.group(0) for cell in ja.code for m in english_call.finditer(cell)]
    assert not english, f"{ja.path}: {english} shows English text; write .display(\"ja\") / .statement(\"ja\")"


def test_japanese_paragraphs_are_not_broken_between_japanese_characters(pair):
    """A line break inside a paragraph becomes a space in the browser, which Japanese text must not have."""
    _, ja = pair
    broken = []
    for text in (ja.prose, *prose_blocks(ja.blocks)):
        lines = text.splitlines()
        for before, after in zip(lines, lines[1:]):
            if (re.search(f"[{JAPANESE}]$", before.rstrip()) and re.match(f"^\\s*[{JAPANESE}]", after)
                    and before.strip() and not re.match(r"^\s*(?:[-*+|#>]|\d+\.)", after)):
                broken.append(before.strip()[-15:] + " / " + after.strip()[:15])
    assert not broken, f"{ja.path}: join these lines (the break shows as a space): {broken}"
