"""coordkit.content.syllabus: loading and validating book/syllabus.yml, and matching it with the book's pages."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from coordkit.errors import CoordkitError
from coordkit.content.syllabus import SyllabusError, check_coverage, load_syllabus

BASE = {
    "version": 1,
    "documents": {"https://example.org/syllabus.pdf": {"en": "Draft syllabus", "ja": "シラバス（案）"}},
    "notes": {"hours": {"en": "Placeholder hours.", "ja": "仮の時間です。"}},
    "competencies": [{"code": "C1", "en": "Residence status", "ja": "在留状況"},
                     {"code": "C2", "en": "Cultures", "ja": "文化"}],
    "stages": [{"code": "TP1", "en": "Training Program 1", "ja": "養成課程1"},
               {"code": "PRACTICE", "en": "Practice", "ja": "実践"}],
    "units": [
        {"code": "TP1-A1", "kind": "subject", "stage": "TP1", "group": "A", "name_ja": "意義",
         "name_en": "Significance", "competencies": ["C1", "C2"], "hours": 4, "hours_status": "assumption",
         "pages": ["intro_page"], "source": "https://example.org/syllabus.pdf", "source_page": 2,
         "assumptions": ["hours"]},
        {"code": "TP1-B1", "kind": "subject", "stage": "TP1", "group": "B", "name_ja": "入管法",
         "name_en": "Immigration law", "competencies": ["C1"], "hours": 2.5, "hours_status": "confirmed",
         "pages": ["law_page"], "source": "https://example.org/syllabus.pdf"},
        {"code": "GATE-TP1", "kind": "gate", "stage": "TP1", "name_ja": "確認テスト", "name_en": "Test",
         "competencies": [], "hours_status": "not_applicable", "pages": ["tests_page"],
         "source": "https://example.org/syllabus.pdf",
         "assumptions": [{"en": "Pass mark unknown.", "ja": "合格基準は不明です。"}]},
        {"code": "PRACTICE", "kind": "practice", "stage": "PRACTICE", "name_ja": "実践", "name_en": "Practice",
         "competencies": ["C1", "C2"], "duration": {"fact": "program.practice_months"},
         "hours_status": "assumption", "pages": ["practice_page"], "source": "https://example.org/syllabus.pdf",
         "assumptions": [{"en": "Length not confirmed.", "ja": "期間は未確認です。"}]},
    ],
    "supplementary": [{"page": "extra_page", "reason": "Background reading"}],
}


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "syllabus.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def variant(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def test_loads_units_in_order_with_their_fields(tmp_path):
    syllabus = load_syllabus(write(tmp_path, BASE))
    assert [u.code for u in syllabus] == ["TP1-A1", "TP1-B1", "GATE-TP1", "PRACTICE"]
    a1 = syllabus["TP1-A1"]
    assert (a1.group, a1.competencies, a1.hours, a1.assumed_hours) == ("A", ("C1", "C2"), 4, True)
    assert a1.assumptions[0].get("ja") == "仮の時間です。"
    assert a1.name("ja") == "意義" and a1.name("en") == "Significance"
    assert syllabus["PRACTICE"].duration_fact == "program.practice_months"
    assert syllabus.units_for_page("law_page") == (syllabus["TP1-B1"],)
    assert syllabus.document_title("https://example.org/syllabus.pdf", "ja") == "シラバス（案）"
    assert syllabus.supplementary == {"extra_page": "Background reading"}


def test_total_hours_sums_a_stage_and_flags_assumptions(tmp_path):
    syllabus = load_syllabus(write(tmp_path, BASE))
    assert syllabus.total_hours("TP1") == (6.5, True)
    confirmed = load_syllabus(write(tmp_path, variant(lambda d: d["units"].pop(0))))
    assert confirmed.total_hours("TP1") == (2.5, False)
    assert confirmed.total_hours("PRACTICE") == (0, False)


def test_unknown_unit_names_the_known_ones(tmp_path):
    syllabus = load_syllabus(write(tmp_path, BASE))
    with pytest.raises(SyllabusError, match="unknown syllabus unit 'TP1-Z9'.*TP1-A1, TP1-B1"):
        syllabus["TP1-Z9"]


def _unit(i: int, **changes):
    def change(data):
        data["units"][i].update(changes)
        for key, value in changes.items():
            if value is None:
                del data["units"][i][key]
    return change


@pytest.mark.parametrize("change, message", [
    (lambda d: d["units"].append(copy.deepcopy(d["units"][0])), "code 'TP1-A1' is used twice"),
    (_unit(0, competencies=["C1", "C9"]), r"unit TP1-A1: competencies must be .* from C1, C2"),
    (_unit(1, competencies=[]), "unit TP1-B1: name the competencies"),
    (_unit(0, group=None), "unit TP1-A1: a subject needs a group"),
    (_unit(0, group="B"), "unit TP1-A1: the code of a group B subject of stage TP1 must start with 'TP1-B'"),
    (_unit(2, group="A"), "unit GATE-TP1: only subjects have a group"),
    (_unit(0, stage="TP9"), "unit TP1-A1: stage 'TP9' is not one of the stages TP1, PRACTICE"),
    (_unit(0, kind="lecture"), "unit TP1-A1: kind 'lecture'"),
    (_unit(0, hours_status="guess"), "unit TP1-A1: hours_status 'guess'"),
    (_unit(0, hours=-1), "unit TP1-A1: hours -1 must be a positive number"),
    (_unit(0, assumptions=None), "unit TP1-A1: the study time is an assumption; say why"),
    (_unit(2, hours=3), "unit GATE-TP1: hours_status is not_applicable, so remove hours"),
    (_unit(1, hours=None), "unit TP1-B1: give hours or a duration"),
    (_unit(0, pages=[]), "unit TP1-A1: pages must be a non-empty list"),
    (_unit(0, pages=["Intro Page.md"]), r"unit TP1-A1: pages must be .*\(file stems"),
    (_unit(0, pages=None), "unit TP1-A1: missing pages"),
    (_unit(0, page=["intro_page"]), r"unit TP1-A1: unknown key\(s\) \['page'\]"),
    (_unit(0, assumptions=["hourz"]), "unit TP1-A1: assumption 'hourz' is not one of the notes"),
    (_unit(0, source="syllabus p. 2"), "unit TP1-A1: source 'syllabus p. 2' is not a URL"),
    (_unit(3, duration={"en": "3 months"}), "unit PRACTICE: duration .* must be a mapping with a non-empty 'en' and 'ja'"),
    (_unit(0, code="tp1-a1"), "unit 1: code 'tp1-a1' must look like 'TP1-B2'"),
    (lambda d: d["supplementary"].append({"page": "law_page", "reason": "x"}),
     "page 'law_page' teaches TP1-B1, so it is not supplementary"),
    (lambda d: d["supplementary"].append({"page": "other"}), "supplementary entry 2: expected"),
    (lambda d: d.update(unit=[]), r"unknown top-level key\(s\) \['unit'\]"),
    (lambda d: d.update(units=[]), "expected a top-level 'units:' list"),
    (lambda d: d.update(stages=[{"code": "TP1", "en": "x"}]), r"stages entry 1 \(TP1\): the name must be"),
])
def test_bad_input_names_the_file_the_unit_and_the_fix(tmp_path, change, message):
    path = write(tmp_path, variant(change))
    with pytest.raises(SyllabusError, match=message) as info:
        load_syllabus(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, CoordkitError)        # the CLI prints it as one line


def test_malformed_or_missing_file_is_a_syllabus_error(tmp_path):
    path = tmp_path / "syllabus.yml"
    path.write_text("units:\n  - code: TP1-A1\n    code: TP1-A2\n", encoding="utf-8")
    with pytest.raises(SyllabusError, match=r"syllabus.yml line 3: malformed YAML \(duplicate key 'code'"):
        load_syllabus(path)
    with pytest.raises(SyllabusError, match="not found"):
        load_syllabus(tmp_path / "missing.yml")


def _book(tmp_path: Path, *files: str) -> Path:
    book = tmp_path / "book"
    for name in files:
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        (book / name).write_text("# page\n", encoding="utf-8")
    return book


def test_coverage_is_ok_when_units_and_pages_match(tmp_path):
    syllabus = load_syllabus(write(tmp_path, BASE))
    book = _book(tmp_path, "modules/intro_page.md", "modules/law_page.md", "program/tests_page.md",
                 "program/practice_page.md", "modules/extra_page.md", "guides/anything.md")
    coverage = check_coverage(syllabus, book_dir=book)
    assert coverage.ok and coverage.problems() == []
    assert coverage.pages["law_page"] == book / "modules" / "law_page.md"


def test_coverage_reports_missing_orphan_and_ambiguous_pages(tmp_path):
    syllabus = load_syllabus(write(tmp_path, BASE))
    book = _book(tmp_path, "modules/intro_page.md", "program/tests_page.md", "program/practice_page.md",
                 "modules/untaught.md", "domains/law_page.md", "modules/law_page.md",
                 "guides/untaught_guide.md", "modules/_draft/law_page.md")
    coverage = check_coverage(syllabus, book_dir=book)
    assert not coverage.ok
    assert coverage.missing == ()
    assert coverage.orphans == (book / "modules" / "untaught.md",)        # guides/ is not a teaching folder
    assert coverage.ambiguous == ("law_page",)                           # _draft/ is ignored
    problems = coverage.problems()
    assert any("untaught.md: teaches no syllabus unit" in p and "supplementary" in p for p in problems)
    assert any("page label 'law_page' is used by more than one file" in p for p in problems)

    (book / "domains" / "law_page.md").unlink()
    (book / "program" / "practice_page.md").unlink()
    coverage = check_coverage(syllabus, book_dir=book)
    assert coverage.missing == (("PRACTICE", "practice_page"),)
    assert "unit PRACTICE: no page practice_page.md under book/" in coverage.problems()[0]


# -- the Sphinx extension, on a tiny project (no kernels) ----------------------------------------

FACTS = """\
version: 1
facts:
  - id: program.practice_months
    value: 3
    unit: months
    period: false
    en: About {value} of practice.
    ja: 約{value}の実践です。
    source: https://example.org/practice
    source_kind: NEWS
    verified: 2026-11-27
"""


NEW_EXTENSIONS = ("coordkit.book.extensions.facts", "coordkit.book.extensions.syllabus")


def _sphinx_build(tmp_path: Path, pages: dict[str, str], *,
                  extensions: tuple[str, ...] = NEW_EXTENSIONS) -> tuple[Path, str]:
    """Build `pages` (docname -> MyST text) with the syllabus BASE; return the HTML folder and warnings."""
    import io

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    write(src, BASE)
    (src / "facts.yml").write_text(FACTS, encoding="utf-8")
    (src / "conf.py").write_text(
        f'extensions = {["myst_parser", *extensions]!r}\n'
        'coordkit_facts_path = "facts.yml"\ncoordkit_syllabus_path = "syllabus.yml"\n'
        'exclude_patterns = ["_build"]\n', encoding="utf-8")
    toc = "\n".join(pages)
    (src / "index.md").write_text(f"# Book\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for docname, text in pages.items():
        (src / f"{docname}.md").parent.mkdir(parents=True, exist_ok=True)
        (src / f"{docname}.md").write_text(text, encoding="utf-8")
    warnings = io.StringIO()
    from sphinx.util.docutils import docutils_namespace

    with docutils_namespace():        # each build registers its own nodes, as sphinx-build does
        app = Sphinx(str(src), str(src), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                     status=None, warning=warnings, freshenv=True)
        app.build()
    return tmp_path / "html", warnings.getvalue()


PAGES = {
    "modules/intro_page": "# Intro\n\n```{syllabus-unit} TP1-A1\n```\n",
    "modules/law_page": "# Law\n\n```{syllabus-unit} TP1-B1\n```\n",
    "program/tests_page": "# Tests\n\n```{syllabus-unit} GATE-TP1\n```\n",
    "program/practice_page": "# Practice\n\n```{syllabus-unit} PRACTICE\n```\n\n```{fact-sources}\n```\n",
    "map": "# Map\n\n```{curriculum-map}\n```\n\n```{fact-sources}\n```\n",
}


def test_curriculum_map_links_every_unit_and_labels_assumptions(tmp_path):
    html_dir, warnings = _sphinx_build(tmp_path, PAGES)
    assert warnings == ""
    html = (html_dir / "map.html").read_text(encoding="utf-8")
    for unit, page in (("TP1-A1", "modules/intro_page"), ("GATE-TP1", "program/tests_page"),
                       ("PRACTICE", "program/practice_page")):
        assert unit in html and f'href="{page}.html"' in html
    assert "4 h" in html and "2.5 h" in html and "6.5 h in all" in html
    assert html.count("(assumption)") == 3                       # TP1-A1, PRACTICE, and the TP1 total
    assert "3 months" in html and 'href="https://example.org/practice"' in html   # duration from the fact
    assert "TP1-A1: Placeholder hours." in html and "GATE-TP1: Pass mark unknown." in html
    page = (html_dir / "program" / "practice_page.html").read_text(encoding="utf-8")
    assert "Syllabus unit PRACTICE" in page and "Length not confirmed." in page
    assert "About 3 months of practice." in page                 # listed in the page's sources


def test_a_book_whose_configuration_names_the_old_extension_paths_builds_the_same(tmp_path):
    """Released course books name coordkit.sphinx_facts / coordkit.sphinx_syllabus (before issue #15)."""
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    new_dir, new_warnings = _sphinx_build(tmp_path / "new", PAGES)
    old_dir, old_warnings = _sphinx_build(tmp_path / "old", PAGES,
                                          extensions=("coordkit.sphinx_facts", "coordkit.sphinx_syllabus"))
    assert old_warnings == new_warnings == ""
    for page in ("map.html", "program/practice_page.html"):
        old = (old_dir / page).read_text(encoding="utf-8")
        assert "Syllabus unit" in old or "6.5 h in all" in old
        assert old == (new_dir / page).read_text(encoding="utf-8")


def test_a_page_showing_a_unit_it_does_not_teach_is_a_warning(tmp_path):
    pages = dict(PAGES, **{"modules/law_page": "# Law\n\n```{syllabus-unit} TP1-A1\n```\n"})
    _, warnings = _sphinx_build(tmp_path, pages)
    assert "page 'law_page' shows unit TP1-A1, but book/syllabus.yml lists TP1-A1 under intro_page" in warnings


def test_a_unit_page_missing_from_the_book_is_a_warning(tmp_path):
    pages = {k: v for k, v in PAGES.items() if k != "program/practice_page"}
    _, warnings = _sphinx_build(tmp_path, pages)
    assert "PRACTICE: page 'practice_page' of book/syllabus.yml is not in the book" in warnings
