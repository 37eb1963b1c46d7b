"""Easy Japanese is practised, not only taught: every sentence meant for a client follows every rule
of the checker (src/coordkit/content/easyja.py): the glossary's easy sentences, the model answers addressed
to a client (items with `audience: client`), and the easy-Japanese examples of the book's chapter on
Japanese (both editions)."""

from __future__ import annotations

import re

import pytest

from coordkit.content.banks import load_banks
from coordkit.content.easyja import check, sentences
from coordkit.content.glossary import load_glossary

CHAPTERS = ("book/domains/japanese_language.md", "book/ja/domains/japanese_language.md")


def _report(where_findings) -> str:
    return "\n".join(f"{where}: {f.rule}: {f.message_en} 「{f.sentence}」" for where, f in where_findings)


@pytest.fixture(scope="module")
def banks(settings, facts):
    return load_banks(settings.items_dir, facts, rubrics_dir=settings.rubrics_dir)


def test_every_glossary_easy_sentence_follows_every_rule(root):
    glossary = load_glossary(root / "datasets" / "glossary.yml")
    assert len(glossary) >= 100
    bad = [(e.id, f) for e in glossary for f in check(e.easy_ja)]
    assert not bad, _report(bad)


def test_model_answers_addressed_to_clients_follow_every_rule(banks):
    client = [(b.id, i) for b in banks for i in b.items if i.audience == "client"]
    cases = {bid for bid, _ in client if bid.startswith("cs")}
    assert len(cases) >= 8, f"only {sorted(cases)} have a model answer addressed to a client"
    bad = []
    for bid, item in client:
        said = sentences(item.model_answer)
        assert said, f"{bid} {item.grade_id}: empty model answer"
        bad += [(f"{bid} {item.grade_id} line {line}", f) for line, s in said for f in check(s)]
    assert not bad, _report(bad)


def _chapter_examples(text: str) -> list[str]:
    """The easy column of the example table, and the quoted notes 「…」 that stand on a line alone."""
    found, easy_col = [], None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells and any(h in ("Easy Japanese", "やさしい日本語") for h in cells):
            easy_col = next(n for n, h in enumerate(cells) if h in ("Easy Japanese", "やさしい日本語"))
            continue
        if cells and easy_col is not None and not set(cells[0]) <= set("-: "):
            found.append(cells[easy_col])
        elif not cells:
            easy_col = None
            if re.fullmatch(r"「[^」]*」", line.strip()):
                found.append(line.strip()[1:-1])
    return found


@pytest.mark.parametrize("page", CHAPTERS)
def test_the_books_easy_japanese_examples_follow_every_rule(root, page):
    examples = _chapter_examples((root / page).read_text(encoding="utf-8"))
    assert len(examples) >= 5, examples
    bad = [(page, f) for ex in examples for f in check(ex)]
    assert not bad, _report(bad)
