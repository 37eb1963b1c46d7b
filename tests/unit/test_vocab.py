"""Each vocabulary is defined once, in coordkit.content.vocab; the modules that validate, simulate or show the
values use it, and weights kept elsewhere cover exactly its values."""

import pytest

from coordkit.content import vocab


def _literal(values) -> str:
    """How a tuple of the first three values is spelled in source: "a", "b", "c"."""
    return ", ".join(f'"{v}"' for v in list(values)[:3])


VOCABULARIES = {"STAGES": vocab.STAGES, "COMPETENCIES": vocab.COMPETENCIES, "LIFE_DOMAINS": vocab.LIFE_DOMAINS,
                "DOMAIN_CHAPTERS": tuple(vocab.DOMAIN_CHAPTERS), "ORG_TYPES": vocab.ORG_TYPES,
                "PREFECTURES": vocab.PREFECTURES}


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_no_other_module_spells_out_a_vocabulary(root, name):
    needle = _literal(VOCABULARIES[name])
    spelled = [p.relative_to(root).as_posix() for p in (root / "src" / "coordkit").rglob("*.py")
               if p.name != "vocab.py" and needle in p.read_text(encoding="utf-8")]
    assert spelled == [], f"{name} is spelled out in {spelled}; import it from coordkit.content.vocab"


def test_the_modules_use_the_shared_vocabularies():
    from coordkit import cohort, register
    from coordkit.content import banks, glossary

    assert banks.DOMAINS is vocab.LIFE_DOMAINS and banks.COMPETENCIES is vocab.COMPETENCIES
    assert glossary.DOMAINS == tuple(vocab.DOMAIN_CHAPTERS)
    assert register.PREFECTURES is vocab.PREFECTURES
    assert cohort.STAGES is vocab.STAGES and cohort.ORG_TYPES is vocab.ORG_TYPES and cohort.TOPICS is vocab.TOPICS
    assert cohort.COMPETENCY_USE == ("uses_c1", "uses_c2", "uses_c3", "uses_c4")


def test_every_book_chapter_covers_a_known_life_domain(root):
    assert set(vocab.DOMAIN_CHAPTERS.values()) <= set(vocab.LIFE_DOMAINS)
    for chapter in vocab.DOMAIN_CHAPTERS:
        assert (root / "book" / "domains" / f"{chapter}.md").is_file(), chapter


def test_the_simulations_weights_cover_the_vocabularies():
    from coordkit import simulate

    assert set(simulate.PREFECTURE_WEIGHTS) <= set(vocab.PREFECTURES)
    assert set(simulate.ORG_TYPE_WEIGHTS) == set(vocab.ORG_TYPES) == set(vocab.ORG_TYPE_LABELS)
    assert set(simulate.TOPIC_WEIGHTS) == set(vocab.TOPICS)


def test_the_stages_have_labels_and_outcomes():
    assert set(vocab.STAGE_LABELS) == set(vocab.SUCCESS) == set(vocab.STAGES)
    assert set(vocab.FAILURE) <= set(vocab.STAGES) and set(vocab.GATES) <= set(vocab.STAGES)
    from coordkit.rule import GATE_FIELDS

    assert set(vocab.GATES) <= set(GATE_FIELDS)
