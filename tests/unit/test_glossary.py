"""The bilingual glossary: schema, uniqueness, ordering, and the Sphinx directive that renders it."""

import textwrap

import pytest

from coordkit.errors import CoordkitError
from coordkit.content.glossary import GlossaryError, load_glossary, used_terms

ENTRY = """\
  - id: residence_card
    en: residence card
    ja: 在留カード
    reading: ざいりゅうかーど
    easy_ja: 日本に長く住む外国人がもらう大切なカードです。
    see_also: [status_of_residence]
    domain: residence_procedures
  - id: status_of_residence
    en: status of residence
    ja: 在留資格
    reading: ざいりゅうしかく
    easy_ja: 日本でしてもよい活動や身分を決めたものです。
    domain: residence_procedures
  - id: hazard_map
    en: hazard map
    ja: ハザードマップ
    reading: はざーどまっぷ
    easy_ja: 危ない場所や逃げる場所を示した地図です。
    domain: disaster_preparedness
"""


def write(tmp_path, entries: str = ENTRY, head: str = "version: 1\nentries:\n"):
    path = tmp_path / "glossary.yml"
    path.write_text(head + textwrap.dedent(entries), encoding="utf-8")
    return path


def broken(tmp_path, old: str, new: str):
    assert old in ENTRY, old
    return write(tmp_path, ENTRY.replace(old, new, 1))


def test_entries_load_as_dataclasses(tmp_path):
    glossary = load_glossary(write(tmp_path))
    card = glossary["residence_card"]
    assert (card.en, card.ja, card.reading) == ("residence card", "在留カード", "ざいりゅうかーど")
    assert card.see_also == ("status_of_residence",)
    assert card.term("en") == "residence card" and card.term("ja") == "在留カード"
    assert glossary.find("Residence Card") is card and glossary.find("在留カード") is card
    assert glossary.find("visa") is None


def test_each_edition_has_its_own_order(tmp_path):
    glossary = load_glossary(write(tmp_path))
    assert [e.id for e in glossary.ordered("en")] == ["hazard_map", "residence_card", "status_of_residence"]
    # gojūon by reading: ざいりゅうかーど < ざいりゅうしかく < はざーどまっぷ
    assert [e.id for e in glossary.ordered("ja")] == ["residence_card", "status_of_residence", "hazard_map"]
    assert [e.id for e in glossary.for_domain("residence_procedures")] == ["residence_card", "status_of_residence"]


@pytest.mark.parametrize("old, new, expected", [
    ("    reading: ざいりゅうかーど\n", "", "missing reading"),
    ("reading: ざいりゅうかーど", "reading: ザイリュウカード", "hiragana"),
    ("ja: 在留カード", "ja: residence card (JA)", "has no Japanese"),
    ("en: residence card", "en: 在留カード card", "contains Japanese"),
    ("easy_ja: 日本に長く住む外国人がもらう大切なカードです。",
     "easy_ja: 大切なカードです。いつも持ってください。", "exactly one sentence"),
    ("easy_ja: 日本に長く住む外国人がもらう大切なカードです。",
     "easy_ja: 十六歳以上の人は、カードをいつも持っている必要があり、持っていないと１６万円以下の罰金です。",
     "number"),
    ("easy_ja: 日本に長く住む外国人がもらう大切なカードです。",
     "easy_ja: " + "とても" * 25 + "大切なカードです。", "keep it to"),
    ("domain: residence_procedures", "domain: visas", "not a life-domain chapter"),
    ("see_also: [status_of_residence]", "see_also: [status_of_residense]", "did you mean 'status_of_residence'"),
    ("see_also: [status_of_residence]", "see_also: [residence_card]", "must not repeat"),
    ("id: residence_card", "id: Residence-Card", "snake_case"),
    ("    domain: residence_procedures\n  - id: status", "    domian: residence_procedures\n  - id: status",
     "unknown key(s) ['domian']"),
])
def test_schema_errors_name_file_entry_and_fix(tmp_path, old, new, expected):
    path = broken(tmp_path, old, new)
    with pytest.raises(GlossaryError) as info:
        load_glossary(path)
    message = str(info.value)
    assert isinstance(info.value, CoordkitError)
    assert expected in message
    assert str(path) in message and "entry 1" in message


@pytest.mark.parametrize("old, new, clash", [
    ("id: hazard_map", "id: residence_card", "id 'residence_card' is defined twice"),
    ("en: hazard map", "en: Residence Card", "'Residence Card' is already used by 'residence_card'"),
    ("ja: ハザードマップ", "ja: 在留資格", "'在留資格' is already used by 'status_of_residence'"),
])
def test_ids_and_terms_are_unique(tmp_path, old, new, clash):
    """Both headwords become Sphinx glossary terms, so a term may head only one entry."""
    with pytest.raises(GlossaryError, match="entry 3") as info:
        load_glossary(broken(tmp_path, old, new))
    assert clash in str(info.value)


def test_file_level_errors(tmp_path):
    with pytest.raises(GlossaryError, match="not found"):
        load_glossary(tmp_path / "missing.yml")
    with pytest.raises(GlossaryError, match="top-level 'entries:'"):
        load_glossary(write(tmp_path, "", head="terms: []\n"))
    with pytest.raises(GlossaryError, match="duplicate key 'en'"):
        load_glossary(broken(tmp_path, "    ja: 在留カード\n", "    en: again\n    ja: 在留カード\n"))
    with pytest.raises(GlossaryError, match="unknown glossary entry 'residence_cards'.*'residence_card'"):
        load_glossary(write(tmp_path))["residence_cards"]


def test_used_terms_reads_plain_and_labelled_roles():
    text = "A {term}`residence card`, the {term}`card <status of\n  residence>` and {term}`在留カード`."
    assert used_terms([text]) == {"residence card", "status of residence", "在留カード"}


def test_shipped_glossary_covers_the_official_terms(root):
    glossary = load_glossary(root / "datasets" / "glossary.yml")
    assert len(glossary) >= 60
    official = ["在留資格", "在留カード", "在留期間更新", "一元的相談窓口", "外国人支援コーディネーター", "特例期間",
                "みなし再入国許可", "資格外活動許可", "脱退一時金", "出産育児一時金", "児童手当", "国民健康保険",
                "納税管理人", "配偶者暴力相談支援センター", "法テラス（日本司法支援センター）",
                "外国人在留支援センター（FRESC）", "やさしい日本語"]
    missing = [term for term in official if glossary.find(term) is None]
    assert not missing, f"datasets/glossary.yml lacks the official terms {missing}"


# --- the Sphinx directive ------------------------------------------------------------------------

def build(tmp_path, glossary_path, language):
    """A minimal Sphinx project using the extension; warnings are errors and references nitpicky."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / f"src_{language}"
    (src / "book" / "domains").mkdir(parents=True)
    (src / "conf.py").write_text(
        "extensions = ['coordkit.book.extensions.glossary']\n"
        f"coordkit_glossary_path = {str(glossary_path)!r}\n"
        f"language = {language!r}\nnitpicky = True\n", encoding="utf-8")
    (src / "index.rst").write_text(textwrap.dedent("""\
        Home
        ====

        .. toctree::

           glossary
           book/domains/residence_procedures
        """), encoding="utf-8")
    (src / "glossary.rst").write_text("Glossary\n========\n\n.. bilingual-glossary::\n", encoding="utf-8")
    (src / "book" / "domains" / "residence_procedures.rst").write_text(textwrap.dedent("""\
        Residence
        =========

        Bring your :term:`residence card` (:term:`在留カード`) and check your :term:`在留資格`.

        .. glossary-terms:: residence_procedures
        """), encoding="utf-8")
    out = tmp_path / f"out_{language}"
    with docutils_namespace():        # as sphinx-build does: each build registers its own nodes
        app = Sphinx(str(src), str(src), str(out), str(tmp_path / f"doctrees_{language}"), "html",
                     warningiserror=True, status=None, freshenv=True)
        app.build()
    return out


@pytest.mark.parametrize("language", ["en", "ja"])
def test_directive_emits_a_real_glossary_in_each_edition(tmp_path, language):
    out = build(tmp_path, write(tmp_path), language)
    glossary = (out / "glossary.html").read_text(encoding="utf-8")
    page = (out / "book" / "domains" / "residence_procedures.html").read_text(encoding="utf-8")
    # Both headwords are glossary terms with stable anchors, the edition's own term first.
    first, second = ("residence card", "在留カード") if language == "en" else ("在留カード", "residence card")
    assert glossary.index(f">{first}<") < glossary.index(f">{second}<")
    assert 'id="term-residence-card"' in glossary and 'id="term-residence-card-ja"' in glossary
    assert "日本に長く住む外国人がもらう大切なカードです。" in glossary and "ざいりゅうかーど" in glossary
    # Edition order: hazard map first in English, last in Japanese (は after ざ).
    hazard, card = glossary.index("term-hazard-map\""), glossary.index("term-residence-card\"")
    assert (hazard < card) if language == "en" else (hazard > card)
    # The entry links to its domain chapter; {term} roles in either language resolve to the glossary.
    assert "book/domains/residence_procedures.html" in glossary
    assert "glossary.html#term-residence-card\"" in page and "glossary.html#term-residence-card-ja\"" in page
    assert "glossary.html#term-status-of-residence-ja\"" in page
    # The key-terms table lists the domain's entries only.
    assert "coordkit-glossary-terms" in page and "hazard" not in page.split("coordkit-glossary-terms")[1]


def test_directive_fails_the_build_on_a_bad_glossary(tmp_path):
    from sphinx.errors import SphinxWarning

    path = broken(tmp_path, "reading: ざいりゅうかーど", "reading: zairyu")
    with pytest.raises(SphinxWarning, match="hiragana"):
        build(tmp_path, path, "en")
