"""Each Training Program 1 module is a 4-hour subject: its page teaches in prose at length, has
practice beyond multiple choice, and a self-check of at least 8 questions of at least two kinds."""

import re
from pathlib import Path

import pytest

from coordkit.book.pagestats import page_stats

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "book" / "modules").glob("*.md"))
KINDS = ("Question(", "MultiSelect(", "TrueFalse(", "ShortAnswer(")


def test_there_are_fifteen_modules():
    assert len(MODULES) == 15


@pytest.mark.parametrize("name", MODULES)
def test_the_japanese_page_teaches_at_length(name):
    assert page_stats(ROOT / "book" / "ja" / "modules" / f"{name}.md").japanese_chars >= 10_000


@pytest.mark.parametrize("name", MODULES)
def test_the_english_page_teaches_at_length(name):
    assert page_stats(ROOT / "book" / "modules" / f"{name}.md").english_words >= 3_000


@pytest.mark.parametrize("edition", ["", "ja/"])
@pytest.mark.parametrize("name", MODULES)
def test_practice_and_a_self_check_of_two_kinds(name, edition):
    text = (ROOT / "book" / f"{edition}modules" / f"{name}.md").read_text(encoding="utf-8")
    assert re.search(r"^## (演習|Exercises)", text, re.M), "an exercises section"
    counts = {k: text.count(k) for k in KINDS}
    assert sum(counts.values()) >= 8 and sum(1 for v in counts.values() if v) >= 2, counts
