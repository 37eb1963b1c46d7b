"""Static checks: book/syllabus.yml against the book's pages, the TOC, the facts and the item banks,
and the common shape of every module page. (`facts` comes from tests/conftest.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coordkit.content.facts import read_yaml, used_fact_ids
from coordkit.content.syllabus import check_coverage, load_syllabus

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
MODULES = sorted((BOOK / "modules").glob("*.md"))
TEACHING = MODULES + sorted((BOOK / "program").glob("*.md"))
MODULE_SECTIONS = ("Learning objectives", "A worked consultation (fictional)", "Key terms", "Self-check", "Sources")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def syllabus():
    return load_syllabus(BOOK / "syllabus.yml")


def toc_files() -> set[str]:
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
    return set(walk(read_yaml(ROOT / "_toc.yml", what="table of contents")))


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def table_rows(body: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in body.splitlines() if line.strip().startswith("|")]
    return [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]      # drop header and rule


# -- the syllabus and the book -----------------------------------------------------------------

def test_every_unit_has_a_page_and_every_teaching_page_a_unit(syllabus):
    assert check_coverage(syllabus, book_dir=BOOK).problems() == []


def test_every_teaching_page_is_in_the_toc(syllabus):
    coverage = check_coverage(syllabus, book_dir=BOOK)
    toc = toc_files()
    missing = [f"{u.code}: {coverage.pages[stem].relative_to(ROOT).with_suffix('')}"
               for u in syllabus for stem in u.pages
               if str(coverage.pages[stem].relative_to(ROOT).with_suffix("")) not in toc]
    assert missing == [], "add these pages to _toc.yml"


def test_training_program_1_has_the_official_subjects_and_hours(syllabus, facts):
    subjects = [u for u in syllabus.in_stage("TP1") if u.kind == "subject"]
    assert len(subjects) == facts.value("program.tp1_subjects")
    for group in "ABCDE":
        codes = [u.code for u in subjects if u.group == group]
        assert codes == [f"TP1-{group}{n}" for n in range(1, len(codes) + 1)], f"group {group} is not numbered 1..n"
        assert codes, f"group {group} has no subject"
    total, _ = syllabus.total_hours("TP1")
    assert total == facts.value("program.tp1_hours"), "the per-subject hours must add up to the reported TP1 total"


def test_units_follow_the_stages_and_the_gates_close_them(syllabus):
    stage_order = list(syllabus.stages)
    positions = [stage_order.index(u.stage) for u in syllabus]
    assert positions == sorted(positions), "units must be listed stage by stage, in the official order"
    gates = [u for u in syllabus if u.kind == "gate"]
    assert len(gates) == 2
    for gate in gates:
        stage_units = syllabus.in_stage(gate.stage)
        assert stage_units[-1] == gate, f"{gate.code} must be the last unit of stage {gate.stage}"
    assert syllabus.units[-1].kind == "gate", "the completion test comes last"


def test_japanese_texts_have_no_stray_spaces(syllabus):
    """A folded YAML scalar (>-) joins lines with a space, which breaks Japanese text."""
    texts = [u.name_ja for u in syllabus] + [a.ja for u in syllabus for a in u.assumptions]
    texts += [t.ja for t in (*syllabus.notes.values(), *syllabus.documents.values())]
    texts += [c.name.ja for c in syllabus.competencies.values()] + [s.name.ja for s in syllabus.stages.values()]
    gap = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef] +[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
    assert [t for t in texts if gap.search(t)] == []


def test_durations_given_as_facts_exist(syllabus, facts):
    assert [u.duration_fact for u in syllabus if u.duration_fact and u.duration_fact not in facts] == []


def test_item_banks_tag_items_with_syllabus_units(syllabus):
    codes = {u.code for u in syllabus}
    unknown = []
    for bank in sorted((ROOT / "graders" / "items").glob("*.yml")):
        data = read_yaml(bank, what="item bank")
        tagged = [*data.get("units", []), *(item.get("unit") for item in data.get("items", []))]
        unknown += [f"{bank.name}: {code}" for code in tagged if code not in codes]
    assert unknown == [], "item banks name units that are not in book/syllabus.yml"


# -- every teaching page ----------------------------------------------------------------------

@pytest.mark.parametrize("page", TEACHING, ids=lambda p: p.stem)
def test_teaching_page_has_its_label_units_and_sources(page, syllabus, facts):
    text = page.read_text(encoding="utf-8")
    assert f"\n({page.stem})=\n" in "\n" + text, f"{page.name}: the page label must be ({page.stem})="
    shown = sorted(re.findall(r"^```\{syllabus-unit\}\s+(\S+)", text, flags=re.M))
    listed = sorted(u.code for u in syllabus.units_for_page(page.stem))
    assert shown == listed, f"{page.name} shows units {shown}, book/syllabus.yml lists it under {listed}"
    assert text.rstrip().endswith("```{fact-sources}\n```"), f"{page.name} must end with the sources block"
    ids = used_fact_ids([text]) | set(re.findall(r"F\[[\"']([a-z0-9_.]+)[\"']\]", text))
    assert sorted(i for i in ids if i not in facts) == []


@pytest.mark.parametrize("page", MODULES, ids=lambda p: p.stem)
def test_module_has_the_common_shape(page, syllabus):
    text = page.read_text(encoding="utf-8")
    parts = sections(text)
    titles = [t for t in parts if t in MODULE_SECTIONS]
    assert titles == list(MODULE_SECTIONS), f"{page.name}: sections must include, in this order, {MODULE_SECTIONS}"
    assert next(iter(parts)) == "Learning objectives" and list(parts)[-1] == "Sources"

    objectives = table_rows(parts["Learning objectives"])
    assert len(objectives) >= 3, f"{page.name}: at least three learning objectives"
    mapped = set()
    for row in objectives:
        assert re.fullmatch(r"C[1-4](, C[1-4])*", row[-1]), f"{page.name}: map {row[0]!r} to C1-C4"
        mapped |= set(row[-1].split(", "))
    (unit,) = syllabus.units_for_page(page.stem)
    assert mapped & set(unit.competencies), f"{page.name}: no objective develops {unit.code}'s competencies"

    example = parts["A worked consultation (fictional)"]
    assert ":::{admonition}" in example, f"{page.name}: the worked consultation is an admonition"
    assert "仮名" in example or "(fictional)" in example, f"{page.name}: mark pseudonyms (仮名) or the case as fictional"

    terms = table_rows(parts["Key terms"])
    assert len(terms) >= 5 and all(JAPANESE.search(r[-1]) for r in terms), f"{page.name}: key terms with Japanese"

    cell = re.search(r"```\{code-cell\} ipython3\n(.*?)```", parts["Self-check"], flags=re.S)
    assert cell, f"{page.name}: the self-check is a code cell"
    code = cell.group(1)
    assert ":tags: [remove-input]" in code and "SelfCheck(" in code
    assert code.count("Question(") >= 3, f"{page.name}: at least three self-check questions"
    assert "F = page_facts()" in code or "F[" not in code
