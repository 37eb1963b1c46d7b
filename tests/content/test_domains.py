"""Static checks over the life-domain chapters (book/domains/) and the glossary page: every domain has
a chapter of the house shape, facts come only from the registry (never typed by hand), and every
{term} names a glossary entry."""

import re
from pathlib import Path

import pytest

from coordkit.content.facts import used_fact_ids
from coordkit.content.glossary import DOMAINS, load_glossary, used_terms

SECTIONS = ("Typical problems", "The rules", "Partner organisations, in order", "Red flags of a complex case",
            "A worked consultation (fictional)", "Key terms", "Sources")

# Procedural figures that must come from datasets/facts.yml through {fact}/{fact-text}, never typed:
# periods, amounts, percentages, phone lines.
HAND_TYPED = re.compile(
    r"\b\d+\s*(?:-\s*)?(?:days?|weeks?|months?|years?)\b"       # 14 days, 3-month
    r"|\d+\s*(?:日|か月|ヶ月|カ月|年)以内"                        # 14日以内
    r"|[¥￥]\s*\d|\b\d[\d,]*\s*(?:yen|円)"                        # ¥500,000, 500,000円
    r"|\d+(?:\.\d+)?\s*%"                                        # 10.9%
    r"|#\d{3,4}\b|\b0\d{1,4}-\d{1,4}-\d{3,4}\b",                 # #8008, 0120-279-889
    re.IGNORECASE)


def chapter_paths(root: Path) -> list[Path]:
    return [root / "book" / "domains" / f"{domain}.md" for domain in DOMAINS]


def all_pages(root: Path) -> list[Path]:
    return [root / "book" / "domains" / "index.md", *chapter_paths(root),
            root / "book" / "reference" / "glossary.md"]


def prose(text: str) -> str:
    """The page without roles, code and directive fences: what a reader sees as typed text."""
    text = re.sub(r"\{[\w-]+\}`[^`]*`", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    return re.sub(r"https?://\S+", " ", text)


@pytest.fixture(scope="module")
def glossary(root):
    return load_glossary(root / "datasets" / "glossary.yml")


def test_every_domain_has_a_chapter_and_nothing_else_is_there(root):
    folder = root / "book" / "domains"
    expected = {f"{d}.md" for d in DOMAINS} | {"index.md"}
    present = {p.name for p in folder.glob("*.md")}
    assert not expected - present, f"missing life-domain chapters: {sorted(expected - present)}"
    assert not present - expected, (f"unexpected pages in book/domains: {sorted(present - expected)}; "
                                    "add the domain to coordkit.content.glossary.DOMAINS or move the page")


@pytest.mark.parametrize("domain", DOMAINS)
def test_chapter_has_the_house_shape(root, domain):
    path = root / "book" / "domains" / f"{domain}.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"({domain})=\n# "), f"{path}: start with the label ({domain})= and a title"
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    missing = [s for s in SECTIONS if s not in headings]
    assert not missing, f"{path}: missing sections {missing}"
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS), f"{path}: sections out of order"
    assert re.search(r"```\{glossary-terms\} " + domain + r"\n```", text), \
        f"{path}: the Key terms section needs ```{{glossary-terms}} {domain}"
    assert re.search(r"```\{fact-sources\}\n```\s*\Z", text), f"{path}: must end with a fact-sources block"


@pytest.mark.parametrize("domain", DOMAINS)
def test_chapter_example_is_fictional_and_partners_are_ordered(root, domain):
    text = (root / "book" / "domains" / f"{domain}.md").read_text(encoding="utf-8")
    example = text.split("## A worked consultation (fictional)")[1].split("\n## ")[0]
    assert ":::{admonition}" in example, f"{domain}: the worked consultation goes in an admonition"
    names_a_person = re.search(r"\b(?:Mr|Ms|Mrs)\b", example)
    assert not names_a_person or "仮名" in example, f"{domain}: mark the person's name as a pseudonym (仮名)"
    partners = text.split("## Partner organisations, in order")[1].split("\n## ")[0]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", partners, flags=re.MULTILINE)]
    assert len(numbers) >= 3 and numbers == list(range(1, len(numbers) + 1)), \
        f"{domain}: list at least three partner organisations as a numbered list, in order"


def test_pages_use_only_known_facts(root, facts):
    for path in all_pages(root):
        unknown = used_fact_ids([path.read_text(encoding="utf-8")]) - set(facts.facts)
        assert not unknown, f"{path} cites facts not in datasets/facts.yml: {sorted(unknown)}"


def test_pages_type_no_procedural_figures_by_hand(root):
    for path in all_pages(root):
        for number, line in enumerate(prose(path.read_text(encoding="utf-8")).splitlines(), 1):
            match = HAND_TYPED.search(line)
            assert not match, (f"{path}: {match.group(0)!r} is typed by hand; take it from "
                               "datasets/facts.yml with {fact} or {fact-text}")


def test_every_term_role_names_a_glossary_entry(root, glossary):
    for path in all_pages(root):
        unknown = sorted(t for t in used_terms([path.read_text(encoding="utf-8")]) if glossary.find(t) is None)
        assert not unknown, f"{path} uses {{term}} for {unknown}, which datasets/glossary.yml does not define"


@pytest.mark.parametrize("domain", DOMAINS)
def test_chapters_use_terms_and_facts(root, domain, glossary):
    text = (root / "book" / "domains" / f"{domain}.md").read_text(encoding="utf-8")
    assert len(used_terms([text])) >= 3, f"{domain}: link key terms to the glossary with {{term}}"
    assert len(glossary.for_domain(domain)) >= 3, f"{domain}: give the domain at least three glossary entries"


def test_index_introduces_every_chapter(root):
    text = (root / "book" / "domains" / "index.md").read_text(encoding="utf-8")
    assert text.startswith("(life_domains)=\n# ")
    missing = [d for d in DOMAINS if "{ref}`" + d + "`" not in text]
    assert not missing, f"book/domains/index.md does not link to {missing}"
    assert "地続き" in text
    assert re.search(r"```\{fact-sources\}\n```\s*\Z", text)


def test_glossary_page_is_rendered_from_the_yaml(root):
    text = (root / "book" / "reference" / "glossary.md").read_text(encoding="utf-8")
    assert text.startswith("(glossary)=\n# ")
    assert "```{bilingual-glossary}\n```" in text, "the glossary page must render datasets/glossary.yml"
    assert re.search(r"```\{fact-sources\}\n```\s*\Z", text)
